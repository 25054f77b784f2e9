"""Integration: a real `dbt build` of tests/fixtures/verdicts_policy, then the check (issue 7 items 5-10, issue 9 item 5).

Every construct is planted twice: the risky one must give exactly its findings, the safe twin none.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from dbt_harness import DbtResult, dbt, shared_build
from test_check_project import EXERCISED_BY_VERDICTS_POLICY

from python_checks.check import CheckReport, run_check
from python_checks.docs_site import build_site
from python_checks.formatters import html, markdown, sarif

pytestmark = pytest.mark.dbt

AS_OF = dt.date(2026, 1, 15)
P = "verdicts_policy"
WEAK_TESTS = ("combined_weak_qis", "combined_where_false", "combined_warn", "combined_error_if", "combined_k1")

#: Risky construct (node) -> the rules that must flag it.
RISKY: dict[str, set[str]] = {
    **{f"model.{P}.{name}": {"weak_privacy_test", "quasi_identifier_linkage"} for name in WEAK_TESTS},  # 7.5, 9.5
    f"model.{P}.combined_no_purpose": {"missing_purpose"},  # 7.6 departments meet, no purpose
    f"model.{P}.hr_mart": {"missing_purpose"},  # 7.6 stores consented data below staging, no purpose
    f"model.{P}.care_reuse": {"purpose_laundering"},  # 7.6 select * of the agreed model for care
    f"exposure.{P}.care_dashboard": {"purpose_laundering"},  # 7.7 the same, in a dashboard
    f"exposure.{P}.unnamed_dashboard": {"missing_purpose"},  # 7.7 a consumer with no purpose
    f"exposure.{P}.side_by_side": {"cross_department_join", "quasi_identifier_linkage"},  # 7.7 departments meet in the BI tool
    f"seed.{P}.crm_export": {"unclassified_personal_data"},  # 7.8 e-mail in a CSV header, no meta
    f"model.{P}.hr_with_crm": {"unclassified_personal_data"},  # 7.8 personal model reading it
    f"snapshot.{P}.hr_history": {"snapshot_without_retention"},  # 7.9
    f"model.{P}.hr_release": {"missing_privacy_test"},  # 7.10 a pseudonymized release read by an exposure
    f"model.{P}.combined_waiver_expired": {"cross_department_join", "invalid_waiver"},  # 7.10 expired waiver
}
#: Safe twins: no finding at all.
SAFE = {
    f"model.{P}.combined_full",  # a k_anonymity test that proves what it claims
    f"model.{P}.research_reuse",  # select * of the agreed model, for the agreed purpose
    f"model.{P}.hr_mart_with_purpose",  # stores with a purpose
    f"exposure.{P}.research_dashboard",  # reads data that met before, for the agreed purpose
    f"exposure.{P}.hr_release_dashboard",
    f"seed.{P}.plans",  # no meta, nothing personal
    f"model.{P}.crm_contacts",  # passes crm_export's e-mail on: reported once, on the seed
    f"model.{P}.hr_with_plans",  # personal model reading an undeclared, non-personal lookup
    f"snapshot.{P}.hr_history_kept",  # retention with a date column
    f"model.{P}.stg_hr",  # pseudonymized staging, released nowhere: no test asked
    f"model.{P}.stg_clinic",
    f"model.{P}.combined_waived",  # its cross_department_join is waived
}
PLANTED = {(rule, node) for node, rules in RISKY.items() for rule in rules}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> DbtResult:
    return shared_build(tmp_path_factory, P)


def check(built: DbtResult, target: str = "target", **options: object) -> CheckReport:
    return run_check(built.project_dir / target / "manifest.json", project_dir=built.project_dir, as_of=AS_OF, **options)  # type: ignore[arg-type]


def test_the_weak_tests_pass_in_the_build(built: DbtResult) -> None:
    statuses = built.statuses()
    tests = {unique_id: status for unique_id, status in statuses.items() if unique_id.startswith("test.")}
    assert len(tests) == 15 and set(tests.values()) == {"pass"}


def test_exactly_the_planted_findings(built: DbtResult) -> None:
    report = check(built)
    assert {(f.rule, f.node) for f in report.findings} == PLANTED
    assert {f.rule: f.severity for f in report.findings} == {
        "weak_privacy_test": "error",
        "quasi_identifier_linkage": "error",
        "missing_purpose": "error",
        "purpose_laundering": "error",
        "cross_department_join": "error",
        "snapshot_without_retention": "error",
        "unclassified_personal_data": "warning",
        "missing_privacy_test": "warning",
        "invalid_waiver": "warning",
    }
    assert [(f.rule, f.node) for f in report.analysis.waived] == [("cross_department_join", f"model.{P}.combined_waived")]


def test_the_fixture_exercises_every_rule_check_project_does_not() -> None:
    assert {rule for rule, _ in PLANTED} >= EXERCISED_BY_VERDICTS_POLICY


def test_precision_and_recall_on_the_planted_constructs(built: DbtResult) -> None:
    report = check(built)
    found: dict[str, set[str]] = {}
    for finding in report.findings:
        found.setdefault(finding.node, set()).add(finding.rule)
    flagged = sum(found.get(node, set()) >= rules for node, rules in RISKY.items())
    quiet = sum(node not in found for node in SAFE)
    assert (flagged, len(RISKY)) == (16, 16)  # recall 16/16
    assert (quiet, len(SAFE)) == (12, 12)  # safe twins quiet 12/12


def test_each_weak_test_says_why_it_does_not_count(built: DbtResult) -> None:
    weak = {(f.node.rsplit(".", 1)[-1], f.evidence["test_name"]): f.evidence["weaknesses"] for f in check(built).findings if f.rule == "weak_privacy_test"}
    assert weak == {
        ("combined_weak_qis", "k_anonymity"): ["quasi_identifiers leave out sex, zip"],
        ("combined_where_false", "k_anonymity"): ["where: '1=0' filters out every row"],
        ("combined_warn", "k_anonymity"): ["severity: warn on a combined or exposed model, where a failure must stop the build"],
        ("combined_error_if", "k_anonymity"): ["error_if: '>100' lets failing rows through"],
        ("combined_k1", "k_anonymity"): ["k: 1 holds for every table"],
        # dbt rendered these arguments into the manifest: the check reads them as the macros do.
        ("combined_k1", "l_diversity"): ["l: 1 holds for every class that holds anyone"],
        ("combined_k1", "t_closeness"): ["t: 1 holds for every table (a distance is at most 1)", "quasi_identifiers leave out birth_year, sex, zip"],
        # No k along the lineage: the fixture's default_k 2 sets the default max_risk 1/2.
        ("combined_k1", "reidentification_risk"): ["max_risk 1 is above 1/k = 0.5", "max_risk: 1 holds for every class that holds anyone"],
    }


def test_with_run_results_the_passing_test_still_clears_and_inputs_are_asked(built: DbtResult) -> None:
    report = check(built, run_results=built.project_dir / "target" / "run_results.json")
    extra = {(f.rule, f.node) for f in report.findings} - PLANTED
    # The staging models feed the meeting points untested; the BI releases have passing tests.
    assert extra == {("unvalidated_input", f"model.{P}.stg_hr"), ("unvalidated_input", f"model.{P}.stg_clinic")}


def test_an_empty_run_never_counts_as_a_pass(built: DbtResult) -> None:
    dbt(built.project_dir, "build", "--empty", "--target-path", "target_empty", check=True)
    report = check(built, target="target_empty", run_results=built.project_dir / "target_empty" / "run_results.json")
    linkage = {f.node: f.evidence for f in report.findings if f.rule == "quasi_identifier_linkage"}
    # The one test that cleared combined_full passed on zero rows: it clears nothing now.
    assert list(linkage[f"model.{P}.combined_full"]["k_anonymity_tests_not_counted"].values()) == [["did not pass (empty run)"]]
    assert [note.node for note in report.analysis.notes if "dbt build --empty" in note.message] == [None]


def test_waived_finding_is_a_sarif_suppression_and_validate_meta_accepts_waivers(built: DbtResult) -> None:
    results = sarif.document(check(built))["runs"][0]["results"]
    suppressed = [(r["ruleId"], r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]) for r in results if r.get("suppressions")]
    assert suppressed == [("cross_department_join", f"model.{P}.combined_waived")]
    # One result per finding: the planted (rule, node) pairs, combined_k1's three more weak tests, the waived one.
    assert len(results) == len(PLANTED) + 3 + 1
    validate = dbt(built.project_dir, "run-operation", "privacy_guard.validate_meta", check=True)
    assert "no problems" in validate.stdout


def test_json_document_lists_waivers_on_the_node(built: DbtResult) -> None:
    document = check(built).to_document()
    assert document["summary"]["waived"] == 1
    assert document["nodes"][f"model.{P}.combined_waived"]["waivers"][0]["approved_by"] == "dpo@example.org"
    assert json.loads(json.dumps(document["waived_findings"]))[0]["waiver"]["expires"] == "2099-01-01"


def test_the_docs_card_lists_the_waiver(built: DbtResult) -> None:
    site = build_site(check(built))
    page = html.render_site(site)["index.html"]
    [card] = [article for article in page.split('<article class="card"')[1:] if f'data-uid="model.{P}.combined_waived"' in article.split(">", 1)[0]]
    assert "<strong>cross_department_join</strong> waived until 2099-01-01, approved by dpo@example.org: pilot approved by the works council" in card
    assert "silences: model combined_waived combines clinic, hr but cites no data-use agreement" in card
    assert "- **Waiver:** cross_department_join until 2099-01-01, approved by dpo@example.org: pilot approved by the works council" in markdown.render(site)
