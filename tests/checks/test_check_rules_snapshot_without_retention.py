"""snapshot_without_retention (issue 7.9): a snapshot keeps history, so it needs its own retention with a date column."""

from __future__ import annotations

from pathlib import Path

from manifest_builder import ManifestBuilder, findings

QI = {"class": "quasi_identifier"}


def test_personal_snapshots_need_a_retention_with_a_date_column(tmp_path: Path) -> None:
    builder = ManifestBuilder()
    seed = builder.node("people", "seed", {"department": "a", "consent": ["x"], "retention": {"days": 30}}, {"zip": QI})
    lookup = builder.node("plans", "seed", columns={"plan": None})
    builder.node("people_history", "snapshot", parents=(seed,), materialized="snapshot")
    builder.node("people_history_days_only", "snapshot", {"retention": {"days": 30}}, parents=(seed,), materialized="snapshot")
    builder.node("people_history_ok", "snapshot", {"retention": {"days": 30, "date_column": "dbt_valid_to"}}, parents=(seed,), materialized="snapshot")
    builder.node("plans_history", "snapshot", parents=(lookup,), materialized="snapshot")  # not personal
    report = builder.check(tmp_path)
    found = {f.node: f for f in findings(report, "snapshot_without_retention")}
    assert set(found) == {"snapshot.demo.people_history", "snapshot.demo.people_history_days_only"}
    assert found["snapshot.demo.people_history"].message == "snapshot people_history keeps the history of personal data but declares no retention"
    assert found["snapshot.demo.people_history_days_only"].evidence == {"declared_retention": {"days": 30}, "upstream_days": 30}
    # The one problem is reported once: retention_conflict does not also say "declares none".
    assert findings(report, "retention_conflict") == []
