"""The same fixture projects on every adapter: same outcomes, same numbers.

Each fixture is built on DuckDB and on each other adapter (a throwaway PostgreSQL server,
tests/postgres_server.py, marker `postgres`; a local Spark Connect server, tests/spark_server.py,
marker `spark`), and the run results (status and failure count per node) and every stored failure
row (the class sizes, l, t and risk measures the privacy tests store) must be equal to DuckDB's.
`make test-postgres` and `make test-spark` each run their half; the DuckDB side is built once per run.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

import postgres_server
import spark_server
from dbt_harness import dbt, dbt_project
from test_pseudonymization import KEY, assert_no_key, expected, written_files

pytestmark = pytest.mark.dbt

OTHER_ADAPTERS = [pytest.param("postgres", marks=pytest.mark.postgres), pytest.param("spark", marks=pytest.mark.spark)]
FIXTURES = ["privacy_tests_failing"]


def _normal(value: Any) -> Any:
    """Compare numbers as numbers: PostgreSQL returns numeric as Decimal, DuckDB and Spark doubles as float."""
    if isinstance(value, (Decimal, float)):
        return round(float(value), 9)
    return value


def _sorted_rows(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return sorted((tuple(_normal(v) for v in row) for row in rows), key=repr)


def _project(adapter: str, fixture: str, tmp: Path, server: Any, with_key: bool = False) -> Path:
    """A copy of the fixture with its profile on `adapter` (a database or schema named after the fixture)."""
    if adapter == "duckdb":
        return dbt_project(fixture, tmp)
    if adapter == "postgres":
        server.create_database(fixture)
        return dbt_project(fixture, tmp, output=postgres_server.dbt_output(server, fixture))
    return dbt_project(fixture, tmp, output=spark_server.dbt_output(server, fixture, with_key=with_key))


def _stored_failures(adapter: str, project: Path, server: Any) -> dict[str, list[tuple[Any, ...]]]:
    """table name -> sorted rows, for every table of the schema dbt stores test failures in."""
    fixture = project.name
    if adapter == "spark":
        schema = f"{fixture}_dbt_test__audit"
        tables = [row[1] for row in server.query(f"show tables in {schema}")]
        return {table: _sorted_rows(server.query(f"select * from {schema}.{table}")) for table in tables}
    tables_sql = "select table_name from information_schema.tables where table_schema = {}"
    if adapter == "duckdb":
        with duckdb.connect(str(project.parent / f"{fixture}.duckdb"), read_only=True) as connection:
            return _tables(lambda sql, parameters=None: connection.execute(sql, parameters).fetchall(), tables_sql.format("?"))
    return _tables(lambda sql, parameters=None: server.query(sql, fixture, parameters), tables_sql.format("%s"))


def _tables(query: Callable[..., list[tuple[Any, ...]]], tables_sql: str) -> dict[str, list[tuple[Any, ...]]]:
    schema = "main_dbt_test__audit"
    tables = [row[0] for row in query(tables_sql, [schema])]
    return {table: _sorted_rows(query(f'select * from "{schema}"."{table}"')) for table in tables}


#: What each purge_expired line says, without the relation's adapter-specific name.
PURGE_LINE = re.compile(r"purge_expired: (\S+) \(.*?\): (\d+ rows past \d+ days \(cutoff [0-9-]+(?:, oldest [0-9-]+)?\))")


@pytest.fixture(scope="module")
def builds(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Callable[[str, str], dict[str, Any]]:
    """(adapter, fixture) -> its build, built on first use: a `-m spark` run never starts PostgreSQL."""
    cache: dict[tuple[str, str], dict[str, Any]] = {}

    def build(adapter: str, fixture: str) -> dict[str, Any]:
        if (adapter, fixture) not in cache:
            server = None if adapter == "duckdb" else request.getfixturevalue(adapter)
            project = _project(adapter, fixture, tmp_path_factory.mktemp(f"{adapter}_{fixture}"), server)
            result = dbt(project, "build")
            failures = result.failures()
            outcomes = {uid: (status, failures[uid]) for uid, status in result.statuses().items()}
            purge = dbt(project, "run-operation", "privacy_guard.purge_expired", check=True)
            cache[(adapter, fixture)] = {
                "project": project,
                "outcomes": outcomes,
                "stored": _stored_failures(adapter, project, server),
                "stdout": result.stdout,
                "purge_plan": sorted(PURGE_LINE.findall(purge.stdout)),
            }
        return cache[(adapter, fixture)]

    return build


@pytest.mark.parametrize("adapter", OTHER_ADAPTERS)
@pytest.mark.parametrize("fixture", FIXTURES)
def test_outcomes_equal_duckdb(builds: Callable[[str, str], dict[str, Any]], adapter: str, fixture: str) -> None:
    duck, other = builds("duckdb", fixture), builds(adapter, fixture)
    assert other["outcomes"] == duck["outcomes"], other["stdout"][-4000:]


@pytest.mark.parametrize("adapter", OTHER_ADAPTERS)
def test_planted_failures_really_fail(builds: Callable[[str, str], dict[str, Any]], adapter: str) -> None:
    # Guards the equality above against "both adapters error everywhere": the planted k violation
    # (one class of size 5 below k), the planted t violation and the hostile column names fail
    # with their planted counts; the people-based k test counts people, not rows.
    outcomes = {uid.split(".")[2]: outcome for uid, outcome in builds(adapter, "privacy_tests_failing")["outcomes"].items()}
    assert outcomes["privacy_guard_k_anonymity_k_violation_"] == ("fail", 1)
    assert outcomes["privacy_guard_t_closeness_t_violation_"] == ("fail", 2)
    assert outcomes["people_k_anonymity"] == ("warn", 2)
    assert outcomes["hostile_min_cell_size"] == ("warn", 2)
    assert outcomes["canary"] == ("success", None)
    assert outcomes["leaky_identifiers"] == ("success", None)


@pytest.mark.parametrize("adapter", OTHER_ADAPTERS)
@pytest.mark.parametrize("fixture", FIXTURES)
def test_stored_measures_equal_duckdb(builds: Callable[[str, str], dict[str, Any]], adapter: str, fixture: str) -> None:
    duck, other = builds("duckdb", fixture)["stored"], builds(adapter, fixture)["stored"]
    assert duck, "the fixture stores failures: no table means the comparison proves nothing"
    assert other == duck


@pytest.mark.parametrize("adapter", OTHER_ADAPTERS)
def test_purge_dry_run_counts_equal_duckdb(builds: Callable[[str, str], dict[str, Any]], adapter: str) -> None:
    duck, other = builds("duckdb", "privacy_tests_failing")["purge_plan"], builds(adapter, "privacy_tests_failing")["purge_plan"]
    assert dict(duck)["model.privacy_tests_failing.expired_visits"].startswith("2 rows past 30 days")
    assert other == duck


@pytest.mark.spark
def test_purge_delete_refused_on_spark_before_anything_runs(builds: Callable[[str, str], dict[str, Any]], spark: spark_server.SparkServer) -> None:
    project = builds("spark", "privacy_tests_failing")["project"]
    result = dbt(project, "run-operation", "privacy_guard.purge_expired", "--args", "{dry_run: false}", check=False)
    assert "privacy_guard.purge_expired: deleting is not supported on Spark" in result.stdout, result.stdout[-3000:]
    assert "Traceback" not in result.stdout + result.stderr
    assert spark.query("select count(*) from privacy_tests_failing.expired_visits") == [(6,)], "nothing deleted"


# --- pseudonymize: the key from the environment, never in anything written ---------------------

#: Per adapter: how the key reaches the session (environment of dbt), an unset and a short key,
#: SQL of a model that reads the key's setting itself, and the messages of the refused set-ups.
KEY_SETUPS: dict[str, dict[str, Any]] = {
    "postgres": {
        "ok": {"PGOPTIONS": f"-c privacy_guard.key={KEY}"},
        "missing": {"PGOPTIONS": ""},
        "short": {"PGOPTIONS": "-c privacy_guard.key=too-short"},
        "reads_setting": "select current_setting('privacy_guard.key') as leaked from {{ ref('people') }}\n",
        "messages": {
            "missing": "privacy_guard.pseudonymize: session setting privacy_guard.key is not set; pass it through libpq: PGOPTIONS=",
            "short": "privacy_guard.pseudonymize: the key in session setting privacy_guard.key is shorter than 16 characters",
            "reads_setting": "privacy_guard.pseudonymize: refusing to run: model.macros_project.reads_setting (models/reads_setting.sql) reads the setting privacy_guard.key",
        },
    },
    "spark": {
        "ok": {"PRIVACY_GUARD_KEY": KEY},
        "missing": {"PRIVACY_GUARD_KEY": ""},
        "short": {"PRIVACY_GUARD_KEY": "too-short"},
        "reads_setting": "select '${spark.privacy_guard.key}' as leaked from {{ ref('people') }}\n",
        "messages": {
            "missing": "privacy_guard.pseudonymize: session setting spark.privacy_guard.key is not set; pass it from the environment in the profile: server_side_parameters: {spark.privacy_guard.key: \"{{ env_var('PRIVACY_GUARD_KEY') }}\"}",
            "short": "privacy_guard.pseudonymize: the key in session setting spark.privacy_guard.key is shorter than 16 characters",
            "reads_setting": "privacy_guard.pseudonymize: refusing to run: model.macros_project.reads_setting (models/reads_setting.sql) reads the setting spark.privacy_guard.key",
        },
    },
}
#: NULL in, NULL out, without a seed: dbt-spark 1.11's session seeds load an empty CSV cell as the text 'None'.
NULL_MODEL = "select {{ privacy_guard.pseudonymize('cast(null as ' ~ dbt.type_string() ~ ')') }} as null_pseudonym\n"
SCHEMAS = {"postgres": "main", "spark": "macros_project"}
SELECT_ROWS = "select p.id, p.email, p.full_name, q.email_pseudonym, q.id_pseudonym, q.name_pseudonym from {schema}.people p join {schema}.pseudonymized_people q using (id)"


@pytest.fixture(scope="module")
def pseudonymized(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], dict[str, Any]]:
    """adapter -> the macros_project's pseudonymization runs on it (ok, debug, docs and the refused set-ups)."""
    cache: dict[str, dict[str, Any]] = {}

    def runs_on(adapter: str) -> dict[str, Any]:
        if adapter in cache:
            return cache[adapter]
        server = request.getfixturevalue(adapter)
        setup = KEY_SETUPS[adapter]
        tmp = tmp_path_factory.mktemp(f"{adapter}_pseudonymization")
        project = _project(adapter, "macros_project", tmp, server, with_key=True)
        (project / "models" / "pseudonymized_null.sql").write_text(NULL_MODEL)
        runs = {
            "ok": dbt(project, "build", "--select", "+pseudonymized_people", "pseudonymized_null", env=setup["ok"], check=True),
            "debug": dbt(project, "--debug", "run", "--select", "pseudonymized_people", env=setup["ok"], check=True),
            "docs": dbt(project, "docs", "generate", "--select", "+pseudonymized_people", env=setup["ok"], check=True),
            "missing": dbt(project, "run", "--select", "pseudonymized_people", env=setup["missing"], check=False),
            "short": dbt(project, "run", "--select", "pseudonymized_people", env=setup["short"], check=False),
            "view": dbt(project, "run", "--select", "pseudonymized_view", env=setup["ok"], check=False),
        }
        database = ["macros_project"] if adapter == "postgres" else []
        rows = server.query(SELECT_ROWS.format(schema=SCHEMAS[adapter]), *database)
        null_rows = server.query(f"select null_pseudonym from {SCHEMAS[adapter]}.pseudonymized_null", *database)
        (project / "models" / "reads_setting.sql").write_text(setup["reads_setting"])
        runs["reads_setting"] = dbt(project, "run", "--select", "pseudonymized_people", env=setup["ok"], check=False)
        cache[adapter] = {"project": project, "tmp": tmp, "runs": runs, "rows": rows, "null_rows": null_rows, "server": server}
        return cache[adapter]

    return runs_on


