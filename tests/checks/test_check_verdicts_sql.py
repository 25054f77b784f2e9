"""Integration: a real `dbt build` of tests/fixtures/verdicts_sql, then the check over its manifest.

Each SQL construct of the verdicts issue (per-column identifiers, linkage through the join
condition, every way SQL combines rows, what the analysis cannot see) and unkeyed hashes is
planted as a risky model and, where one exists, a safe twin (`*_safe`); exactly the planted
(rule, node) pairs and notes must come out.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest
from dbt_harness import DbtResult, dbt, shared_build

from python_checks.check import NO_COMPILED_SQL, PYTHON_MODEL, CheckReport, run_check

pytestmark = pytest.mark.dbt

AS_OF = dt.date(2026, 1, 15)
KEY = {"PRIVACY_GUARD_KEY": "verdicts-sql-fixture-key-0123456789"}
PLUGIN = "plugins:\n  - module: python_checks.duckdb_plugin"

#: risky model -> the findings planted on it.
RISKY = {
    # 7.1 identifiers per column
    "id_other_column": {"unprotected_identifier"},
    "id_raw_and_pseudonym": {"unprotected_identifier"},
    "id_other_branch": {"unprotected_identifier"},
    "id_declared_but_raw": {"unprotected_identifier"},
    # 9.7 unkeyed hashes
    "id_unkeyed_hash": {"unprotected_identifier"},
    "id_md5_hash": {"unprotected_identifier"},
    # 7.2 linkage through the join condition
    "link_on_qis": {"join_key_linkage"},
    # 7.3 every way SQL combines rows
    "join_in": {"direct_identifier_join"},
    "join_exists": {"direct_identifier_join"},
    "join_semi": {"direct_identifier_join"},
    "join_anti": {"direct_identifier_join"},
    "join_intersect": {"direct_identifier_join"},
    "join_union": {"direct_identifier_join", "unprotected_identifier"},
    "join_natural": {"direct_identifier_join", "join_key_linkage"},
    "join_using": {"direct_identifier_join"},
    "join_comma_lower": {"direct_identifier_join"},
    "join_cross_where": {"direct_identifier_join"},
    "join_lateral": {"direct_identifier_join"},
    "join_any": {"direct_identifier_join"},
    "join_in_cte": {"direct_identifier_join"},
    "eph_matched": {"direct_identifier_join"},
    # 7.4 what the analysis cannot see
    "hard_coded": {"direct_identifier_join"},
    "py_everything": {"unprotected_identifier"},
    "pivoted": {"unprotected_identifier"},
}
#: Safe twins (and the quiet neighbours of risky cases): no finding at all.
SAFE = {
    "id_pseudonym_safe",
    "id_count_safe",
    "id_has_email_safe",
    "link_on_pseudonym_safe",
    "join_in_safe",
    "join_exists_safe",
    "join_intersect_safe",
    "join_union_safe",
    "join_natural_safe",
    "join_comma_lower_safe",
    "join_in_cte_safe",
    "uses_ephemeral",
    "py_salary",
    "columns_regex",
}


def node(name: str) -> str:
    return f"model.verdicts_sql.{name}"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> DbtResult:
    # Seeded first: hard_coded reads clinic_patients by name, which dbt does not order before it.
    return shared_build(tmp_path_factory, "verdicts_sql", PLUGIN, KEY, prepare=lambda project: dbt(project, "seed", env=KEY, check=True))


@pytest.fixture(scope="module")
def report(built: DbtResult) -> CheckReport:
    return run_check(built.project_dir / "target" / "manifest.json", as_of=AS_OF)


def test_every_model_built(built: DbtResult) -> None:
    statuses = built.statuses()
    models = {unique_id.rsplit(".", 1)[-1] for unique_id in statuses if unique_id.startswith("model.")}
    assert models == (set(RISKY) | SAFE) - {"eph_matched"}  # an ephemeral model is not run on its own
    assert set(statuses.values()) == {"success"}


def test_exactly_the_planted_findings(report: CheckReport) -> None:
    expected = {(rule, node(name)) for name, rules in RISKY.items() for rule in rules}
    assert {(f.rule, f.node) for f in report.findings} == expected
    # Issue 16: every risk of the verdicts issue is an error by default (no configuration in this fixture).
    assert {f.severity for f in report.findings} == {"error"}


def test_precision_and_recall_on_the_planted_cases(report: CheckReport) -> None:
    """Every risky model flagged with its planted rules (recall), every safe twin quiet (precision)."""
    found: dict[str, set[str]] = {}
    for finding in report.findings:
        found.setdefault(finding.node.rsplit(".", 1)[-1], set()).add(finding.rule)
    flagged = sum(found.get(name, set()) >= rules for name, rules in RISKY.items())
    quiet = sum(name not in found for name in SAFE)
    assert (flagged, len(RISKY), quiet, len(SAFE)) == (24, 24, 14, 14)


def test_what_the_analysis_cannot_see_is_a_note(report: CheckReport) -> None:
    notes = {(note.node, note.message.split(":")[0]) for note in report.analysis.notes}
    assert notes == {
        (node("hard_coded"), "reads main.clinic_patients by a hard-coded name, not ref()/source()"),
        (node("py_salary"), PYTHON_MODEL.split(":")[0]),
        (node("py_everything"), PYTHON_MODEL.split(":")[0]),
        (node("pivoted"), "PIVOT of verdicts_sql.main.hr_people"),
    }
    assert report.analysis.lineage.parents[node("hard_coded")] == ("seed.verdicts_sql.hr_people", "seed.verdicts_sql.clinic_patients")
    assert set(report.analysis.policies[node("py_salary")].columns) == set()  # salary: documented, not personal
    assert set(report.analysis.policies[node("columns_regex")].columns) == set()


def test_evidence_of_the_planted_cases(report: CheckReport) -> None:
    evidence = {(f.rule, f.node.rsplit(".", 1)[-1]): f.evidence for f in report.findings}
    assert evidence["unprotected_identifier", "id_unkeyed_hash"] == {"columns": ["person_key"], "unkeyed_hash": ["person_key"]}
    assert evidence["unprotected_identifier", "id_md5_hash"] == {"columns": ["person_hash", "person_key"], "unkeyed_hash": ["person_hash", "person_key"]}
    assert evidence["unprotected_identifier", "id_declared_but_raw"] == {"columns": ["person_key"], "declared_pseudonymized_but_raw": ["person_key"]}
    assert evidence["unprotected_identifier", "id_other_branch"] == {"columns": ["person_key"]}
    assert evidence["join_key_linkage", "link_on_qis"]["columns"] == [f"{seed}.{qi}" for seed in ("clinic_patients", "hr_people") for qi in ("birth_date", "sex", "zip")]
    assert evidence["join_key_linkage", "join_natural"]["joins"] == ["natural"]
    assert evidence["direct_identifier_join", "join_union"]["columns"] == ["clinic_patients.email", "hr_people.email"]
    linked = {name for (rule, name), _ in evidence.items() if rule == "direct_identifier_join"}
    assert all(evidence["direct_identifier_join", name]["columns"] == ["clinic_patients.email", "hr_people.email"] for name in linked)


def test_cli_json_notes_are_objects(built: DbtResult) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "python_checks", "check", "--format", "json", "--as-of", "2026-01-15"],
        cwd=built.project_dir, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    notes = json.loads(result.stdout)["notes"]
    assert {note["node"] for note in notes} == {node(name) for name in ("hard_coded", "py_salary", "py_everything", "pivoted")}
    assert all(set(note) == {"node", "message"} for note in notes)


def test_a_dbt_parse_manifest_says_so_once_at_the_top(built: DbtResult, tmp_path: Path) -> None:
    dbt(built.project_dir, "parse", "--target-path", str(tmp_path / "target"), env=KEY, check=True)
    report = run_check(tmp_path / "target" / "manifest.json", project_dir=built.project_dir, as_of=AS_OF)
    notes = [(note.node, note.message) for note in report.analysis.notes]
    assert notes[0] == (None, NO_COMPILED_SQL)
    assert sorted(notes[1:]) == [(node("py_everything"), PYTHON_MODEL), (node("py_salary"), PYTHON_MODEL)]
    # The name-based verdicts still come (qualified by the note): no SQL, so no join is seen.
    assert report.analysis.sql.keys() == {node("py_everything"), node("py_salary")}
