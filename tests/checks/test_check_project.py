"""Integration: a real `dbt build` of tests/fixtures/check_project, then the check over its artifacts.

One build per module; every rule's planted violations (and nothing else) must come out.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from dbt_harness import DbtResult, shared_build

from python_checks.check import CheckReport, run_check
from python_checks.loader import load_manifest
from python_checks.sql_model import RAW

pytestmark = pytest.mark.dbt

AS_OF = dt.date(2026, 1, 15)
KEY = {"PRIVACY_GUARD_KEY": "check-project-fixture-key-0123456789"}
PLUGIN = "plugins:\n  - module: python_checks.duckdb_plugin"

#: (rule, node) pairs planted in the fixture (see the comments in its YAML and SQL).
PLANTED = {
    ("missing_policy", "seed.check_project.web_events"),
    ("invalid_policy", "seed.check_project.legacy_export"),
    ("unprotected_identifier", "model.check_project.stg_sales"),
    ("unprotected_identifier", "model.check_project.stg_support"),
    ("data_minimization", "model.check_project.hr_headcount_report"),
    ("cross_department_join", "model.check_project.marketing_targets"),
    ("direct_identifier_join", "model.check_project.marketing_targets"),
    ("consent_violation", "model.check_project.marketing_targets"),
    ("quasi_identifier_linkage", "model.check_project.marketing_targets"),
    ("retention_conflict", "model.check_project.marketing_targets"),
    ("missing_privacy_test", "model.check_project.marketing_targets"),
    ("join_key_linkage", "model.check_project.hr_clinic_lookalikes"),
}
#: Rules whose planted cases live in tests/fixtures/verdicts_policy (tests/checks/test_verdicts_policy.py).
EXERCISED_BY_VERDICTS_POLICY = frozenset(
    {"weak_privacy_test", "missing_purpose", "purpose_laundering", "unclassified_personal_data", "snapshot_without_retention", "invalid_waiver"}
)
#: Exercised on tests/fixtures/access_project (test_check_rules_ethics_review.py, test_check_rules_access_review.py).
EXERCISED_BY_ACCESS_PROJECT = frozenset({"ethics_review", "access_review"})
#: Only with --run-results / --database.
PLANTED_RUN = {
    ("unvalidated_input", "model.check_project.stg_clinic"),
    ("unvalidated_input", "model.check_project.stg_support"),
    ("retention_expired", "seed.check_project.clinic_visits"),
    # The planted warning of stg_clinic's k_anonymity test (a warn is a failure that did not stop the build).
    ("privacy_test_failed", "model.check_project.stg_clinic"),
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> DbtResult:
    return shared_build(tmp_path_factory, "check_project", PLUGIN, KEY)


def artifacts(built: DbtResult) -> dict[str, Path]:
    target = built.project_dir / "target"
    return {"manifest": target / "manifest.json", "run_results": target / "run_results.json", "database": built.project_dir.parent / "check_project.duckdb"}


def full_check(built: DbtResult, **options: Any) -> CheckReport:
    paths = artifacts(built)
    return run_check(paths["manifest"], run_results=paths["run_results"], database=paths["database"], as_of=AS_OF, **options)


def test_the_build_ran_the_planted_warning(built: DbtResult) -> None:
    statuses = built.statuses()
    assert statuses["test.check_project.privacy_guard_k_anonymity_stg_clinic_.e0a540b459"] == "warn"
    assert statuses["model.check_project.marketing_targets"] == "success"


def test_manifest_alone_gives_exactly_the_planted_findings(built: DbtResult) -> None:
    report = run_check(artifacts(built)["manifest"], as_of=AS_OF)
    assert {(f.rule, f.node) for f in report.findings} == PLANTED


def test_with_run_results_and_database_every_rule_fires_as_planted(built: DbtResult) -> None:
    report = full_check(built)
    assert {(f.rule, f.node) for f in report.findings} == PLANTED | PLANTED_RUN
    assert {f.rule for f in report.findings} == set(report.analysis.rule_status) - EXERCISED_BY_VERDICTS_POLICY - EXERCISED_BY_ACCESS_PROJECT  # every other rule is exercised
    expired = next(f for f in report.findings if f.rule == "retention_expired")
    assert (expired.evidence["expired_rows"], expired.evidence["rows"]) == (2, 6)


def test_measured_linkage_matches_an_independent_count_from_the_seeds(built: DbtResult) -> None:
    seeds = built.project_dir / "seeds"
    sales = {row["customer_email"]: row for row in csv.DictReader((seeds / "sales_customers.csv").open())}
    tickets = list(csv.DictReader((seeds / "support_tickets.csv").open()))
    classes = Counter((t["age_group"], sales[t["customer_email"]]["birth_year"], sales[t["customer_email"]]["zip"]) for t in tickets if t["customer_email"] in sales)
    small = [size for size in classes.values() if size < 2]  # k = vars default_k 2
    linkage = next(f for f in full_check(built).findings if f.rule == "quasi_identifier_linkage")
    assert (linkage.evidence["rows_in_small_classes"], linkage.evidence["small_classes"]) == (sum(small), len(small)) == (1, 1)


def test_sql_join_analysis_of_the_real_compiled_code(built: DbtResult) -> None:
    report = full_check(built)
    [join] = report.analysis.sql["model.check_project.marketing_targets"].joins
    assert join.columns == {("model.check_project.stg_sales", "customer_email", RAW), ("model.check_project.stg_support", "customer_email", RAW)}
    research = {e["source"]: e for e in report.to_document()["edges"] if e["target"] == "model.check_project.research_hr_clinic"}
    assert research["model.check_project.stg_hr"]["join_columns"] == ["person_key"]
    assert research["model.check_project.stg_hr"]["cross_department"] and not research["model.check_project.stg_hr"]["flagged"]
    assert report.analysis.notes == []


def test_no_sql_mode_still_finds_the_identifier_join_by_name(built: DbtResult) -> None:
    report = run_check(artifacts(built)["manifest"], as_of=AS_OF, sql=False)
    found = {f.node: f.evidence for f in report.findings if f.rule == "direct_identifier_join"}
    assert found["model.check_project.marketing_targets"]["columns"] == ["customer_email"]
    # Without SQL or a catalog every upstream column is assumed to pass: the raw e-mails of the
    # seeds under the pseudonymizing staging models now meet too (the price of --no-sql).
    assert found["model.check_project.research_hr_clinic"]["columns"] == ["email"]
    assert report.analysis.sql == {}


def test_effective_policy_of_the_combined_model(built: DbtResult) -> None:
    node = full_check(built).to_document()["nodes"]["model.check_project.marketing_targets"]
    assert node["departments"] == ["sales", "support"]
    assert node["consent"] == ["service"]
    assert (node["retention_days"], node["declared_retention_days"]) == (180, 1000)
    assert node["quasi_identifiers"] == ["age_group", "birth_year", "zip"]
    assert node["meeting_departments"] == ["sales", "support"]


def test_generated_v12_manifest_loads(built: DbtResult) -> None:
    manifest = load_manifest(artifacts(built)["manifest"])
    assert manifest.schema_version == 12 and manifest.adapter_type == "duckdb"
    assert manifest.nodes["seed.check_project.hr_roster"].columns["email"].privacy == {"class": "direct_identifier"}


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "python_checks", *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_cli_json_stdout_is_only_the_document(built: DbtResult) -> None:
    result = cli("check", "--format", "json", "--as-of", "2026-01-15", cwd=built.project_dir)  # default manifest: target/manifest.json
    assert result.returncode == 1
    document = json.loads(result.stdout)
    assert {"summary", "findings", "nodes", "edges"} <= set(document)
    assert document["manifest"]["project_settings"] == str(built.project_dir / "dbt_project.yml")
    assert document["summary"]["by_severity"] == {"error": 11, "warning": 1, "info": 0}
    assert {(f["category"], f["node"]) for f in document["findings"]} == PLANTED
    assert all(set(f) == {"rule", "category", "severity", "node", "message", "evidence", "hint"} for f in document["findings"])


def test_cli_fail_on_and_text_report(built: DbtResult) -> None:
    result = cli("check", "--fail-on", "never", "--as-of", "2026-01-15", cwd=built.project_dir)
    assert result.returncode == 0
    assert "marketing_targets" in result.stdout and "12 findings" in result.stdout


def test_cli_sarif_has_the_required_2_1_0_fields(built: DbtResult, tmp_path: Path) -> None:
    output = tmp_path / "report.sarif"
    result = cli("check", "--format", "sarif", "--output", str(output), "--as-of", "2026-01-15", cwd=built.project_dir)
    assert result.returncode == 1 and result.stdout == ""
    sarif = json.loads(output.read_text())
    assert sarif["version"] == "2.1.0" and sarif["$schema"].endswith("sarif-2.1.0.json")
    [run] = sarif["runs"]
    rules = run["tool"]["driver"]["rules"]
    assert run["tool"]["driver"]["name"] == "privacy-guard" and len(rules) == 22
    assert all(rule["id"] and rule["shortDescription"]["text"] and rule["help"]["text"] for rule in rules)
    assert len(run["results"]) == 12
    for result_entry in run["results"]:
        assert rules[result_entry["ruleIndex"]]["id"] == result_entry["ruleId"]
        assert result_entry["level"] in {"error", "warning", "note"} and result_entry["message"]["text"]
        location = result_entry["locations"][0]["physicalLocation"]["artifactLocation"]
        assert (built.project_dir / location["uri"]).is_file()
    marketing = next(r for r in run["results"] if r["ruleId"] == "consent_violation")
    assert marketing["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "models/combined/marketing_targets.sql"
    assert marketing["relatedLocations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "models/combined/_combined.yml"


def test_cli_inventory_lists_shared_identifiers(built: DbtResult) -> None:
    result = cli("inventory", "--format", "json", cwd=built.project_dir)
    assert result.returncode == 0, result.stderr
    inventory = json.loads(result.stdout)
    assert set(inventory["departments"]) == {"hr", "clinic", "sales", "support"}
    shared = {(s["column"], s["class"]): sorted(s["departments"]) for s in inventory["shared_columns"]}
    assert shared[("customer_email", "direct_identifier")] == ["sales", "support"]
    assert shared[("zip", "quasi_identifier")] == ["clinic", "hr", "sales"]
    assert shared[("email", "direct_identifier")] == ["clinic", "hr"]


def test_cli_validate_names_node_and_key(built: DbtResult) -> None:
    result = cli("validate", cwd=built.project_dir)
    assert result.returncode == 1
    assert result.stdout.strip() == "seed.check_project.legacy_export: consent: 'research' is not of type 'array'"
