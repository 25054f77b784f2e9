"""privacy_test_failed on a real `dbt build` of tests/fixtures/privacy_tests_failing (planted violations,
`+store_failures`): exactly the failing group/diversity/closeness tests become findings on their
models, with the measure, threshold, QIs and failing classes; with --database the smallest class and
the people/rows in failing classes, checked against a Python count over the models' own rows."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import duckdb
import pytest
from dbt_harness import ADULT_DIR, DbtResult, dbt, dbt_project, shared_build

from python_checks.check import run_check
from python_checks.docs_site import build_site
from python_checks.formatters import html

pytestmark = pytest.mark.dbt  # every test reads a real dbt build

FIXTURE = "privacy_tests_failing"
EXPLAINED = {"k_anonymity", "l_diversity", "t_closeness", "min_cell_size", "reidentification_risk"}


@pytest.fixture(scope="module")
def failing(tmp_path_factory: pytest.TempPathFactory) -> DbtResult:
    return shared_build(tmp_path_factory, FIXTURE, expect_success=False)


def _paths(build: DbtResult) -> tuple[Path, Path, Path]:
    target = build.project_dir / "target"
    return target / "manifest.json", target / "run_results.json", build.project_dir.parent / f"{FIXTURE}.duckdb"


def _findings(build: DbtResult, database: Path | None = None) -> dict[str, dict]:
    manifest, run_results, _ = _paths(build)
    report = run_check(manifest, project_dir=build.project_dir, run_results=run_results, database=database)
    found = [f for f in report.findings if f.category == "privacy_test_failed"]
    assert all(f.severity == "error" for f in found)
    by_test = {f.evidence["test"].split(".")[2]: {"node": f.node, "message": f.message, **f.evidence} for f in found}
    assert len(by_test) == len(found)
    return by_test


def _failed_privacy_tests(build: DbtResult) -> dict[str, str]:
    """Independent of the rule: test name -> tested model, for every explained test that failed or warned."""
    manifest = json.loads(_paths(build)[0].read_text())
    failed = {}
    for result in build.run_results["results"]:
        node = manifest["nodes"][result["unique_id"]]
        metadata = node.get("test_metadata") or {}
        if result["status"] in ("fail", "warn") and metadata.get("namespace") == "privacy_guard" and metadata.get("name") in EXPLAINED:
            failed[node["name"]] = node["attached_node"]
    return failed


def test_every_failing_privacy_test_is_a_finding_on_its_model(failing: DbtResult) -> None:
    found = _findings(failing)
    assert {name: f["node"] for name, f in found.items()} == _failed_privacy_tests(failing)
    # The planted ones among them (tests/test_generic_tests.py PLANTED), and nothing that passed.
    assert {"privacy_guard_k_anonymity_k_violation_", "privacy_guard_l_diversity_l_violation_", "privacy_guard_t_closeness_t_violation_",
            "privacy_guard_min_cell_size_small_cells_", "people_k_anonymity"} <= set(found)
    assert "privacy_guard_k_anonymity_k_violation_1" not in found  # passed
    assert not any("no_direct_identifiers" in name or "retention_limit" in name for name in found)  # failed, but not a class measure


def test_evidence_names_measure_threshold_quasi_identifiers_and_failing_classes(failing: DbtResult) -> None:
    found = _findings(failing)
    k = found["privacy_guard_k_anonymity_k_violation_"]
    assert (k["measure"], k["threshold"], k["quasi_identifiers"], k["counts"], k["failing_classes"]) == ("k", 5, ["age_band", "sex"], "rows", 1)
    assert "k=5" in k["message"] and "quasi-identifiers age_band, sex" in k["message"] and "failing classes: 1 (counted in rows)" in k["message"]
    assert "smallest_class" not in k  # no --database: nothing read from the stored failures
    # l and t default from vars (contract defaults 2 and 0.2) unless the test sets them.
    assert (found["privacy_guard_l_diversity_l_violation_"]["threshold"], found["privacy_guard_l_diversity_l_violation_"]["failing_classes"]) == (2, 1)
    assert (found["privacy_guard_t_closeness_t_violation_"]["threshold"], found["privacy_guard_t_closeness_t_violation_"]["failing_classes"]) == (0.2, 2)
    salary = found["privacy_guard_t_closeness_t_violation_equal__salary__0_5"]
    assert (salary["threshold"], salary["sensitive_column"]) == (0.5, "salary")
    people = found["people_k_anonymity"]
    assert (people["counts"], people["privacy_unit"], people["threshold"], people["failing_classes"]) == ("people", "person_id", 3, 2)
    cells = found["privacy_guard_min_cell_size_small_cells_"]
    assert (cells["threshold"], cells["failing_classes"], cells["counts"]) == (5, 2, "rows")
    assert "quasi_identifiers" not in cells


def _classes(database: Path, model: str, quasi_identifiers: list[str], unit: str | None) -> list[int]:
    """Class sizes computed in Python from the model's rows: distinct units, else rows."""
    with duckdb.connect(str(database), read_only=True) as connection:
        columns = ", ".join(f'"{name}"' for name in [*quasi_identifiers, *([unit] if unit else [])])
        rows = connection.execute(f'select {columns} from main."{model}"').fetchall()
    members: dict[tuple, list] = defaultdict(list)
    for row in rows:
        members[row[: len(quasi_identifiers)]].append(row[-1] if unit else None)
    return [len(set(values)) if unit else len(values) for values in members.values()]