@pytest.mark.parametrize("adapter", OTHER_ADAPTERS)
def test_pseudonyms_equal_python_hmac(pseudonymized: Callable[[str], dict[str, Any]], adapter: str) -> None:
    built = pseudonymized(adapter)
    rows = built["rows"]
    assert len(rows) == 11
    for person_id, email, name, email_pseudonym, id_pseudonym, name_pseudonym in rows:
        assert email_pseudonym == expected(KEY, email)
        assert id_pseudonym == expected(KEY, person_id)
        assert name_pseudonym == expected(KEY, name)
    assert built["null_rows"] == [(None,)], "a NULL stays NULL"
    assert any(name and not name.isascii() for _, _, name, *_ in rows), "UTF-8 text"


def _server_files(adapter: str, server: Any) -> list[Path]:
    """What the server wrote: PostgreSQL's logs; Spark's log, console, Derby metastore and warehouse."""
    if adapter == "postgres":
        return [p for p in server.data_dir.rglob("*.log") if p.is_file()] + [server.data_dir / "server.log"]
    return [p for p in server.root.rglob("*") if p.is_file()]


@pytest.mark.parametrize("adapter", OTHER_ADAPTERS)
def test_key_is_in_no_file_dbt_or_the_server_wrote(pseudonymized: Callable[[str], dict[str, Any]], adapter: str) -> None:
    built = pseudonymized(adapter)
    files = written_files(built["project"], built["tmp"]) + _server_files(adapter, built["server"])
    server_log = "server.log" if adapter == "postgres" else "spark.log"
    assert {"manifest.json", "catalog.json", "partial_parse.msgpack", "dbt.log", server_log} <= {p.name for p in files}
    compiled = [p for p in files if p.name == "pseudonymized_people.sql" and "run" in p.parts]
    placeholder = "current_setting('privacy_guard.key')" if adapter == "postgres" else "r'${spark.privacy_guard.key}'"
    assert compiled and placeholder in compiled[0].read_text()
    runs = built["runs"].values()
    assert_no_key(files, [r.stdout + r.stderr for r in runs], (KEY,))


@pytest.mark.parametrize("adapter", OTHER_ADAPTERS)
@pytest.mark.parametrize("run", ["missing", "short", "view", "reads_setting"])
def test_unusable_key_set_up_fails_with_one_clear_line(pseudonymized: Callable[[str], dict[str, Any]], adapter: str, run: str) -> None:
    message = KEY_SETUPS[adapter]["messages"].get(run, "privacy_guard.pseudonymize: materialize this model as a table")
    result = pseudonymized(adapter)["runs"][run]
    assert result.returncode == 1
    assert message in result.stdout, result.stdout[-3000:]
    assert "Traceback" not in result.stdout + result.stderr
