"""Re-identification risk on Adult: the `reidentification_risk` test, the
`reidentification_risk_summary` macro and `privacy-guard risk` agree with a pure-Python computation
from the definitions (tests/risk_oracle.py). Each test threshold is set at the true value (passes)
and just beyond it (fails with exactly the oracle's number of classes).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest

from dbt_harness import ADULT_DIR, DbtResult, dbt, dbt_project
from python_checks import contract
from python_checks.cli import main
from risk_oracle import adult_rows, journalist, prosecutor

pytestmark = pytest.mark.dbt

BEYOND = 1e-6
QIS = ["age", "sex", "race"]
UNIT_QIS = ["sex", "race", "marital-status"]


def with_person(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """The fixture's `person_id`: education|occupation|salary-class, none from 85 years on."""
    return [{**row, "person_id": f"{row['education']}|{row['occupation']}|{row['salary-class']}" if int(row["age"]) < 85 else None} for row in rows]


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    return with_person(adult_rows())


def cases(rows: list[dict[str, str]]) -> dict[str, tuple[dict[str, Any], int]]:
    """test name -> (arguments, expected failure rows)."""
    plain = prosecutor(rows, QIS, 0.2)
    people = prosecutor(rows, UNIT_QIS, 0.05, unit="person_id")
    share = plain["records_at_risk"] / plain["records"]
    return {
        "k5_classes": ({"quasi_identifiers": QIS, "max_risk": 0.2}, plain["classes_at_risk"]),
        "share_at_value": ({"quasi_identifiers": QIS, "max_risk": 0.2, "max_records_at_risk": share}, 0),
        "share_beyond": ({"quasi_identifiers": QIS, "max_risk": 0.2, "max_records_at_risk": share - BEYOND}, plain["classes_at_risk"]),
        "average_at_value": ({"quasi_identifiers": QIS, "max_risk": 1, "max_average_risk": plain["average_risk"]}, 0),
        "average_beyond": ({"quasi_identifiers": QIS, "max_risk": 1, "max_average_risk": plain["average_risk"] - BEYOND}, 1),
        "people_classes": ({"quasi_identifiers": UNIT_QIS, "privacy_unit": "person_id", "max_risk": 0.05}, people["classes_at_risk"]),
    }


def declared_yaml(rows: list[dict[str, str]]) -> str:
    """`adult_declared` with privacy.risk in meta: tests without arguments read it, arguments win."""
    plain = prosecutor(rows, QIS, 0.2)
    risk = {"max_risk": 0.2, "max_records_at_risk": plain["records_at_risk"] / plain["records"] - BEYOND, "max_average_risk": plain["average_risk"] - BEYOND}
    columns = "".join(f"      - {{name: {column}, config: {{meta: {{privacy: {{class: quasi_identifier}}}}}}}}\n" for column in QIS)
    return (
        "version: 2\nmodels:\n  - name: adult_declared\n"
        f"    config: {{meta: {{privacy: {{risk: {json.dumps(risk)}}}}}}}\n    columns:\n{columns}    data_tests:\n"
        "      - privacy_guard.reidentification_risk:\n          name: declared_risk\n"
        "      - privacy_guard.reidentification_risk:\n          name: declared_overridden\n"
        "          arguments: {max_records_at_risk: 1, max_average_risk: 1}\n"
    )


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory, rows: list[dict[str, str]]) -> DbtResult:
    project = dbt_project("risk_project", tmp_path_factory.mktemp("risk"))
    tests = [
        f"      - privacy_guard.reidentification_risk:\n          name: {name}\n          arguments: {json.dumps(arguments)}\n"
        for name, (arguments, _) in cases(rows).items()
    ]
    tests.append("      - privacy_guard.reidentification_risk:\n          name: bad_max_risk\n          arguments: {quasi_identifiers: [sex], max_risk: 1.5}\n")
    (project / "models" / "risk_tests.yml").write_text("version: 2\nmodels:\n  - name: adult\n    data_tests:\n" + "".join(tests))
    (project / "models" / "declared.yml").write_text(declared_yaml(rows))
    variables = json.dumps({"adult_csv": str(ADULT_DIR / "adult.csv")})
    dbt(project, "run", "--vars", variables, check=True)  # `build` would skip the models after a failing test
    return dbt(project, "test", "--vars", variables, check=False)


