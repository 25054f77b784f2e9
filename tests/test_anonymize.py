"""`privacy-guard anonymize` on Adult: ARX's published optima, losses and suppression checked against
ARX's own test values and a pure-Python brute force over the whole lattice (tests/risk_oracle.py);
the model it writes is built by dbt and passes k_anonymity with exactly the predicted rows.
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import duckdb
import pytest

from dbt_harness import ADULT_DIR, dbt, dbt_project
from python_checks.cli import main
from risk_oracle import ADULT_COLUMNS, adult_hierarchy, adult_rows, brute_force_optimum, combinations, evaluate, hierarchy_file, non_uniform_entropy, pairs

ARX_OPTIMA = {  # ARX TestAnonymizationKAnonymity (adult.csv, k=5, createPrecomputedEntropyMetric(0.1, true))
    0.0: ((1, 2, 1, 1, 3, 2, 2, 1, 1), 407289.5388925293),
    0.04: ((1, 0, 1, 1, 3, 2, 2, 0, 1), 255559.85455731067),
}
LATTICE_SIZE = 2 * 5 * 2 * 3 * 4 * 3 * 3 * 3 * 2


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    return adult_rows()


@pytest.fixture(scope="module")
def adult_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Adult in a DuckDB file as `adult`, plus `renamed`: the columns shuffled and renamed."""
    path = tmp_path_factory.mktemp("anonymize") / "adult.duckdb"
    shuffled = ADULT_COLUMNS[:]
    random.Random(13).shuffle(shuffled)
    with duckdb.connect(str(path)) as connection:
        connection.execute(f"create table adult as select * from read_csv('{ADULT_DIR / 'adult.csv'}', delim=';', header=true)")
        renamed = ", ".join(f'"{column}" as "q_{index}"' for index, column in enumerate(shuffled))
        connection.execute(f"create table renamed as select {renamed} from adult")
    (path.parent / "order.json").write_text(json.dumps(shuffled))
    return path


def run(capsys: pytest.CaptureFixture[str], *arguments: str) -> tuple[int, str, str]:
    code = main(["anonymize", *arguments])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("suppression", sorted(ARX_OPTIMA))
def test_adult_optimum_matches_arx(capsys: pytest.CaptureFixture[str], adult_db: Path, rows: list[dict[str, str]], suppression: float) -> None:
    code, out, _ = run(capsys, "--database", str(adult_db), "--relation", "adult", *pairs(ADULT_COLUMNS), "--k", "5",
                       "--max-suppression", str(suppression), "--format", "json")
    assert code == 0
    document = json.loads(out)
    assert list(document) == ["levels", "k", "suppressed_rows", "loss", "metric", "nodes_checked"]
    levels, arx_loss = ARX_OPTIMA[suppression]
    assert document["levels"] == dict(zip(ADULT_COLUMNS, levels))
    assert document["metric"] == "entropy"
    hierarchies = {column: adult_hierarchy(column) for column in ADULT_COLUMNS}
    combos = combinations(rows, ADULT_COLUMNS)
    assert document["loss"] == pytest.approx(arx_loss, rel=1e-12)
    assert document["loss"] == pytest.approx(non_uniform_entropy(combos, ADULT_COLUMNS, levels, hierarchies), rel=1e-12)
    measured = evaluate(combos, ADULT_COLUMNS, levels, hierarchies, k=5)
    assert document["suppressed_rows"] == measured["suppressed"] <= math.floor(suppression * len(rows))
    assert document["k"] == measured["k"] >= 5
    # Flash-like pruning: a small part of the lattice is grouped
    assert 0 < document["nodes_checked"] < LATTICE_SIZE / 10


def test_result_independent_of_column_order_and_names(capsys: pytest.CaptureFixture[str], adult_db: Path) -> None:
    shuffled = json.loads((adult_db.parent / "order.json").read_text())
    arguments = []
    for index, column in enumerate(shuffled):
        arguments += ["--qi", f"q_{index}", "--hierarchy", f"q_{index}={hierarchy_file(column)}"]
    for suppression, (levels, loss) in ARX_OPTIMA.items():
        code, out, _ = run(capsys, "--database", str(adult_db), "--relation", "renamed", *arguments, "--k", "5",
                           "--max-suppression", str(suppression), "--format", "json")
        assert code == 0
        document = json.loads(out)
        expected = dict(zip(ADULT_COLUMNS, levels))
        assert document["levels"] == {f"q_{index}": expected[column] for index, column in enumerate(shuffled)}
        assert document["loss"] == pytest.approx(loss, rel=1e-12)


SMALL = ["age", "education", "marital-status", "native-country"]
L_QIS = [column for column in ADULT_COLUMNS if column != "occupation"]


