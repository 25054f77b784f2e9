"""missing_purpose (issue 7.6): leaving purpose out must not skip the consent and agreement checks."""

from __future__ import annotations

from pathlib import Path

from manifest_builder import ManifestBuilder, findings

QI = {"class": "quasi_identifier"}
SEED = {"consent": ["research"], "retention": {"days": 365}}


def test_purpose_is_required_where_consented_data_is_stored_combined_or_exposed(tmp_path: Path) -> None:
    builder = ManifestBuilder()
    a = builder.node("a", "seed", {"department": "a", **SEED}, {"zip": QI})
    b = builder.node("b", "seed", {"department": "b", **SEED}, {"age": QI})
    staging = builder.node("stg_a", parents=(a,), materialized="table")  # staging: stores under its collection consent
    builder.node("mart_table", parents=(staging,), materialized="table")  # risky: stores consented data, no purpose
    builder.node("mart_view", parents=(staging,))  # a view stores nothing
    builder.node("mart_with_purpose", privacy={"purpose": "research"}, parents=(staging,), materialized="incremental")
    builder.node("meeting_view", privacy={"agreement": "ab"}, parents=(a, b))  # risky: departments meet, no purpose
    builder.node("meeting_with_purpose", privacy={"agreement": "ab", "purpose": "research"}, parents=(a, b))
    builder.node("inherits_purpose", parents=("model.demo.mart_with_purpose",), materialized="table")
    builder.exposure("dashboard", (staging,))  # risky: a consumer of consented data, no purpose
    builder.exposure("dashboard_ok", (staging,), {"purpose": "research"})
    lookup = builder.node("calendar", "seed")
    builder.node("calendar_table", parents=(lookup, "model.demo.mart_view"), materialized="table", privacy={"purpose": "research"})
    report = builder.check(tmp_path, {"agreements": [{"id": "ab", "departments": ["a", "b"], "purposes": ["research"], "expires": "2099-12-31"}]})
    found = {f.node: f for f in findings(report, "missing_purpose")}
    assert set(found) == {"model.demo.mart_table", "model.demo.meeting_view", "exposure.demo.dashboard"}
    assert {f.severity for f in found.values()} == {"error"}
    assert found["model.demo.meeting_view"].message == "model meeting_view combines a, b but serves no declared purpose"
    assert found["model.demo.mart_table"].evidence == {"consent": ["research"], "meeting_departments": []}
