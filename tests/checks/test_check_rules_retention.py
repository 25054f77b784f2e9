"""retention_conflict and retention_expired (against a real DuckDB file)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from manifest_builder import AS_OF, ManifestBuilder, findings
from python_checks.check import run_check


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
    # Table and incremental store rows; a view or an ephemeral model keeps none of its own: inheriting is enough.
    stored = {m: len(findings(retained(None, m).check(tmp_path / m), "retention_conflict")) for m in ("table", "incremental", "view", "ephemeral")}
    assert stored == {"table": 1, "incremental": 1, "view": 0, "ephemeral": 0}


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
    assert finding.evidence["purged_by_purge_expired"] is True and finding.message.endswith("purge_expired deletes them")


def expired_rows_of(tmp_path: Path, materialized: str, settings: dict | None = None, as_of: dt.date | None = AS_OF) -> list:
    """retention_expired on `kept` (30 days, seen_on) over a table with rows 10, 30, 31 and 100 days before 2026-01-15."""
    builder = ManifestBuilder()
    builder.node("kept", privacy={"department": "a", "consent": ["x"], "retention": {"days": 30, "date_column": "seen_on"}}, materialized=materialized)
    tmp_path.mkdir(parents=True, exist_ok=True)
    database = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(database)) as connection:
        connection.execute("create table main.kept as select * from (values (date '2026-01-05'), (date '2025-12-16'), (date '2025-12-15'), (date '2025-10-07')) t(seen_on)")
    return findings(run_check(builder.write(tmp_path, settings), database=database, as_of=as_of), "retention_expired")


def test_the_finding_says_whether_purge_expired_removes_the_rows(tmp_path: Path) -> None:
    [table] = expired_rows_of(tmp_path / "t", "table")
    [view] = expired_rows_of(tmp_path / "v", "view")
    assert (table.evidence["expired_rows"], table.evidence["purged_by_purge_expired"]) == (2, True)
    assert (view.evidence["expired_rows"], view.evidence["purged_by_purge_expired"]) == (2, False)
    assert "purge_expired leaves them" in view.message


def test_the_frozen_today_var_is_the_default_as_of(tmp_path: Path) -> None:
    # today 2026-02-20: cutoff 2026-01-21, so all four rows are past 30 days.
    [finding] = expired_rows_of(tmp_path, "table", {"today": "2026-02-20"}, as_of=None)
    assert (finding.evidence["expired_rows"], finding.evidence["as_of"]) == (4, "2026-02-20")


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
