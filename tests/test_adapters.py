"""The same fixture projects on every adapter: same outcomes, same numbers.

Each fixture is built on DuckDB and on a throwaway PostgreSQL server (tests/postgres_server.py)
and the run results (status and failure count per node) and every stored failure row (the class
sizes, l, t and risk measures the privacy tests store) must be equal across adapters.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import psycopg2
import pytest

import postgres_server
from dbt_harness import DbtResult, dbt, dbt_project

pytestmark = pytest.mark.dbt

ADAPTERS = ["duckdb", "postgres"]
FIXTURES = ["privacy_tests_failing"]


def _normal(value: Any) -> Any:
    """Compare numbers as numbers: PostgreSQL returns numeric as Decimal, DuckDB as float."""
    if isinstance(value, (Decimal, float)):
        return round(float(value), 9)
    return value


def _stored_failures(adapter: str, location: Any, schema: str) -> dict[str, list[tuple[Any, ...]]]:
    """table name -> sorted rows, for every table in the schema dbt stores test failures in."""
    if adapter == "duckdb":
        connection = duckdb.connect(str(location), read_only=True)
        tables = [r[0] for r in connection.execute("select table_name from information_schema.tables where table_schema = ?", [schema]).fetchall()]
        fetch = lambda table: connection.execute(f'select * from "{schema}"."{table}"').fetchall()  # noqa: E731
    else:
        connection = psycopg2.connect(host=location.host, port=location.port, user=location.user, dbname=location.dbname)
        cursor = connection.cursor()
        cursor.execute("select table_name from information_schema.tables where table_schema = %s", [schema])
        tables = [r[0] for r in cursor.fetchall()]

        def fetch(table: str) -> list[tuple[Any, ...]]:
            cursor.execute(f'select * from "{schema}"."{table}"')
            return cursor.fetchall()

    try:
        return {table: sorted((tuple(_normal(v) for v in row) for row in fetch(table)), key=repr) for table in tables}
    finally:
        connection.close()


class _PgLocation:
    def __init__(self, server: postgres_server.PostgresServer, dbname: str) -> None:
        self.host, self.port, self.user, self.dbname = server.host, server.port, server.user, dbname


def _build(adapter: str, fixture: str, tmp: Path, postgres: postgres_server.PostgresServer | None) -> tuple[DbtResult, Any]:
    if adapter == "duckdb":
        project = dbt_project(fixture, tmp)
        return dbt(project, "build"), tmp / f"{fixture}.duckdb"
    assert postgres is not None
    postgres.create_database(fixture)
    project = dbt_project(fixture, tmp, output=postgres_server.dbt_output(postgres, fixture))
    return dbt(project, "build"), _PgLocation(postgres, fixture)


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory, postgres: postgres_server.PostgresServer) -> dict[tuple[str, str], dict[str, Any]]:
    out = {}
    for fixture in FIXTURES:
        for adapter in ADAPTERS:
            result, location = _build(adapter, fixture, tmp_path_factory.mktemp(f"{adapter}_{fixture}"), postgres)
            failures = result.failures()
            out[(adapter, fixture)] = {
                "outcomes": {uid: (status, failures[uid]) for uid, status in result.statuses().items()},
                "stored": _stored_failures(adapter, location, "main_dbt_test__audit"),
                "stdout": result.stdout,
            }
    return out


@pytest.mark.parametrize("fixture", FIXTURES)
def test_postgres_outcomes_equal_duckdb(builds: dict[tuple[str, str], dict[str, Any]], fixture: str) -> None:
    duck, pg = builds[("duckdb", fixture)], builds[("postgres", fixture)]
    assert pg["outcomes"] == duck["outcomes"], pg["stdout"][-4000:]


def test_planted_failures_really_fail_on_postgres(builds: dict[tuple[str, str], dict[str, Any]]) -> None:
    # Guards the equality above against "both adapters error everywhere": the planted k violation
    # (one class of size 5 below k) and the planted t violation fail with their planted counts.
    outcomes = {uid.split(".")[2]: outcome for uid, outcome in builds[("postgres", "privacy_tests_failing")]["outcomes"].items()}
    assert outcomes["privacy_guard_k_anonymity_k_violation_"] == ("fail", 1)
    assert outcomes["privacy_guard_t_closeness_t_violation_"] == ("fail", 2)
    assert outcomes["leaky_identifiers"] == ("success", None)


@pytest.mark.parametrize("fixture", FIXTURES)
def test_stored_measures_equal_duckdb(builds: dict[tuple[str, str], dict[str, Any]], fixture: str) -> None:
    duck, pg = builds[("duckdb", fixture)]["stored"], builds[("postgres", fixture)]["stored"]
    assert duck, "the fixture stores failures: no table means the comparison proves nothing"
    assert pg == duck
