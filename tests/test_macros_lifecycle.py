"""within_retention, built for real by dbt on DuckDB, against the kept set computed here in Python.

The `retention_ages` seed holds ages in days (one NULL); `retention_events` dates each row that
many days before today. The spec: a row is kept when its age is at most `days` (a row exactly
`days` old is kept; a timestamp counts by its day), a NULL date is not. The `retention_limit`
test shares the cutoff: the model filtered at 30 days passes it at 30 days, and the model filtered at
10 days fails it at 8 days with exactly the rows 9 and 10 days old.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import duckdb
import pytest
from dbt_harness import FIXTURES, DbtResult, dbt, dbt_project

pytestmark = pytest.mark.dbt

SEED = FIXTURES / "macros_project" / "seeds" / "retention_ages.csv"


def ages() -> dict[int, int | None]:
    """event_id -> age in days, read from the seed file (not from the database)."""
    with SEED.open() as seed:
        return {int(row["event_id"]): int(row["age_days"]) if row["age_days"] else None for row in csv.DictReader(seed)}


def kept(days: int) -> list[int]:
    return sorted(event_id for event_id, age in ages().items() if age is not None and age <= days)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("lifecycle")
    project = dbt_project("macros_project", tmp)
    # retention_without_days is planted to fail, so the build exits non-zero.
    result = dbt(project, "build", "--select", "+path:models/lifecycle", "--store-failures", check=False)
    assert result.returncode == 1, f"the build itself failed:\n{result.stdout[-3000:]}"
    return {"result": result, "database": tmp / "macros_project.duckdb"}


def event_ids(database: Path, table: str) -> list[int]:
    with duckdb.connect(str(database), read_only=True) as con:
        return [row[0] for row in con.sql(f"select event_id from {table} order by 1").fetchall()]


def test_fixture_straddles_both_cutoffs() -> None:
    present = set(ages().values())
    assert {9, 10, 11, 29, 30, 31, None} <= present


def test_days_and_date_column_default_from_meta(built: dict[str, Any]) -> None:
    assert event_ids(built["database"], "kept_from_meta") == kept(30) == [1, 2, 3, 4, 5, 6]


def test_explicit_arguments_on_a_timestamp_column(built: dict[str, Any]) -> None:
    # event_ts is 23:00 on its day: the day counts, not the hour.
    assert event_ids(built["database"], "kept_by_timestamp") == kept(10) == [1, 2, 3]


def test_exactly_the_planted_nodes_fail(built: dict[str, Any]) -> None:
    result: DbtResult = built["result"]
    statuses = {unique_id.split(".")[2]: status for unique_id, status in result.statuses().items()}
    failing = {name: status for name, status in statuses.items() if status not in ("success", "pass")}
    assert failing == {
        "retention_without_days": "error",
        "privacy_guard_retention_limit_kept_by_timestamp_event_date__8": "fail",
        "privacy_guard_retention_limit_unfiltered_child_event_date__400": "fail",
    }
    assert statuses["privacy_guard_retention_limit_kept_from_meta_"] == "pass"


def test_retention_limit_counts_the_rows_past_the_shared_cutoff(built: dict[str, Any]) -> None:
    expired = len(kept(10)) - len(kept(8))
    with duckdb.connect(str(built["database"]), read_only=True) as con:
        rows = con.sql(
            'select expired_rows, retention_days from main_dbt_test__audit."privacy_guard_retention_limit_kept_by_timestamp_event_date__8"'
        ).fetchall()
    assert rows == [(expired, 8)] and expired == 2


def test_missing_days_names_the_macro_the_model_and_the_key(built: dict[str, Any]) -> None:
    assert (
        "privacy_guard.within_retention: model.macros_project.retention_without_days: needs privacy.retention.days "
        "(a whole number of days) in the model meta or a `days` argument (got null)"
    ) in built["result"].stdout


def test_a_child_is_held_to_its_parents_shorter_retention(built: dict[str, Any]) -> None:
    """Effective retention: the minimum along the lineage, whether the child restates a longer one or none."""
    assert event_ids(built["database"], "retained_30d") == sorted(ages())
    assert event_ids(built["database"], "restated_longer") == kept(30) == [1, 2, 3, 4, 5, 6]
    assert event_ids(built["database"], "forgot_retention") == kept(30)


def test_an_argument_cannot_loosen_the_inherited_retention(built: dict[str, Any]) -> None:
    expired = sum(age is not None and age > 30 for age in ages().values())
    with duckdb.connect(str(built["database"]), read_only=True) as con:
        rows = con.sql(
            'select expired_rows, retention_days from main_dbt_test__audit."privacy_guard_retention_limit_unfiltered_child_event_date__400"'
        ).fetchall()
    assert rows == [(expired, 30)] and expired > 0