@pytest.mark.parametrize(
    ("metric", "k", "suppression", "l_value"),
    [("entropy", 10, 0.02, None), ("discernibility", 10, 0.02, None), ("height", 10, 0.02, None),
     ("discernibility", 3, 0.0, None), ("entropy", 5, 0.01, 2)],
)
def test_optimum_equals_brute_force(
    capsys: pytest.CaptureFixture[str], adult_db: Path, rows: list[dict[str, str]], metric: str, k: int, suppression: float, l_value: int | None
) -> None:
    diversity = ["--l", str(l_value), "--sensitive", "occupation"] if l_value else []
    code, out, _ = run(capsys, "--database", str(adult_db), "--relation", "adult", *pairs(SMALL), "--k", str(k),
                       "--max-suppression", str(suppression), "--metric", metric, *diversity, "--format", "json")
    assert code == 0
    document = json.loads(out)
    best, optima = brute_force_optimum(rows, SMALL, k, suppression, metric, l_value, "occupation" if l_value else None)
    assert document["loss"] == pytest.approx(best, rel=1e-12)
    assert tuple(document["levels"][column] for column in SMALL) in optima
    hierarchies = {column: adult_hierarchy(column) for column in SMALL}
    combos = combinations(rows, [*SMALL, "occupation"])
    measured = evaluate(combos, SMALL, [document["levels"][column] for column in SMALL], hierarchies, k, l_value)
    assert (document["suppressed_rows"], document["k"]) == (measured["suppressed"], measured["k"])


def test_text_report_shows_utility(capsys: pytest.CaptureFixture[str], adult_db: Path, rows: list[dict[str, str]]) -> None:
    code, out, err = run(capsys, "--database", str(adult_db), "--relation", "adult", *pairs(ADULT_COLUMNS), "--k", "5", "--max-suppression", "0.04")
    assert code == 0
    levels = ARX_OPTIMA[0.04][0]
    hierarchies = {column: adult_hierarchy(column) for column in ADULT_COLUMNS}
    combos = combinations(rows, ADULT_COLUMNS)
    measured = evaluate(combos, ADULT_COLUMNS, levels, hierarchies, k=5)
    average = (len(rows) - measured["suppressed"]) / measured["classes"]
    assert f"achieved k: {measured['k']}; kept classes: {measured['classes']}; average class size: {average:.2f}" in out
    assert f"non-uniform entropy: {non_uniform_entropy(combos, ADULT_COLUMNS, levels, hierarchies):.4f};" in out
    assert f"suppressed rows: {measured['suppressed']} ({measured['suppressed'] / len(rows):.2%})" in out
    assert f"discernibility: {measured['discernibility']:.0f}; height: {sum(levels)}" in out
    assert "  age             0 / 4" in out and "  education       3 / 3" in out
    assert "privacy_guard.suppress_small_groups('generalized'" in err  # the snippet, without --write-model


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--relation", "nope"], "--relation nope: no such table or view"),
        (["--qi", "zip"], "--qi zip: no --hierarchy zip=FILE.csv given"),
        (["--qi", "zip", "--hierarchy", f"zip={hierarchy_file('sex')}"], "--qi zip: relation adult has no such column"),
        (["--model", "adult"], "--model: the relation, quasi-identifiers and hierarchies come from the manifest"),
        (["--qi", "race", "--hierarchy", "race"], "--hierarchy race: expected COLUMN=FILE.csv"),
        (["--qi", "race", "--hierarchy", "race=/nonexistent.csv"], "--hierarchy race: /nonexistent.csv: No such file"),
        (["--qi", "race", "--hierarchy", f"race={hierarchy_file('sex')}"], "--hierarchy race: 5 value(s) of the column are not in the hierarchy"),
        (["--k", "0"], "--k 0: must be at least 1"),
        (["--max-suppression", "1.5"], "--max-suppression 1.5: must be a fraction"),
        (["--l", "2"], "--l and --sensitive: give both or neither"),
        (["--l", "2", "--sensitive", "sex"], "--sensitive sex: is also a --qi column"),
        (["--k", "40000", "--format", "json"], "no generalization satisfies the requirement"),
        (["--write-seeds", "/nonexistent-dir"], "--write-seeds /nonexistent-dir: no such directory"),
    ],
)
def test_bad_input_is_one_line_exit_2(capsys: pytest.CaptureFixture[str], adult_db: Path, tmp_path: Path, arguments: list[str], message: str) -> None:
    model = tmp_path / "model.sql"
    # single-valued options given again override the base ones (click keeps the last)
    base = ["--database", str(adult_db), "--relation", "adult", *pairs(["sex"]), "--k", "5", "--write-model", str(model)]
    code, out, err = run(capsys, *base, *arguments)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1 and message in err, err
    assert not model.exists()


