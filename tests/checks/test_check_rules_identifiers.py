"""unprotected_identifier on hand-made manifests."""

from __future__ import annotations

from pathlib import Path

from manifest_builder import ManifestBuilder, findings

POLICY = {"department": "a", "consent": ["x"], "retention": {"days": 1}}


def chain(macros: tuple[str, ...] = (), staged_columns: dict | None = None) -> ManifestBuilder:
    builder = ManifestBuilder()
    raw = builder.node("raw", "seed", POLICY, {"email": {"class": "direct_identifier"}, "zip": {"class": "quasi_identifier"}})
    staged = builder.node("staged", parents=(raw,), sql='select email, zip from "db"."main"."raw"', macros=macros, columns=staged_columns)
    builder.node("mart", parents=(staged,), sql='select email from "db"."main"."staged"')
    return builder


def test_raw_identifier_is_reported_at_the_first_model_only(tmp_path: Path) -> None:
    [finding] = findings(chain().check(tmp_path), "unprotected_identifier")
    assert finding.node == "model.demo.staged" and finding.evidence == {"columns": ["email"]}


def test_pseudonymize_in_the_lineage_protects(tmp_path: Path) -> None:
    assert findings(chain(macros=("macro.privacy_guard.pseudonymize",)).check(tmp_path), "unprotected_identifier") == []


def test_a_column_marked_pseudonymized_is_not_a_raw_identifier(tmp_path: Path) -> None:
    columns = {"email": {"protection": "pseudonymized"}}
    report = chain(staged_columns=columns).check(tmp_path)
    assert findings(report, "unprotected_identifier") == []
    assert report.analysis.policies["model.demo.mart"].columns["email"].protection == "pseudonymized"


def test_an_identifier_renamed_in_sql_is_still_tracked(tmp_path: Path) -> None:
    builder = ManifestBuilder()
    raw = builder.node("raw", "seed", POLICY, {"email": {"class": "direct_identifier"}})
    builder.node("renamed", parents=(raw,), sql='select lower(email) as contact from "db"."main"."raw"')
    [finding] = findings(builder.check(tmp_path), "unprotected_identifier")
    assert finding.evidence == {"columns": ["contact"]}