def test_failures_are_the_oracles_classes(build: DbtResult, rows: list[dict[str, str]]) -> None:
    results = {r["unique_id"].split(".")[2]: r for r in build.run_results["results"] if r["unique_id"].startswith("test.")}
    expected = {name: failures for name, (_, failures) in cases(rows).items()}
    expected["meta_defaults"] = prosecutor(rows, QIS, 1 / 10)["classes_at_risk"]  # k: 10 from the meta
    expected["declared_risk"] = prosecutor(rows, QIS, 0.2)["classes_at_risk"] + 1  # privacy.risk: both limits just beyond
    expected["declared_overridden"] = 0
    # adult_people declares privacy_unit: person_id; the test without the argument counts people.
    expected["unit_from_meta"] = cases(rows)["people_classes"][1]
    assert expected["unit_from_meta"] != prosecutor(rows, UNIT_QIS, 0.05)["classes_at_risk"]  # rows would give another number
    assert all(count > 0 for name, count in expected.items() if "at_value" not in name and "overridden" not in name)
    assert {name: results[name]["failures"] for name in expected} == expected
    assert {name: results[name]["status"] for name in expected} == {name: "fail" if count else "pass" for name, count in expected.items()}
    assert results["bad_max_risk"]["status"] == "error"
    assert "max_risk must be a probability in (0, 1] (got 1.5)" in results["bad_max_risk"]["message"]


def summary(build: DbtResult, model: str) -> dict[str, Any]:
    with duckdb.connect(str(build.project_dir.parent / "risk_project.duckdb"), read_only=True) as connection:
        cursor = connection.execute(f"select * from {model}")
        return dict(zip([column[0] for column in cursor.description], cursor.fetchone()))


MEASURES = ["records", "classes", "smallest_class", "sample_uniques", "max_risk", "average_risk", "records_at_risk", "marketer_risk"]


def test_summary_macro_matches_oracle(build: DbtResult, rows: list[dict[str, str]]) -> None:
    for model, expected in [
        ("adult_risk", prosecutor(rows, QIS, 0.2)),
        ("adult_people_risk", prosecutor(rows, UNIT_QIS, 0.05, unit="person_id")),
        # privacy_unit and QIs from adult_people's meta.
        ("adult_people_meta_risk", prosecutor(rows, UNIT_QIS, 0.05, unit="person_id")),
    ]:
        measured = summary(build, model)
        assert {key: pytest.approx(measured[key], rel=1e-12) for key in MEASURES} == {key: expected[key] for key in MEASURES}
    sample = [row for row in rows if row["marital-status"] == "Never-married"]
    measured = summary(build, "sample_risk")
    expected = journalist(sample, rows, QIS, 0.2)
    assert measured["journalist_max_risk"] == pytest.approx(expected["max_risk"], rel=1e-12)
    assert measured["journalist_average_risk"] == pytest.approx(expected["average_risk"], rel=1e-12)
    assert measured["journalist_records_at_risk"] == expected["records_at_risk"]
    assert measured["marketer_risk"] == pytest.approx(expected["marketer_risk"], rel=1e-12)
    assert expected["marketer_risk"] < prosecutor(sample, QIS, 0.2)["average_risk"]  # the population dilutes it


def cli(capsys: pytest.CaptureFixture[str], *arguments: str) -> tuple[int, str, str]:
    code = main(["risk", *arguments])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def qi_arguments(columns: list[str]) -> list[str]:
    return [item for column in columns for item in ("--qi", column)]


def test_cli_matches_oracle(capsys: pytest.CaptureFixture[str], build: DbtResult, rows: list[dict[str, str]]) -> None:
    database = str(build.project_dir.parent / "risk_project.duckdb")
    for qis, unit, threshold in [(QIS, None, 0.2), (UNIT_QIS, "person_id", 0.05), (["age", "sex", "race", "education"], None, 0.1)]:
        code, out, _ = cli(capsys, "--database", database, "--relation", "adult", *qi_arguments(qis), *(["--privacy-unit", unit] if unit else []),
                           "--threshold", str(threshold), "--format", "json")
        assert code == 0
        document = json.loads(out)
        expected = prosecutor(rows, qis, threshold, unit)
        assert {key: document[key] for key in MEASURES} == {key: pytest.approx(expected[key], rel=1e-12) for key in MEASURES}
        assert document["journalist"] is None
    code, out, _ = cli(capsys, "--database", database, "--relation", "adult_never_married", *qi_arguments(QIS), "--population", "adult", "--format", "json")
    assert code == 0
    document = json.loads(out)
    expected = journalist([row for row in rows if row["marital-status"] == "Never-married"], rows, QIS, 0.2)
    assert document["journalist"] == {key: pytest.approx(expected[key], rel=1e-12) for key in ("max_risk", "average_risk", "records_at_risk")}
    assert document["marketer_risk"] == pytest.approx(expected["marketer_risk"], rel=1e-12)
    code, out, _ = cli(capsys, "--database", database, "--relation", "adult", *qi_arguments(QIS))
    plain = prosecutor(rows, QIS, 0.2)
    assert f"sample uniques: {plain['sample_uniques']} ({plain['sample_uniques'] / plain['records']:.2%})" in out
    assert f"records at risk (risk > 0.2): {plain['records_at_risk']}" in out


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--relation", "nope"], "--relation nope: no such table or view"),
        (["--qi", "zip"], "--qi zip: relation adult has no such column"),
        (["--privacy-unit", "pid"], "--privacy-unit pid: relation adult has no such column"),
        (["--privacy-unit", "sex"], "--privacy-unit sex: is also a --qi column"),
        (["--threshold", "0"], "--threshold 0.0: must be a risk in (0, 1]"),
        (["--population", "nope"], "--population nope: no such table or view"),
        (["--relation", "adult", "--population", "adult_never_married"], "--population adult_never_married: "),
        (["--population", "adult", "--privacy-unit", "person_id"], "--population: journalist risk counts population rows"),
    ],
)
def test_cli_bad_input(capsys: pytest.CaptureFixture[str], build: DbtResult, arguments: list[str], message: str) -> None:
    database = str(build.project_dir.parent / "risk_project.duckdb")
    code, out, err = cli(capsys, "--database", database, "--relation", "adult", "--qi", "sex", *arguments)
    assert (code, out) == (2, "")
    assert len(err.strip().splitlines()) == 1 and message in err, err


