"""The same fixture projects on every adapter: same outcomes, same numbers.

Each fixture is built on DuckDB and on a throwaway PostgreSQL server (tests/postgres_server.py)
and the run results (status and failure count per node) and every stored failure row (the class
sizes, l, t and risk measures the privacy tests store) must be equal across adapters.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

import postgres_server
from dbt_harness import DbtResult, dbt, dbt_project
from test_pseudonymization import KEY, assert_no_key, expected, written_files

pytestmark = [pytest.mark.dbt, pytest.mark.postgres]

ADAPTERS = ["duckdb", "postgres"]
FIXTURES = ["privacy_tests_failing"]


def _normal(value: Any) -> Any:
    """Compare numbers as numbers: PostgreSQL returns numeric as Decimal, DuckDB as float."""
    if isinstance(value, (Decimal, float)):
        return round(float(value), 9)
    return value


def _stored_failures(adapter: str, location: Any, schema: str) -> dict[str, list[tuple[Any, ...]]]:
    """table name -> sorted rows, for every table in the schema dbt stores test failures in.

    location: the DuckDB file, or (server, database name) on PostgreSQL."""
    tables_sql = "select table_name from information_schema.tables where table_schema = {}"
    if adapter == "duckdb":
        with duckdb.connect(str(location), read_only=True) as connection:
            return _sorted_tables(lambda sql, parameters=None: connection.execute(sql, parameters).fetchall(), tables_sql.format("?"), schema)
    server, database = location
    return _sorted_tables(lambda sql, parameters=None: server.query(sql, database, parameters), tables_sql.format("%s"), schema)


def _sorted_tables(query: Callable[..., list[tuple[Any, ...]]], tables_sql: str, schema: str) -> dict[str, list[tuple[Any, ...]]]:
    tables = [row[0] for row in query(tables_sql, [schema])]
    return {table: sorted((tuple(_normal(v) for v in row) for row in query(f'select * from "{schema}"."{table}"')), key=repr) for table in tables}


def _build(adapter: str, fixture: str, tmp: Path, postgres: postgres_server.PostgresServer) -> tuple[DbtResult, Any]:
    if adapter == "duckdb":
        project = dbt_project(fixture, tmp)
        return dbt(project, "build"), tmp / f"{fixture}.duckdb"
    postgres.create_database(fixture)
    project = dbt_project(fixture, tmp, output=postgres_server.dbt_output(postgres, fixture))
    return dbt(project, "build"), (postgres, fixture)


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


KEY_OPTIONS = {"PGOPTIONS": f"-c privacy_guard.key={KEY}"}
READS_SETTING = "select current_setting('privacy_guard.key') as leaked from {{ ref('people') }}\n"


@pytest.fixture(scope="module")
def pseudonymized(tmp_path_factory: pytest.TempPathFactory, postgres: postgres_server.PostgresServer) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("pg_pseudonymization")
    postgres.create_database("pseudonyms")
    project = dbt_project("macros_project", tmp, output=postgres_server.dbt_output(postgres, "pseudonyms"))
    runs = {
        "ok": dbt(project, "build", "--select", "+pseudonymized_people", env=KEY_OPTIONS, check=True),
        "debug": dbt(project, "--debug", "run", "--select", "pseudonymized_people", env=KEY_OPTIONS, check=True),
        "docs": dbt(project, "docs", "generate", "--select", "+pseudonymized_people", env=KEY_OPTIONS, check=True),
        "missing": dbt(project, "run", "--select", "pseudonymized_people", env={"PGOPTIONS": ""}, check=False),
        "short": dbt(project, "run", "--select", "pseudonymized_people", env={"PGOPTIONS": "-c privacy_guard.key=too-short"}, check=False),
        "view": dbt(project, "run", "--select", "pseudonymized_view", env=KEY_OPTIONS, check=False),
    }
    rows = postgres.query(
        "select p.id, p.email, p.full_name, q.email_pseudonym, q.id_pseudonym, q.name_pseudonym"
        " from main.people p join main.pseudonymized_people q using (id)", "pseudonyms")
    (project / "models" / "reads_setting.sql").write_text(READS_SETTING)
    runs["reads_setting"] = dbt(project, "run", "--select", "pseudonymized_people", env=KEY_OPTIONS, check=False)
    return {"project": project, "tmp": tmp, "runs": runs, "rows": rows}


def test_postgres_pseudonyms_equal_python_hmac(pseudonymized: dict[str, Any]) -> None:
    rows = pseudonymized["rows"]
    assert len(rows) == 11
    for person_id, email, name, email_pseudonym, id_pseudonym, name_pseudonym in rows:
        assert email_pseudonym == expected(KEY, email)
        assert id_pseudonym == expected(KEY, person_id)
        assert name_pseudonym == expected(KEY, name)
    assert any(name is None for _, _, name, *_ in rows), "a NULL stays NULL"
    assert any(name and not name.isascii() for _, _, name, *_ in rows), "UTF-8 text"


def test_postgres_key_is_in_no_file_dbt_or_the_server_wrote(pseudonymized: dict[str, Any], postgres: postgres_server.PostgresServer) -> None:
    files = written_files(pseudonymized["project"], pseudonymized["tmp"])
    files += [p for p in postgres.data_dir.rglob("*.log") if p.is_file()] + [postgres.data_dir / "server.log"]
    assert {"manifest.json", "catalog.json", "partial_parse.msgpack", "dbt.log", "server.log"} <= {p.name for p in files}
    compiled = [p for p in files if p.name == "pseudonymized_people.sql" and "run" in p.parts]
    assert compiled and "current_setting('privacy_guard.key')" in compiled[0].read_text()
    runs = pseudonymized["runs"].values()
    assert_no_key(files, [r.stdout + r.stderr for r in runs], (KEY,))


@pytest.mark.parametrize(("run", "message"), [
    ("missing", "privacy_guard.pseudonymize: session setting privacy_guard.key is not set; pass it through libpq: PGOPTIONS="),
    ("short", "privacy_guard.pseudonymize: the key in session setting privacy_guard.key is shorter than 16 characters"),
    ("view", "privacy_guard.pseudonymize: materialize this model as a table"),
    ("reads_setting", "privacy_guard.pseudonymize: refusing to run: model.macros_project.reads_setting (models/reads_setting.sql) reads the setting privacy_guard.key"),
])
def test_postgres_unusable_set_up_fails_with_one_clear_line(pseudonymized: dict[str, Any], run: str, message: str) -> None:
    result = pseudonymized["runs"][run]
    assert result.returncode == 1
    assert message in result.stdout, result.stdout[-3000:]
