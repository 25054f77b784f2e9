"""privacy_guard.purge_expired, run for real by dbt on DuckDB (tests/fixtures/lifecycle_project).

Today is frozen by vars.privacy_guard.today (2026-06-01), so the effective 30-day retention of the
clinic seed puts the cutoff at 2026-05-02 (a row exactly 30 days old is kept, a NULL date is never
aged). The expected counts are worked out here from the seed CSV, not read back from the macro.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from pathlib import Path
from typing import Any

import duckdb
import pytest
from dbt_harness import FIXTURES, dbt, dbt_project

pytestmark = pytest.mark.dbt

TODAY = dt.date(2026, 6, 1)
CUTOFF = TODAY - dt.timedelta(days=30)
SEED = FIXTURES / "lifecycle_project" / "seeds" / "clinic_visits.csv"
PREFIX = "model.lifecycle_project."
SEED_ID = "seed.lifecycle_project.clinic_visits"
LINE = re.compile(r"privacy_guard\.purge_expired: (\S+) \(\S+\): (\d+) rows past (\d+) days \(cutoff (\S+?)[,)]")


def dates() -> dict[int, dt.date | None]:
    with SEED.open() as seed:
        return {int(r["visit_id"]): dt.date.fromisoformat(r["visit_date"]) if r["visit_date"] else None for r in csv.DictReader(seed)}


EXPIRED = sorted(i for i, d in dates().items() if d is not None and d < CUTOFF)
KEPT = sorted(set(dates()) - set(EXPIRED))


def reported(stdout: str) -> dict[str, int]:
    """unique_id -> rows past retention, from the operation's console lines (each at 30 days, cutoff CUTOFF)."""
    found = {}
    for unique_id, rows, days, cutoff in LINE.findall(stdout):
        assert (int(days), cutoff) == (30, CUTOFF.isoformat()), (unique_id, days, cutoff)
        found[unique_id] = int(rows)
    return found


def ids(database: Path, table: str) -> list[int]:
    with duckdb.connect(str(database), read_only=True) as con:
        return [row[0] for row in con.sql(f"select visit_id from {table} order by 1").fetchall()]


def purge(project: Path, args: str = "{}") -> str:
    return dbt(project, "run-operation", "privacy_guard.purge_expired", "--args", args, check=True).stdout


