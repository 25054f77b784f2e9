"""Pull-request mode: only what is new relative to a base manifest."""

from __future__ import annotations

from pathlib import Path

from manifest_builder import AS_OF, ManifestBuilder

from python_checks.check import run_check

QI = {"class": "quasi_identifier"}
POLICY = {"consent": ["research"], "retention": {"days": 365}}


def project(with_join: bool, retention: int = 30, extra_qi: bool = False) -> ManifestBuilder:
    builder = ManifestBuilder()
    hr = builder.node("hr", "seed", {"department": "hr", **POLICY}, {"zip": QI, "sex": QI})
    clinic_columns = {"age": QI} | ({"height": QI} if extra_qi else {})
    clinic = builder.node("clinic", "seed", {"department": "clinic", **POLICY}, clinic_columns)
    builder.node("hr_report", privacy={"retention": {"days": retention}}, parents=(hr,), materialized="table")
    builder.test("k_anonymity", "model.demo.hr_report")
    if with_join:
        builder.node("combined", parents=(hr, clinic))
        builder.test("k_anonymity", "model.demo.combined")
    return builder


def test_only_new_findings_and_changes_are_reported(tmp_path: Path) -> None:
    base = project(with_join=False).write(tmp_path / "base")
    current = project(with_join=True, retention=400).write(tmp_path / "current")
    report = run_check(current, state=base, as_of=AS_OF)
    assert {(f.rule, f.node) for f in report.findings} == {
        ("cross_department_join", "model.demo.combined"),
        ("missing_purpose", "model.demo.combined"),  # departments meet without a purpose (issue 7.6)
        ("retention_conflict", "model.demo.hr_report"),
    }
    state = report.to_document()["state"]
    assert [(e["source"], e["target"]) for e in state["new_cross_department_edges"]] == [
        ("seed.demo.hr", "model.demo.combined"),
        ("seed.demo.clinic", "model.demo.combined"),
    ]
    assert state["new_quasi_identifier_combinations"] == [{"node": "model.demo.combined", "added": ["age", "sex", "zip"], "quasi_identifiers": ["age", "sex", "zip"]}]
    assert state["widened_retention"] == [{"node": "model.demo.hr_report", "base_days": 30, "days": 365}]


def test_unchanged_project_reports_nothing_new(tmp_path: Path) -> None:
    base = project(with_join=True).write(tmp_path / "base")
    current = project(with_join=True).write(tmp_path / "current")
    full = run_check(current, as_of=AS_OF)
    report = run_check(current, state=base, as_of=AS_OF)
    assert full.findings and report.findings == [] and report.exit_code("info") == 0
    assert report.state["unchanged_findings"] == len(full.findings)


def test_a_newly_combined_quasi_identifier_is_listed(tmp_path: Path) -> None:
    base = project(with_join=True).write(tmp_path / "base")
    current = project(with_join=True, extra_qi=True).write(tmp_path / "current")
    report = run_check(current, state=base, as_of=AS_OF)
    assert report.state["new_quasi_identifier_combinations"][0]["added"] == ["height"]
    assert report.state["new_cross_department_edges"] == []
