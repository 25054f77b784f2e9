"""unclassified_personal_data (issue 7.8): personal-looking columns on nodes without privacy meta."""

from __future__ import annotations

import os
from pathlib import Path

from manifest_builder import ManifestBuilder, findings

QI = {"class": "quasi_identifier"}


def project(tmp_path: Path) -> ManifestBuilder:
    builder = ManifestBuilder()
    seed = builder.node("crm_export", "seed")  # columns only in its CSV header
    builder.nodes[seed] |= {"root_path": str(tmp_path), "original_file_path": "seeds/crm_export.csv"}
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "crm_export.csv").write_text("Customer_ID,Work_Email,signup_day,plan\n1,a@example.org,2024-01-01,gold\n")
    builder.node("lookup", "seed", columns={"country_code": None, "label": None})  # YAML columns, nothing personal
    source = builder.node("app_users", "source", columns={"ip_address": None, "created": None})
    builder.node("stg_crm", parents=(seed,), sql='select customer_id, signup_day from "db"."main"."crm_export"')  # passes customer_id on
    builder.node("new_column", parents=(seed,), sql='select plan, \'x\' as postcode from "db"."main"."crm_export"')  # a new one
    declared = builder.node("declared", "seed", {"department": "a", "consent": ["x"], "retention": {"days": 1}}, {"zip": QI})
    builder.node("reads_undeclared", parents=(declared, source))
    builder.node("reads_lookup", parents=(declared, "seed.demo.lookup"))
    return builder


def test_personal_looking_columns_are_reported_where_they_first_appear(tmp_path: Path) -> None:
    report = project(tmp_path).check(tmp_path)
    found = {f.node: f for f in findings(report, "unclassified_personal_data")}
    assert {node: f.evidence for node, f in found.items()} == {
        "seed.demo.crm_export": {"columns": ["customer_id", "work_email"]},
        "source.demo.app_users": {"columns": ["ip_address"]},
        "model.demo.new_column": {"columns": ["postcode"]},
        "model.demo.reads_undeclared": {"undeclared_parents": {"source.demo.app_users": ["ip_address"]}},
    }
    assert {f.severity for f in found.values()} == {"warning"}
    assert report.exit_code("error") == 0


def test_enforce_makes_it_an_error_and_patterns_are_configurable(tmp_path: Path) -> None:
    report = project(tmp_path).check(tmp_path, {"enforce": True, "personal_column_patterns": ["plan"]})
    found = findings(report, "unclassified_personal_data")
    assert {(f.node, f.severity) for f in found} == {("seed.demo.crm_export", "error")}
    assert found[0].evidence == {"columns": ["plan"]}
    assert next(r for r in report.to_document()["rules"] if r["id"] == "unclassified_personal_data")["severity"] == "error"


def test_an_explicit_rule_severity_wins_over_enforce(tmp_path: Path) -> None:
    report = project(tmp_path).check(tmp_path, {"enforce": True, "rules": {"unclassified_personal_data": {"severity": "info"}}})
    assert {f.severity for f in findings(report, "unclassified_personal_data")} == {"info"}


def test_a_seed_path_that_is_not_a_regular_file_is_not_read(tmp_path: Path) -> None:
    builder = ManifestBuilder()
    seed = builder.node("crm_export", "seed")
    builder.nodes[seed] |= {"root_path": str(tmp_path), "original_file_path": "seeds/crm_export.csv"}
    (tmp_path / "seeds").mkdir()
    os.mkfifo(tmp_path / "seeds" / "crm_export.csv")  # a read would block forever
    assert findings(builder.check(tmp_path), "unclassified_personal_data") == []