def test_missing_database(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = run(capsys, "--database", str(tmp_path / "none.duckdb"), "--relation", "adult", *pairs(["sex"]), "--k", "2")
    assert (code, out) == (2, "")
    assert err.strip() == f"privacy-guard: error: --database {tmp_path / 'none.duckdb'}: no such file"


@pytest.mark.dbt
def test_written_model_builds_k_anonymous_with_predicted_rows_and_model_mode_reads_meta(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    project = dbt_project("adult_oracle", tmp_path)
    adult_csv = json.dumps({"adult_csv": str(ADULT_DIR / "adult.csv")})
    dbt(project, "run", "-s", "adult", "--vars", adult_csv, check=True)
    database = tmp_path / "adult_oracle.duckdb"
    (project / "seeds").mkdir(exist_ok=True)
    predicted = {}
    tests = []
    runs = [(f"adult_k5_s{int(s * 100)}", ADULT_COLUMNS, s, []) for s in sorted(ARX_OPTIMA)]
    runs.append(("adult_k5_l3", L_QIS, 0.02, ["--l", "3", "--sensitive", "occupation"]))
    for name, qis, suppression, diversity in runs:
        code, out, _ = run(capsys, "--database", str(database), "--relation", "adult", *pairs(qis), "--k", "5", *diversity,
                           "--max-suppression", str(suppression), "--format", "json",
                           "--write-model", str(project / "models" / f"{name}.sql"), "--write-seeds", str(project / "seeds"))
        assert code == 0
        predicted[name] = json.loads(out)
        quoted = ", ".join(f"'{column}'" for column in qis)
        tests.append(f"  - name: {name}\n    data_tests:\n      - privacy_guard.k_anonymity:\n          arguments: {{k: 5, quasi_identifiers: [{quoted}]}}\n")
    tests[-1] += "      - privacy_guard.l_diversity:\n          arguments: {l: 3, quasi_identifiers: [%s], sensitive_column: occupation}\n" % quoted
    (project / "models" / "anonymized.yml").write_text("version: 2\nmodels:\n" + "".join(tests))
    # `adult` declares its QIs and their hierarchy seeds (in another order than the table's columns)
    columns = "".join(
        f"      - {{name: {column}, config: {{meta: {{privacy: {{class: quasi_identifier, hierarchy: adult_hierarchy_{column.replace('-', '_')}}}}}}}}}\n"
        for column in reversed(ADULT_COLUMNS)
    )
    (project / "models" / "adult.yml").write_text(f"version: 2\nmodels:\n  - name: adult\n    config: {{meta: {{privacy: {{k: 5}}}}}}\n    columns:\n{columns}")
    result = dbt(project, "build", "--exclude", "adult_generalized", "--vars", adult_csv, check=True)
    assert sorted(status for uid, status in result.statuses().items() if uid.startswith("test.")) == ["pass"] * 4
    for suppression, (levels, loss) in ARX_OPTIMA.items():
        code, out, _ = run(capsys, "--database", str(database), "--manifest", str(project / "target" / "manifest.json"), "--model", "adult",
                           "--max-suppression", str(suppression), "--format", "json")
        assert code == 0
        document = json.loads(out)
        assert (document["levels"], document["loss"]) == (dict(zip(reversed(ADULT_COLUMNS), reversed(levels))), pytest.approx(loss, rel=1e-12))
        assert document["suppressed_rows"] == predicted[f"adult_k5_s{int(suppression * 100)}"]["suppressed_rows"]
    code, out, err = run(capsys, "--database", str(database), "--manifest", str(project / "target" / "manifest.json"), "--model", "adult_generalized")
    assert (code, out) == (2, "")
    assert err.strip() == "privacy-guard: error: --model adult_generalized: no column declares config.meta.privacy.class: quasi_identifier"
    with duckdb.connect(str(database), read_only=True) as connection:
        for name, document in predicted.items():
            assert connection.execute(f"select count(*) from {name}").fetchone()[0] == 30162 - document["suppressed_rows"]
            columns = ", ".join(f'"{column}"' for column in document["levels"])
            smallest = connection.execute(f"select min(n) from (select count(*) n from {name} group by {columns})").fetchone()[0]
            assert smallest == document["k"] >= 5
            for column, level in document["levels"].items():
                reachable = {row[level] for row in adult_hierarchy(column).values()}
                values = {row[0] for row in connection.execute(f'select distinct cast("{column}" as varchar) from {name}').fetchall()}
                assert values <= reachable
