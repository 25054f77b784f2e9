"""One rule for a NULL privacy unit, in every place that counts people (null_unit_project).

A NULL unit never makes the data look safer: it adds nobody to a class's (or cell's) size -- a
class of such rows only has 0 people and is below every k -- and in the risk measures each such row
is still a record of its own, at the risk of its class (1 for a class of 0 people). visits plants a
class whose NULL rows would lift it to k if they were people, and a class of NULL units only; every
number below is recomputed in plain Python from the rows (risk: tests/risk_oracle.py).
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import duckdb
import pytest

from dbt_harness import DbtResult, dbt, dbt_project
from python_checks.cli import main
from risk_oracle import prosecutor

pytestmark = pytest.mark.dbt

QIS = ["zip", "age_band"]
K, MAX_RISK = 3, 0.4


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> DbtResult:
    project = dbt_project("null_unit_project", tmp_path_factory.mktemp("null_unit"))
    return dbt(project, "build", check=True)  # the planted failures are warnings: every model builds


def _database(result: DbtResult) -> Path:
    return result.project_dir.parent / "null_unit_project.duckdb"


def _query(result: DbtResult, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(_database(result)), read_only=True) as connection:
        return connection.execute(sql).fetchall()


@pytest.fixture(scope="module")
def rows(build: DbtResult) -> list[dict[str, Any]]:
    return [dict(zip(["person_id", *QIS], row)) for row in _query(build, f"select person_id, {', '.join(QIS)} from visits")]


def _groups(rows: list[dict[str, Any]], columns: list[str]) -> dict[tuple, list[dict[str, Any]]]:
    groups: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[tuple(row[c] for c in columns)].append(row)
    return groups


def _people(rows: list[dict[str, Any]]) -> int:
    return len({row["person_id"] for row in rows if row["person_id"] is not None})


def _small(rows: list[dict[str, Any]]) -> set[tuple]:
    return {key for key, members in _groups(rows, QIS).items() if _people(members) < K}


def test_the_fixture_plants_what_the_rule_decides(rows: list[dict[str, Any]]) -> None:
    """A class that NULL rows would lift to k if they were people, and a class of NULL rows only."""
    classes = _groups(rows, QIS)
    assert {key: (_people(members), len(members)) for key, members in classes.items() if _people(members) < K} == {
        ("102", "30-39"): (2, 4), ("103", "40-49"): (0, 2),
    }
    lifted = classes["102", "30-39"]
    assert _people(lifted) + sum(1 for row in lifted if row["person_id"] is None) >= K


def test_generic_tests_count_a_null_unit_as_nobody(build: DbtResult, rows: list[dict[str, Any]]) -> None:
    classes = _groups(rows, QIS)
    expected_k = sorted(("k", K, _people(classes[key]), len(classes[key])) for key in _small(rows))
    assert sorted(_query(build, 'select * from main_dbt_test__audit."null_unit_k"')) == expected_k
    cells = _groups(rows, ["zip"])
    expected_cells = sorted(("k", K, "people", _people(members)) for members in cells.values() if _people(members) < K)
    assert sorted(_query(build, 'select * from main_dbt_test__audit."null_unit_cells"')) == expected_cells == [("k", K, "people", 0), ("k", K, "people", 2)]


def test_suppression_macros_count_a_null_unit_as_nobody(build: DbtResult, rows: list[dict[str, Any]]) -> None:
    small = _small(rows)
    as_tuples = [(row["person_id"], *(row[q] for q in QIS)) for row in rows]
    kept = sorted((row for row in as_tuples if tuple(row[1:]) not in small), key=str)
    assert sorted(_query(build, f"select person_id, {', '.join(QIS)} from visits_suppressed"), key=str) == kept
    blanked = sorted(((row[0], None, None) if tuple(row[1:]) in small else row for row in as_tuples), key=str)
    assert sorted(_query(build, f"select person_id, {', '.join(QIS)} from visits_blanked"), key=str) == blanked
    cells = _groups(rows, ["zip"])
    published = {zip_code: (len(members) if _people(members) >= K else None) for (zip_code,), members in cells.items()}
    assert dict(_query(build, "select zip, visits from zip_counts")) == published
    assert published["102"] is None and published["103"] is None


MEASURES = ["records", "classes", "smallest_class", "sample_uniques", "max_risk", "average_risk", "records_at_risk", "marketer_risk"]


def test_risk_macros_count_a_null_unit_as_nobody_and_keep_its_record(build: DbtResult, rows: list[dict[str, Any]]) -> None:
    expected = prosecutor(rows, QIS, MAX_RISK, unit="person_id")
    # 8 people and 5 rows without a unit; the class of NULL units only has 0 people and risk 1.
    assert (expected["records"], expected["smallest_class"], expected["max_risk"]) == (13, 0, 1.0)
    with duckdb.connect(str(_database(build)), read_only=True) as connection:
        cursor = connection.execute("select * from visits_risk")
        measured = dict(zip([column[0] for column in cursor.description], cursor.fetchone()))
    assert {key: measured[key] for key in MEASURES} == {key: pytest.approx(expected[key], rel=1e-12) for key in MEASURES}
    classes = _groups(rows, QIS)
    at_risk = sorted(("record_risk", size, 1 / max(size, 1)) for size in (_people(members) for members in classes.values()) if size * MAX_RISK < 1)
    assert sorted(_query(build, 'select * from main_dbt_test__audit."null_unit_risk"')) == at_risk == [("record_risk", 0, 1.0), ("record_risk", 2, 0.5)]


def test_privacy_guard_risk_counts_a_null_unit_as_nobody(capsys: pytest.CaptureFixture[str], build: DbtResult, rows: list[dict[str, Any]]) -> None:
    code = main(["risk", "--database", str(_database(build)), "--relation", "visits", "--qi", "zip", "--qi", "age_band",
                 "--privacy-unit", "person_id", "--threshold", str(MAX_RISK), "--format", "json"])
    document = json.loads(capsys.readouterr().out)
    expected = prosecutor(rows, QIS, MAX_RISK, unit="person_id")
    assert code == 0
    assert {key: document[key] for key in MEASURES} == {key: pytest.approx(expected[key], rel=1e-12) for key in MEASURES}