def test_database_adds_smallest_class_and_people_in_failing_classes(failing: DbtResult, tmp_path: Path) -> None:
    database = _paths(failing)[2]
    # A copy under another name: the catalog in run_results' relation_name no longer exists.
    copy = tmp_path / "copied.duckdb"
    shutil.copy(database, copy)
    for path in (database, copy):
        found = _findings(failing, path)
        for name, model, unit, k in (("privacy_guard_k_anonymity_k_violation_", "k_violation", None, 5), ("people_k_anonymity", "visits_people", "person_id", 3)):
            small = [size for size in _classes(database, model, ["sex", "age_band"], unit) if size < k]
            counts = "people" if unit else "rows"
            assert (found[name]["smallest_class"], found[name][f"{counts}_in_failing_classes"]) == (min(small), sum(small))
            assert f"smallest class: {min(small)} {counts}" in found[name]["message"]
            assert found[name]["failing_classes"] == len(small)


def test_unreadable_stored_failures_are_a_note_not_a_crash(failing: DbtResult, tmp_path: Path) -> None:
    manifest, run_results, database = _paths(failing)
    document = json.loads(run_results.read_text())
    for result in document["results"]:
        if result["unique_id"].split(".")[2] == "privacy_guard_k_anonymity_k_violation_":
            result["relation_name"] = "read_text('/etc/passwd')"
    hostile = tmp_path / "run_results.json"
    hostile.write_text(json.dumps(document))
    report = run_check(manifest, project_dir=failing.project_dir, run_results=hostile, database=database)
    finding = next(f for f in report.findings if f.category == "privacy_test_failed" and f.evidence["test"].split(".")[2] == "privacy_guard_k_anonymity_k_violation_")
    assert "smallest_class" not in finding.evidence
    assert any("is not a relation name" in note.message for note in report.analysis.notes)


def test_cli_json_and_sarif_carry_the_finding_without_values(failing: DbtResult) -> None:
    manifest, run_results, database = _paths(failing)
    common = ["check", "--manifest", str(manifest), "--project-dir", str(failing.project_dir), "--run-results", str(run_results), "--database", str(database)]
    outputs = {}
    for fmt in ("json", "sarif", "text"):
        done = subprocess.run([sys.executable, "-m", "python_checks", *common, "--format", fmt], capture_output=True, text=True, timeout=300)
        assert done.returncode == 1, done.stderr
        outputs[fmt] = done.stdout
    document = json.loads(outputs["json"])
    assert {f["node"] for f in document["findings"] if f["category"] == "privacy_test_failed"} == set(_failed_privacy_tests(failing).values())
    sarif = json.loads(outputs["sarif"])
    assert any(result["ruleId"] == "privacy_test_failed" for run in sarif["runs"] for result in run["results"])
    assert "its k_anonymity test failed (k=5" in outputs["text"]
    # QI values of the planted small classes never reach any output.
    planted_values = {"rare-sex-x", "rare-age-97"}
    for text in outputs.values():
        assert not any(value in text for value in planted_values)


def test_the_docs_card_shows_the_failed_test(failing: DbtResult) -> None:
    manifest_path, run_results, database = _paths(failing)
    report = run_check(manifest_path, project_dir=failing.project_dir, run_results=run_results, database=database)
    site = build_site(report, report.analysis.run_results)
    page = html.render_site(site)["index.html"]
    [card] = [article for article in page.split('<article class="card"')[1:] if f'data-uid="model.{FIXTURE}.k_violation"' in article.split(">", 1)[0]]
    assert "privacy_test_failed" in card
    assert "its k_anonymity test failed (k=5; quasi-identifiers age_band, sex; failing classes: 1 (counted in rows); smallest class: 1 rows" in card


def test_reidentification_risk_threshold_defaults_to_one_over_k(tmp_path: Path) -> None:
    project = dbt_project("risk_project", tmp_path)
    variables = json.dumps({"adult_csv": str(ADULT_DIR / "adult.csv")})
    dbt(project, "run", "--vars", variables, check=True)
    dbt(project, "test", "--vars", variables, "--select", "meta_defaults", check=False)
    target = project / "target"
    report = run_check(target / "manifest.json", project_dir=project, run_results=target / "run_results.json")
    [finding] = [f for f in report.findings if f.category == "privacy_test_failed"]
    # adult_meta declares k: 10 and no privacy.risk: the test's max_risk is 1/10 (tests/test_risk.py checks its failures).
    assert (finding.node, finding.evidence["measure"], finding.evidence["threshold"]) == ("model.risk_project.adult_meta", "max_risk", 1 / 10)
    assert finding.evidence["quasi_identifiers"] == ["age", "race", "sex"]
