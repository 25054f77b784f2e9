"""`privacy-guard simulate-join` against the join actually built: two department tables cut from
Adult (one person may have several clinic rows, some have none), the inner join materialized in
DuckDB and its classes counted in pure Python, also with each column one level more general.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import duckdb
import pytest

from python_checks.cli import main
from risk_oracle import ADULT_COLUMNS, adult_hierarchy, hierarchy_file
from dbt_harness import ADULT_DIR

LEFT_QIS = ["age", "sex"]
RIGHT_QIS = ["education", "occupation"]
K = 5


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("simulate") / "departments.duckdb"
    source = f"read_csv('{ADULT_DIR / 'adult.csv'}', delim=';', header=true)"
    with duckdb.connect(str(path)) as connection:
        connection.execute(f"create table adult as select row_number() over () as line, * from {source}")
        connection.execute("create table hr as select line as employee_id, age, sex, race from adult")
        # every 3rd person visits twice, people above 20000 never; the clinic's own ids start at 0
        connection.execute(
            'create table clinic as select line % 20000 as patient_id, education, occupation, "native-country" from adult'
            " union all select line, education, occupation, 'x' from adult where line % 3 = 0"
        )
        connection.execute("create table joined as select * from hr join clinic on hr.employee_id = clinic.patient_id")
    return path


def joined_rows(database: Path) -> list[dict[str, str]]:
    with duckdb.connect(str(database), read_only=True) as connection:
        cursor = connection.execute("select * from joined")
        columns = [column[0] for column in cursor.description]
        return [{column: str(value) for column, value in zip(columns, row)} for row in cursor.fetchall()]


def measure(rows: list[dict[str, str]], generalized: str | None = None) -> dict[str, int]:
    hierarchies = {column: adult_hierarchy(column) for column in ADULT_COLUMNS}

    def value(row: dict[str, str], column: str) -> str:
        return hierarchies[column][row[column]][1] if column == generalized else row[column]

    sizes = Counter(tuple(value(row, column) for column in LEFT_QIS + RIGHT_QIS) for row in rows)
    return {
        "rows": len(rows),
        "classes": len(sizes),
        "uniques": sum(1 for size in sizes.values() if size == 1),
        "smallest_class": min(sizes.values()),
        "rows_below_k": sum(size for size in sizes.values() if size < K),
    }


def run(capsys: pytest.CaptureFixture[str], *arguments: str) -> tuple[int, str, str]:
    code = main(["simulate-join", *arguments])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def base(database: Path) -> list[str]:
    arguments = ["--database", str(database), "--left", "hr", "--right", "clinic", "--on", "employee_id=patient_id", "--k", str(K)]
    arguments += [item for column in LEFT_QIS for item in ("--left-qi", column)]
    return arguments + [item for column in RIGHT_QIS for item in ("--right-qi", column)]


def test_matches_the_built_join(capsys: pytest.CaptureFixture[str], database: Path) -> None:
    hierarchies = [f"--hierarchy=left.{column}={hierarchy_file(column)}" for column in LEFT_QIS]
    hierarchies += [f"--hierarchy=right.{column}={hierarchy_file(column)}" for column in RIGHT_QIS]
    code, out, _ = run(capsys, *base(database), *hierarchies, "--format", "json")
    assert code == 0
    document = json.loads(out)
    rows = joined_rows(database)
    assert document["joined"] == measure(rows)
    assert document["joined"]["rows"] > 30162  # the fan-out of the double visits is counted
    expected = {f"{side}.{column}": measure(rows, column) for side, columns in (("left", LEFT_QIS), ("right", RIGHT_QIS)) for column in columns}
    assert document["generalized"] == expected
    best = min(expected, key=lambda name: (expected[name]["rows_below_k"], -expected[name]["smallest_class"], expected[name]["uniques"], name))
    assert document["best"] == best
    assert expected[best]["rows_below_k"] < document["joined"]["rows_below_k"]
    assert document["quasi_identifiers"] == ["left.age", "left.sex", "right.education", "right.occupation"]


def test_text_names_the_best_generalization(capsys: pytest.CaptureFixture[str], database: Path) -> None:
    code, out, _ = run(capsys, *base(database), "--hierarchy", f"left.age={hierarchy_file('age')}")
    rows = joined_rows(database)
    joined, coarser = measure(rows), measure(rows, "age")
    assert code == 0
    assert f"classes: {joined['classes']}; smallest: {joined['smallest_class']}; uniques: {joined['uniques']}" in out
    assert f"left.age: classes {coarser['classes']}, smallest {coarser['smallest_class']}, uniques {coarser['uniques']}, below k {coarser['rows_below_k']}  <- gains most" in out


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--left", "nope"], "--left nope: no such table or view"),
        (["--on", "x"], "--on x: expected LEFT_COLUMN=RIGHT_COLUMN"),
        (["--on", "race=pid"], "--on (right) pid: relation clinic has no such column"),
        (["--left-qi", "zip"], "--left-qi zip: relation hr has no such column"),
        (["--hierarchy", f"age={hierarchy_file('age')}"], "--hierarchy age=...: expected one of left.age"),
        (["--hierarchy", f"left.sex={hierarchy_file('race')}"], "--hierarchy left.sex: 2 value(s) of hr.sex are not in the hierarchy"),
        (["--k", "0"], "--k 0: must be at least 1"),
    ],
)
def test_bad_input(capsys: pytest.CaptureFixture[str], database: Path, arguments: list[str], message: str) -> None:
    code, out, err = run(capsys, *base(database), *arguments)
    assert (code, out) == (2, "")
    assert len(err.strip().splitlines()) == 1 and message in err, err
