"""The same fixture projects on every adapter: same outcomes, same numbers.

Each fixture is built on DuckDB and on each other adapter it runs on (a throwaway PostgreSQL
server, tests/postgres_server.py, marker `postgres`; a local Spark Connect server,
tests/spark_server.py, marker `spark`), and the run results (status and failure count per node)
and every stored failure row (the class sizes, l, t and risk measures the privacy tests store)
must be equal to DuckDB's; on PostgreSQL also every table the build wrote (models, seeds:
generalized values, suppressed rows, noise drawn with a seed, risk summaries) and the rows
purge_expired counts and deletes. `make test-postgres` and `make test-spark` each run their half;
builds are made on first use (a `-m spark` run never starts PostgreSQL) and each fixture is built
once on DuckDB per run. Which fixture runs on which adapter: `Fixture.adapters`, docs/adapters.md.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

import postgres_server
import spark_server
from dbt_harness import ADULT_DIR, DbtResult, dbt, dbt_project
from python_checks.hierarchy import arx_to_seed
from test_pseudonymization import KEY, PLUGIN, assert_no_key, expected, written_files
from test_purge_expired import reported
from test_risk import cases, declared_yaml, with_person
from risk_oracle import adult_rows

pytestmark = pytest.mark.dbt

MARKS = {"postgres": pytest.mark.postgres, "spark": pytest.mark.spark}
OTHER_ADAPTERS = [pytest.param(adapter, marks=mark) for adapter, mark in MARKS.items()]
#: The key reaches pseudonymize through the plugin's environment variable on DuckDB, through a
#: libpq session setting on PostgreSQL and through the profile's session setting (read from the
#: environment) on Spark; never in SQL.
KEY_ENV = {"duckdb": {"PRIVACY_GUARD_KEY": KEY}, "postgres": {"PGOPTIONS": f"-c privacy_guard.key={KEY}"}, "spark": {"PRIVACY_GUARD_KEY": KEY}}
ADULT_TABLE = "raw.adult"
#: The schemas dbt writes to: models and seeds, and stored test failures.
MAIN, AUDIT = "main", "main_dbt_test__audit"


@dataclass(frozen=True)
class Warehouse:
    """Where one adapter's build of a fixture lives: its rows, read back typed.

    Schemas are named as on DuckDB and PostgreSQL (`main`, `main_dbt_test__audit`); on Spark,
    where a profile's schema is the fixture's name, they map to `<fixture>` and `<fixture>_dbt_test__audit`."""

    adapter: str
    duckdb_file: Path | None = None
    server: Any = None
    database: str = ""

    def query(self, sql: str, parameters: list[Any] | None = None) -> list[tuple[Any, ...]]:
        if self.duckdb_file is not None:
            with duckdb.connect(str(self.duckdb_file), read_only=True) as connection:
                return connection.execute(sql, parameters).fetchall()
        assert self.server is not None
        if self.adapter == "spark":
            assert not parameters
            return self.server.query(sql)
        return self.server.query(sql.replace("?", "%s"), self.database, parameters)

    def schema(self, schema: str) -> str:
        return schema.replace("main", self.database, 1) if self.adapter == "spark" else schema

    def tables(self, schema: str) -> dict[str, list[tuple[Any, ...]]]:
        """table name -> its rows in a canonical order, for every table of the schema."""
        if self.adapter == "spark":
            names = [row[1] for row in self.query(f"show tables in {self.schema(schema)}")]
            relation = "{schema}.{name}"
        else:
            names = [row[0] for row in self.query("select table_name from information_schema.tables where table_schema = ? and table_type = 'BASE TABLE'", [schema])]
            relation = '"{schema}"."{name}"'
        return {name: sorted((tuple(map(_normal, row)) for row in self.query("select * from " + relation.format(schema=self.schema(schema), name=name))), key=_order) for name in names}


def _normal(value: Any) -> Any:
    """Compare numbers as numbers: PostgreSQL returns numeric as Decimal, DuckDB and Spark doubles as float."""
    if isinstance(value, (Decimal, float)):
        return float(value)
    return value


def _order(row: tuple[Any, ...]) -> str:
    # Floats rounded for ordering only (the comparison itself is to 1e-12 relative).
    return repr(tuple(round(v, 6) if isinstance(v, float) else v for v in row))


def assert_rows_equal(name: str, duck: list[tuple[Any, ...]], other: list[tuple[Any, ...]]) -> None:
    assert len(other) == len(duck), name
    for duck_row, other_row in zip(duck, other):
        assert len(other_row) == len(duck_row), name
        for d, o in zip(duck_row, other_row):
            if isinstance(d, float) and isinstance(o, float):
                assert math.isclose(d, o, rel_tol=1e-12, abs_tol=1e-12), (name, duck_row, other_row)
            else:
                assert o == d, (name, duck_row, other_row)


@dataclass(frozen=True)
class Fixture:
    """How one fixture project is built on every adapter and what of it is compared."""

    name: str
    #: dbt invocations after `deps` (run with the adapter's key environment).
    commands: list[list[str]]
    #: --vars of every invocation; `adult_relation` is added off DuckDB.
    variables: dict[str, Any] = field(default_factory=dict)
    #: Models that only run on DuckDB (its read_csv, or a CTE name where columns must be listed).
    duckdb_only: list[str] = field(default_factory=list)
    prepare: Callable[[Path], None] | None = None
    loads_adult: bool = False
    #: The adapters besides DuckDB it is built on, and per adapter the schemas whose tables are
    #: compared. On Spark only the stored failures (its model tables are not compared: e.g.
    #: dbt-spark's session seeds load an empty CSV cell as the text 'None'); risk_project (Adult
    #: loaded with PostgreSQL's COPY) and macros_project are not run on Spark (docs/adapters.md).
    adapters: dict[str, tuple[str, ...]] = field(default_factory=lambda: {"postgres": (MAIN, AUDIT)})
    #: Run purge_expired's dry run after the build and keep what it counts.
    purge_plan: bool = False


def _risk_tests(project: Path) -> None:
    """The risk tests of tests/test_risk.py (thresholds at and beyond the oracle's values)."""
    rows = with_person(adult_rows())
    tests = [
        f"      - privacy_guard.reidentification_risk:\n          name: {name}\n          arguments: {json.dumps(arguments)}\n"
        for name, (arguments, _) in cases(rows).items()
    ]
    (project / "models" / "risk_tests.yml").write_text("version: 2\nmodels:\n  - name: adult\n    data_tests:\n" + "".join(tests))
    (project / "models" / "declared.yml").write_text(declared_yaml(rows))


def _age_hierarchy(project: Path) -> None:
    arx_to_seed(ADULT_DIR / "adult_hierarchy_age.csv", project / "seeds" / "adult_hierarchy_age.csv")


FIXTURES = {
    "privacy_tests_failing": Fixture("privacy_tests_failing", [["build"]], adapters={"postgres": (MAIN, AUDIT), "spark": (AUDIT,)}, purge_plan=True),
    # `run` then `test`: `build` would skip the summaries after a failing risk test.
    "risk_project": Fixture("risk_project", [["run"], ["test", "--store-failures"]], {"adult_csv": str(ADULT_DIR / "adult.csv")}, prepare=_risk_tests, loads_adult=True),
    "macros_project": Fixture(
        "macros_project",
        [["build", "--exclude", "pseudonymized_view", "retention_without_days"]],
        {"adult_dir": str(ADULT_DIR)},
        duckdb_only=["patients_without_meta", "small_groups_default_k", "small_groups_cte", "local_suppressed_columns"],
        prepare=_age_hierarchy,
        loads_adult=True,
    ),
}
#: (fixture, adapter) for every fixture on every adapter it runs on, each with its adapter's marker.
FIXTURE_ADAPTERS = [
    pytest.param(name, adapter, marks=MARKS[adapter], id=f"{name}-{adapter}")
    for name, fixture in FIXTURES.items()
    for adapter in fixture.adapters
]

#: What each purge_expired line says, without the relation's adapter-specific name.
PURGE_LINE = re.compile(r"purge_expired: (\S+) \(.*?\): (\d+ rows past \d+ days \(cutoff [0-9-]+(?:, oldest [0-9-]+)?\))")


def _outcomes(result: DbtResult) -> dict[str, tuple[str, int | None]]:
    """unique_id -> (status, failures) of one invocation, read at once: the next invocation
    (another command, the purge dry run) overwrites target/run_results.json."""
    failures = result.failures()
    return {uid: (status, failures[uid]) for uid, status in result.statuses().items()}


@dataclass
class Build:
    warehouse: Warehouse
    results: list[DbtResult]
    project: Path
    #: The outcomes of every invocation of the build, in order (read right after each).
    found: dict[str, tuple[str, int | None]] = field(default_factory=dict)
    purge_plan: list[tuple[str, str]] = field(default_factory=list)

    def outcomes(self) -> dict[str, tuple[str, int | None]]:
        return self.found


def _project(adapter: str, fixture: str, tmp: Path, server: Any, database: str = "", with_key: bool = False) -> tuple[Path, Warehouse]:
    """A copy of the fixture with its profile on `adapter`: a PostgreSQL database or a Spark schema
    named `database` (default: the fixture's name), and where its rows are read back."""
    database = database or fixture
    if adapter == "duckdb":
        return dbt_project(fixture, tmp, profile_extra=PLUGIN), Warehouse(adapter, duckdb_file=tmp / f"{fixture}.duckdb")
    if adapter == "postgres":
        server.create_database(database)
        output = postgres_server.dbt_output(server, database)
    else:
        output = spark_server.dbt_output(server, database, with_key=with_key)
    return dbt_project(fixture, tmp, output=output), Warehouse(adapter, server=server, database=database)


def _build(adapter: str, fixture: Fixture, tmp: Path, server: Any) -> Build:
    variables = dict(fixture.variables)
    project, warehouse = _project(adapter, fixture.name, tmp, server)
    excluded: list[str] = []
    if adapter != "duckdb":
        excluded = fixture.duckdb_only
        if fixture.loads_adult:
            assert adapter == "postgres", "Adult is loaded with PostgreSQL's COPY"
            server.load_csv(fixture.name, ADULT_TABLE, ADULT_DIR / "adult.csv", integer_columns=["age"])
            variables["adult_relation"] = ADULT_TABLE
    if fixture.prepare is not None:
        fixture.prepare(project)
    build = Build(warehouse, [], project)
    for command in fixture.commands:
        exclude = [*(command[command.index("--exclude") + 1:] if "--exclude" in command else []), *excluded]
        arguments = command[: command.index("--exclude")] if "--exclude" in command else command
        build.results.append(dbt(project, *arguments, *(["--exclude", *exclude] if exclude else []), "--vars", json.dumps(variables), env=KEY_ENV[adapter]))
        build.found.update(_outcomes(build.results[-1]))
    if fixture.purge_plan:
        purge = dbt(project, "run-operation", "privacy_guard.purge_expired", env=KEY_ENV[adapter], check=True)
        build.purge_plan = sorted(PURGE_LINE.findall(purge.stdout))
    return build


@pytest.fixture(scope="module")
def builds(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Callable[[str, str], Build]:
    """(adapter, fixture) -> its build, built on first use: a `-m spark` run never starts PostgreSQL,
    and DuckDB builds each fixture once for every adapter compared with it."""
    cache: dict[tuple[str, str], Build] = {}

    def build(adapter: str, name: str) -> Build:
        if (adapter, name) not in cache:
            server = None if adapter == "duckdb" else request.getfixturevalue(adapter)
            cache[(adapter, name)] = _build(adapter, FIXTURES[name], tmp_path_factory.mktemp(f"{adapter}_{name}"), server)
        return cache[(adapter, name)]

    return build


def _comparable(build: Build, fixture: Fixture) -> dict[str, tuple[str, int | None]]:
    """Outcomes of the nodes both adapters ran (the DuckDB-only models are not built elsewhere)."""
    return {uid: outcome for uid, outcome in build.outcomes().items() if uid.split(".")[2] not in fixture.duckdb_only}


@pytest.mark.parametrize(("fixture", "adapter"), FIXTURE_ADAPTERS)
def test_outcomes_equal_duckdb(builds: Callable[[str, str], Build], fixture: str, adapter: str) -> None:
    duck, other = builds("duckdb", fixture), builds(adapter, fixture)
    assert duck.outcomes(), "no outcomes: the comparison would prove nothing"
    assert other.outcomes() == _comparable(duck, FIXTURES[fixture]), other.results[-1].stdout[-4000:]


@pytest.mark.parametrize("adapter", OTHER_ADAPTERS)
def test_planted_failures_really_fail(builds: Callable[[str, str], Build], adapter: str) -> None:
    # Guards the equality above against "both adapters error everywhere": the planted k violation
    # (one class of size 5 below k), the planted t violation and the hostile column names fail
    # with their planted counts; the people-based k test counts people, not rows.
    outcomes = {uid.split(".")[2]: outcome for uid, outcome in builds(adapter, "privacy_tests_failing").outcomes().items()}
    assert outcomes["privacy_guard_k_anonymity_k_violation_"] == ("fail", 1)
    assert outcomes["privacy_guard_t_closeness_t_violation_"] == ("fail", 2)
    assert outcomes["people_k_anonymity"] == ("warn", 2)
    assert outcomes["hostile_min_cell_size"] == ("warn", 2)
    assert outcomes["canary"] == ("success", None)
    assert outcomes["leaky_identifiers"] == ("success", None)


@pytest.mark.postgres
def test_macros_project_builds_without_errors_on_postgres(builds: Callable[[str, str], Build]) -> None:
    statuses = [status for status, _ in builds("postgres", "macros_project").outcomes().values()]
    assert statuses.count("error") == 0 and statuses.count("success") >= 30, statuses


@pytest.mark.parametrize(("fixture", "adapter"), FIXTURE_ADAPTERS)
def test_every_table_equals_duckdb(builds: Callable[[str, str], Build], fixture: str, adapter: str) -> None:
    duck, other = builds("duckdb", fixture).warehouse, builds(adapter, fixture).warehouse
    for schema in FIXTURES[fixture].adapters[adapter]:
        duck_tables, other_tables = duck.tables(schema), other.tables(schema)
        assert set(other_tables) == set(duck_tables) - set(FIXTURES[fixture].duckdb_only), schema
        for name, rows in other_tables.items():
            assert_rows_equal(f"{schema}.{name}", duck_tables[name], rows)
    assert duck.tables(AUDIT) or fixture == "macros_project", "stored failures: no table means the comparison proves nothing"


@pytest.mark.postgres
@pytest.mark.parametrize(("table", "least_rows"), [
    ("generalized_people", 10), ("adult_age_generalized", 503), ("noised_cells", 20_000), ("uniform_draws", 2_000),
    ("small_groups_people", 1), ("local_suppressed_from_meta", 10), ("diagnosis_cells_people", 2), ("kept_from_meta", 1), ("pseudonymized_people", 11),
])
def test_macro_tables_are_really_there(builds: Callable[[str, str], Build], table: str, least_rows: int) -> None:
    """Guards the equality above against empty tables: each macro family wrote rows on PostgreSQL."""
    [(rows,)] = builds("postgres", "macros_project").warehouse.query(f"select count(*) from main.{table}")
    assert rows >= least_rows


@pytest.mark.postgres
def test_risk_summaries_are_the_oracles_on_postgres(builds: Callable[[str, str], Build]) -> None:
    rows = with_person(adult_rows())
    from risk_oracle import prosecutor

    build = builds("postgres", "risk_project")
    [(records, classes, max_risk)] = build.warehouse.query("select records, classes, max_risk from main.adult_risk")
    expected_risk = prosecutor(rows, ["age", "sex", "race"], 0.2)
    assert (records, classes) == (expected_risk["records"], expected_risk["classes"])
    assert float(max_risk) == pytest.approx(expected_risk["max_risk"], rel=1e-12)
    failures = {uid.split(".")[2]: count for uid, (_, count) in build.outcomes().items() if uid.startswith("test.")}
    assert {name: failures[name] for name in cases(rows)} == {name: count for name, (_, count) in cases(rows).items()}


# --- purge_expired ------------------------------------------------------------------------------


@pytest.mark.parametrize("adapter", OTHER_ADAPTERS)
def test_purge_dry_run_counts_equal_duckdb(builds: Callable[[str, str], Build], adapter: str) -> None:
    duck, other = builds("duckdb", "privacy_tests_failing").purge_plan, builds(adapter, "privacy_tests_failing").purge_plan
    assert dict(duck)["model.privacy_tests_failing.expired_visits"].startswith("2 rows past 30 days")
    assert other == duck


@pytest.mark.spark
def test_purge_delete_refused_on_spark_before_anything_runs(builds: Callable[[str, str], Build], spark: spark_server.SparkServer) -> None:
    project = builds("spark", "privacy_tests_failing").project
    result = dbt(project, "run-operation", "privacy_guard.purge_expired", "--args", "{dry_run: false}", check=False)
    assert "privacy_guard.purge_expired: deleting is not supported on Spark" in result.stdout, result.stdout[-3000:]
    assert "Traceback" not in result.stdout + result.stderr
    assert spark.query("select count(*) from privacy_tests_failing.expired_visits") == [(6,)], "nothing deleted"


@pytest.fixture(scope="module")
def purges(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], dict[str, Any]]:
    """adapter -> purge_expired on lifecycle_project (frozen today): the dry run, a real purge, and
    what is left. PostgreSQL only besides DuckDB: Spark refuses to delete (test above)."""
    cache: dict[str, dict[str, Any]] = {}

    def purged(adapter: str) -> dict[str, Any]:
        if adapter not in cache:
            server = None if adapter == "duckdb" else request.getfixturevalue(adapter)
            project, warehouse = _project(adapter, "lifecycle_project", tmp_path_factory.mktemp(f"{adapter}_purge"), server)
            dbt(project, "build", check=True)
            purge = ["run-operation", "privacy_guard.purge_expired", "--args"]
            dry = dbt(project, *purge, "{}", check=True).stdout
            real = dbt(project, *purge, "{dry_run: false}", check=True).stdout
            left = {table: [row[0] for row in warehouse.query(f"select visit_id from main.{table} order by 1")] for table in ("clinic_visits", "visits_table", "visits_incremental")}
            audit = warehouse.query("select unique_id, retention_days, cutoff, rows_deleted from audit_log.privacy_guard_purges order by unique_id")
            cache[adapter] = {"dry": reported(dry), "real": reported(real), "left": left, "audit": audit}
        return cache[adapter]

    return purged


@pytest.mark.postgres
def test_purge_counts_and_deletes_the_same_rows_on_postgres(purges: Callable[[str], dict[str, Any]]) -> None:
    duck, pg = purges("duckdb"), purges("postgres")
    assert pg == duck
    assert sum(pg["dry"].values()) == 28 and pg["real"] == pg["dry"]  # 14 expired rows in the seed and in visits_table


# --- pseudonymize: the key from the environment, never in anything written ---------------------

#: Per adapter: how the key reaches the session (environment of dbt), an unset and a short key,
#: SQL of a model that reads the key's setting itself, and the messages of the refused set-ups.
KEY_SETUPS: dict[str, dict[str, Any]] = {
    "postgres": {
        "ok": KEY_ENV["postgres"],
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
        "ok": KEY_ENV["spark"],
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
#: The PostgreSQL database (the macros_project build above has its own) or Spark schema, and the schema of the models.
PSEUDONYMS = {"postgres": ("pseudonyms", "main"), "spark": ("macros_project", "macros_project")}
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
        database, schema = PSEUDONYMS[adapter]
        tmp = tmp_path_factory.mktemp(f"{adapter}_pseudonymization")
        project, warehouse = _project(adapter, "macros_project", tmp, server, database=database, with_key=True)
        (project / "models" / "pseudonymized_null.sql").write_text(NULL_MODEL)
        runs = {
            "ok": dbt(project, "build", "--select", "+pseudonymized_people", "pseudonymized_null", env=setup["ok"], check=True),
            "debug": dbt(project, "--debug", "run", "--select", "pseudonymized_people", env=setup["ok"], check=True),
            "docs": dbt(project, "docs", "generate", "--select", "+pseudonymized_people", env=setup["ok"], check=True),
            "missing": dbt(project, "run", "--select", "pseudonymized_people", env=setup["missing"], check=False),
            "short": dbt(project, "run", "--select", "pseudonymized_people", env=setup["short"], check=False),
            "view": dbt(project, "run", "--select", "pseudonymized_view", env=setup["ok"], check=False),
        }
        rows = warehouse.query(SELECT_ROWS.format(schema=schema))
        null_rows = warehouse.query(f"select null_pseudonym from {schema}.pseudonymized_null")
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