@pytest.fixture(scope="module")
def lifecycle(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("purge")
    project = dbt_project("lifecycle_project", tmp)
    dbt(project, "build", check=True)
    database = tmp / "lifecycle_project.duckdb"
    runs = {"dry": purge(project)}
    runs["dry_tables"] = {t: ids(database, t) for t in ("clinic_visits", "visits_table")}
    runs["selected"] = purge(project, "{select: visits_table}")
    runs["first"] = purge(project, "{dry_run: false, exclude: [visits_table]}")
    runs["after_first"] = {t: ids(database, t) for t in ("clinic_visits", "visits_table", "visits_incremental")}
    dbt(project, "run", "--select", "visits_incremental", check=True)
    runs["incremental_rerun"] = ids(database, "visits_incremental")
    runs["second"] = purge(project, "{dry_run: false}")
    runs["third"] = purge(project, "{dry_run: false}")
    with duckdb.connect(str(database), read_only=True) as con:
        runs["audit"] = con.sql(
            "select invocation_id, unique_id, retention_days, cutoff, rows_deleted from audit_log.privacy_guard_purges order by purged_at, unique_id"
        ).fetchall()
    return {"project": project, "database": database, **runs}


def test_seed_straddles_the_cutoff() -> None:
    assert CUTOFF in dates().values() and CUTOFF - dt.timedelta(days=1) in dates().values() and None in dates().values()
    assert len(EXPIRED) == 14 and len(KEPT) == 7


def test_dry_run_counts_per_owned_relation_and_deletes_nothing(lifecycle: dict[str, Any]) -> None:
    # visits_table restates 365 days and visits_incremental 60: the seed's 30 days win for both;
    # visits_view holds no rows of its own and is never listed.
    assert reported(lifecycle["dry"]) == {SEED_ID: len(EXPIRED), PREFIX + "visits_table": len(EXPIRED), PREFIX + "visits_incremental": 0}
    assert lifecycle["dry_tables"] == {"clinic_visits": sorted(dates()), "visits_table": sorted(dates())}
    assert "dry run, nothing deleted (28 rows in 3 relations)" in lifecycle["dry"]


def test_select_limits_the_relations(lifecycle: dict[str, Any]) -> None:
    assert reported(lifecycle["selected"]) == {PREFIX + "visits_table": len(EXPIRED)}


def test_purge_deletes_exactly_the_expired_rows_of_the_selected_relations(lifecycle: dict[str, Any]) -> None:
    assert reported(lifecycle["first"]) == {SEED_ID: len(EXPIRED), PREFIX + "visits_incremental": 0}
    assert lifecycle["after_first"] == {"clinic_visits": KEPT, "visits_table": sorted(dates()), "visits_incremental": [i for i in KEPT if dates()[i]]}


def test_incremental_rerun_does_not_bring_expired_rows_back(lifecycle: dict[str, Any]) -> None:
    assert lifecycle["incremental_rerun"] == [i for i in KEPT if dates()[i]]


def test_second_run_deletes_the_excluded_table_then_nothing(lifecycle: dict[str, Any]) -> None:
    assert reported(lifecycle["second"]) == {SEED_ID: 0, PREFIX + "visits_table": len(EXPIRED), PREFIX + "visits_incremental": 0}
    assert reported(lifecycle["third"]) == {SEED_ID: 0, PREFIX + "visits_table": 0, PREFIX + "visits_incremental": 0}


def test_audit_rows_record_each_real_purge(lifecycle: dict[str, Any]) -> None:
    audit = lifecycle["audit"]
    runs = list(dict.fromkeys(row[0] for row in audit))
    assert len(runs) == 3  # the dry runs write nothing
    by_run = [{row[1]: (row[2], row[3], row[4]) for row in audit if row[0] == run} for run in runs]
    assert by_run == [
        {SEED_ID: (30, CUTOFF, len(EXPIRED)), PREFIX + "visits_incremental": (30, CUTOFF, 0)},
        {SEED_ID: (30, CUTOFF, 0), PREFIX + "visits_incremental": (30, CUTOFF, 0), PREFIX + "visits_table": (30, CUTOFF, len(EXPIRED))},
        {SEED_ID: (30, CUTOFF, 0), PREFIX + "visits_incremental": (30, CUTOFF, 0), PREFIX + "visits_table": (30, CUTOFF, 0)},
    ]


def test_unknown_date_column_is_one_clear_error(lifecycle: dict[str, Any]) -> None:
    project = lifecycle["project"]
    dbt(project, "run", "--select", "bad_date_column", "--vars", "{plant_bad: true}", check=True)
    result = dbt(project, "run-operation", "privacy_guard.purge_expired", "--vars", "{plant_bad: true}", "--args", "{dry_run: false}", check=False)
    assert (
        'privacy_guard.purge_expired: model.lifecycle_project.bad_date_column: privacy.retention.date_column "visit_date" '
        'is not a column of "lifecycle_project"."main"."bad_date_column"'
    ) in result.stdout
    assert "deleted" not in result.stdout


def test_negative_dry_run_flag_is_refused(lifecycle: dict[str, Any]) -> None:
    result = dbt(lifecycle["project"], "run-operation", "privacy_guard.purge_expired", "--args", "{dry_run: 'no'}", check=False)
    assert 'privacy_guard.purge_expired: dry_run must be true or false (got "no")' in result.stdout


# --- a snapshot and a source (tests/fixtures/purge_sources_project) -------------------------------

SOURCES_FIXTURE = FIXTURES / "purge_sources_project"
OTHER = "purge_sources_project"
# The rows another system loaded into the source crm.contacts: (contact_id, contacted_on).
CONTACTS = [(1, dt.date(2025, 12, 31)), (2, dt.date(2026, 5, 1)), (3, CUTOFF), (4, None)]
ALLOW_SOURCES = "{privacy_guard: {today: '2026-06-01', purge: {sources: true}}}"


def seed_dates(path: Path) -> dict[int, dt.date | None]:
    with path.open() as seed:
        return {int(r["visit_id"]): dt.date.fromisoformat(r["visit_date"]) if r["visit_date"] else None for r in csv.DictReader(seed)}


def expired_ids(found: dict[int, dt.date | None]) -> list[int]:
    return sorted(i for i, d in found.items() if d is not None and d < CUTOFF)


@pytest.fixture(scope="module")
def snapshot_and_source(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("purge_sources")
    project = dbt_project(OTHER, tmp)
    database = tmp / f"{OTHER}.duckdb"
    with duckdb.connect(str(database)) as con:
        con.execute("create schema crm; create table crm.contacts (contact_id integer, contacted_on date)")
        con.executemany("insert into crm.contacts values (?, ?)", CONTACTS)
    dbt(project, "build", check=True)
    runs = {"dry": purge(project), "not_allowed": purge(project, "{dry_run: false}")}
    with duckdb.connect(str(database), read_only=True) as con:
        runs["source_after_not_allowed"] = [row[0] for row in con.sql("select contact_id from crm.contacts order by 1").fetchall()]
    runs["allowed"] = dbt(project, "run-operation", "privacy_guard.purge_expired", "--vars", ALLOW_SOURCES, "--args", "{dry_run: false}", check=True).stdout
    with duckdb.connect(str(database), read_only=True) as con:
        runs["snapshot"] = [row[0] for row in con.sql("select visit_id from snapshots.visits_snapshot order by 1").fetchall()]
        runs["source"] = [row[0] for row in con.sql("select contact_id from crm.contacts order by 1").fetchall()]
    dbt(project, "run", "--select", "negative_days", "--vars", "{plant_negative: true}", check=True)
    runs["negative"] = dbt(project, "run-operation", "privacy_guard.purge_expired", "--vars", "{plant_negative: true}")
    return runs


def test_snapshot_rows_past_retention_are_purged_and_sources_only_when_allowed(snapshot_and_source: dict[str, Any]) -> None:
    visits = seed_dates(SOURCES_FIXTURE / "seeds" / "visits.csv")
    expired = expired_ids(visits)
    assert expired == [1, 2, 3]  # 2026-05-01 is one day before the cutoff; 2026-05-02 and the NULL date stay
    seed, snapshot, source = f"seed.{OTHER}.visits", f"snapshot.{OTHER}.visits_snapshot", f"source.{OTHER}.crm.contacts"
    assert reported(snapshot_and_source["dry"]) == {seed: len(expired), snapshot: len(expired)}
    assert reported(snapshot_and_source["not_allowed"]) == {seed: len(expired), snapshot: len(expired)}
    assert snapshot_and_source["source_after_not_allowed"] == [1, 2, 3, 4]
    contacts_expired = expired_ids(dict(CONTACTS))
    assert contacts_expired == [1, 2]
    assert reported(snapshot_and_source["allowed"]) == {seed: 0, snapshot: 0, source: len(contacts_expired)}
    assert snapshot_and_source["snapshot"] == sorted(set(visits) - set(expired))
    assert snapshot_and_source["source"] == sorted({i for i, _ in CONTACTS} - set(contacts_expired))


def test_negative_retention_days_is_one_clear_error(snapshot_and_source: dict[str, Any]) -> None:
    result = snapshot_and_source["negative"]
    assert result.returncode != 0
    assert f"model.{OTHER}.negative_days" in result.stdout and "(got -5)" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
