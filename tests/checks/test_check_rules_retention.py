"""retention_conflict and retention_expired (against a real DuckDB file)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from manifest_builder import ManifestBuilder, findings


def retained(declared: dict | None, materialized: str = "table", date_column: str | None = None) -> ManifestBuilder:
    builder = ManifestBuilder()
    retention = {"days": 90} | ({"date_column": date_column} if date_column else {})
    short = builder.node("short", "seed", {"department": "a", "consent": ["x"], "retention": retention}, {"zip": {"class": "quasi_identifier"}})
    long = builder.node("long", "seed", {"department": "a", "consent": ["x"], "retention": {"days": 365}}, {"age": {"class": "quasi_identifier"}})
    builder.node("kept", privacy={"retention": declared} if declared else {}, parents=(short, long), materialized=materialized)
    return builder


def test_longer_retention_than_upstream_is_a_conflict(tmp_path: Path) -> None:
    [finding] = findings(retained({"days": 120}).check(tmp_path), "retention_conflict")
    assert finding.evidence == {"declared_days": 120, "upstream_days": 90, "limited_by": ["seed.demo.short"]}


def test_retention_within_the_upstream_minimum_is_fine(tmp_path: Path) -> None:
    report = retained({"days": 90}).check(tmp_path)
    assert findings(report, "retention_conflict") == []
    assert report.analysis.policies["model.demo.kept"].retention_days == 90


def test_a_stored_table_without_retention_loses_the_limit(tmp_path: Path) -> None:
    [finding] = findings(retained(None).check(tmp_path), "retention_conflict")
    assert "declares none" in finding.message
    # A view keeps no rows of its own: inheriting is enough.
    assert findings(retained(None, "view").check(tmp_path / "view"), "retention_conflict") == []


def test_rows_older_than_the_effective_retention_are_counted(tmp_path: Path) -> None:
    database = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(database)) as connection:
        connection.execute("create schema main_x; create table main.short (zip varchar, seen_on date)")
        # AS_OF is 2026-01-15; 90 days before is 2025-10-17.
        connection.execute("insert into main.short values ('1', '2025-10-16'), ('2', '2025-10-17'), ('3', '2026-01-01'), ('4', '2024-01-01')")
    report = retained(None, date_column="seen_on").check(tmp_path, database=database)
    [finding] = findings(report, "retention_expired")
    assert finding.node == "seed.demo.short"
    assert (finding.evidence["expired_rows"], finding.evidence["rows"]) == (2, 4)
    assert "1" not in str(finding.evidence.get("zip", ""))  # counts only, no rows


def test_a_missing_table_is_a_note_not_a_crash(tmp_path: Path) -> None:
    database = tmp_path / "empty.duckdb"
    duckdb.connect(str(database)).close()
    report = retained(None, date_column="seen_on").check(tmp_path, database=database)
    assert findings(report, "retention_expired") == []
    # (the manifest-level note: this hand-made manifest has no compiled SQL)
    assert [note.node for note in report.analysis.notes] == [None, "seed.demo.short"]


def test_without_a_database_the_rule_is_skipped(tmp_path: Path) -> None:
    report = retained(None, date_column="seen_on").check(tmp_path)
    assert report.analysis.rule_status["retention_expired"] == "skipped: needs --database"