def test_risk_block_is_validated(tmp_path: Path) -> None:
    """validate_meta (Jinja) and the Python contract both reject a malformed privacy.risk."""
    project = dbt_project("risk_project", tmp_path)
    (project / "models" / "declared.yml").write_text(
        "version: 2\nmodels:\n  - name: adult_declared\n    config: {meta: {privacy: {risk: {max_risk: 2, cap: 1, max_records_at_risk: -0.1}}}}\n"
    )
    result = dbt(project, "run-operation", "privacy_guard.validate_meta", "--vars", json.dumps({"adult_csv": "unused.csv"}), check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    for problem in [
        "model.risk_project.adult_declared: privacy.risk.max_risk must be > 0 and <= 1 (got 2)",
        "model.risk_project.adult_declared: privacy.risk.cap is not a known key (allowed: max_average_risk, max_records_at_risk, max_risk)",
        "model.risk_project.adult_declared: privacy.risk.max_records_at_risk must be >= 0 and <= 1 (got -0.1)",
    ]:
        assert problem in output, output[-3000:]
    assert len(contract.validate("node", {"risk": {"max_risk": 2, "cap": 1, "max_records_at_risk": -0.1}})) == 3
    assert contract.validate("node", {"risk": {"max_risk": 0.1, "max_records_at_risk": 0, "max_average_risk": 0.05}}) == []


def test_cli_model_mode_reads_the_effective_policy(capsys: pytest.CaptureFixture[str], build: DbtResult, rows: list[dict[str, str]]) -> None:
    database = str(build.project_dir.parent / "risk_project.duckdb")
    manifest = str(build.project_dir / "target" / "manifest.json")
    default_k = contract.definition("project")["properties"]["default_k"]["default"]
    # adult_meta: QIs age, sex, race and k 10 from meta (threshold 1/10); adult_people: QIs and unit person_id, default k.
    for model, qis, unit, threshold in [("adult_meta", QIS, None, 1 / 10), ("adult_people", UNIT_QIS, "person_id", 1 / default_k)]:
        code, out, err = cli(capsys, "--database", database, "--model", model, "--manifest", manifest, "--project-dir", str(build.project_dir), "--format", "json")
        assert code == 0, err
        document = json.loads(out)
        expected = prosecutor(rows, qis, threshold, unit)
        assert {key: document[key] for key in MEASURES} == {key: pytest.approx(expected[key], rel=1e-12) for key in MEASURES}
    assert prosecutor(rows, UNIT_QIS, 1 / default_k, "person_id")["records"] != prosecutor(rows, UNIT_QIS, 1 / default_k)["records"]  # the unit matters


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--model", "nope"], "--model nope: no model, seed or snapshot of that name"),
        (["--model", "adult"], "--model adult: no column declares (or inherits) config.meta.privacy.class: quasi_identifier"),
        (["--model", "adult_meta", "--qi", "sex"], "--model: the relation, quasi-identifiers and privacy unit come from the manifest"),
        ([], "--relation and --qi are required (or --model)"),
    ],
)
def test_cli_model_mode_bad_input(capsys: pytest.CaptureFixture[str], build: DbtResult, arguments: list[str], message: str) -> None:
    database = str(build.project_dir.parent / "risk_project.duckdb")
    manifest = str(build.project_dir / "target" / "manifest.json")
    code, out, err = cli(capsys, "--database", database, "--manifest", manifest, "--project-dir", str(build.project_dir), *arguments)
    assert (code, out) == (2, "")
    assert len(err.strip().splitlines()) == 1 and message in err, err
