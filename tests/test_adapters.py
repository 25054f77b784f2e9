"""The same fixture projects on every adapter: same outcomes, same numbers.

Each fixture is built on DuckDB and on a throwaway PostgreSQL server (tests/postgres_server.py)
and the run results (status and failure count per node), every table the build wrote (models,
seeds: generalized values, suppressed rows, noise drawn with a seed, risk summaries) and every
stored failure row (the class sizes, l, t and risk measures the privacy tests store) must be equal
across adapters, as must the rows purge_expired counts and deletes.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

import postgres_server
from dbt_harness import ADULT_DIR, DbtResult, dbt, dbt_project
from python_checks.hierarchy import arx_to_seed
from test_pseudonymization import KEY, PLUGIN, assert_no_key, expected, written_files
from test_purge_expired import reported
from test_risk import cases, declared_yaml, with_person
from risk_oracle import adult_rows

pytestmark = [pytest.mark.dbt, pytest.mark.postgres]

ADAPTERS = ["duckdb", "postgres"]
#: The key reaches pseudonymize through the plugin's environment variable on DuckDB and through a
#: libpq session setting on PostgreSQL (never in SQL).
KEY_ENV = {"duckdb": {"PRIVACY_GUARD_KEY": KEY}, "postgres": {"PGOPTIONS": f"-c privacy_guard.key={KEY}"}}
ADULT_TABLE = "raw.adult"


@dataclass(frozen=True)
class Warehouse:
    """Where one adapter's build of a fixture lives: its rows, read back typed."""

    adapter: str
    duckdb_file: Path | None = None
    server: postgres_server.PostgresServer | None = None
    database: str = ""

    def query(self, sql: str, parameters: list[Any] | None = None) -> list[tuple[Any, ...]]:
        if self.duckdb_file is not None:
            with duckdb.connect(str(self.duckdb_file), read_only=True) as connection:
                return connection.execute(sql, parameters).fetchall()
        assert self.server is not None
        return self.server.query(sql.replace("?", "%s"), self.database, parameters)

    def tables(self, schema: str) -> dict[str, list[tuple[Any, ...]]]:
        """table name -> its rows in a canonical order, for every table of the schema."""
        names = [row[0] for row in self.query("select table_name from information_schema.tables where table_schema = ? and table_type = 'BASE TABLE'", [schema])]
        return {name: sorted((tuple(map(_normal, row)) for row in self.query(f'select * from "{schema}"."{name}"')), key=_order) for name in names}


def _normal(value: Any) -> Any:
    """Compare numbers as numbers: PostgreSQL returns numeric as Decimal, DuckDB as float."""
    if isinstance(value, (Decimal, float)):
        return float(value)
    return value


def _order(row: tuple[Any, ...]) -> str:
    # Floats rounded for ordering only (the comparison itself is to 1e-12 relative).
    return repr(tuple(round(v, 6) if isinstance(v, float) else v for v in row))


def assert_rows_equal(name: str, duck: list[tuple[Any, ...]], pg: list[tuple[Any, ...]]) -> None:
    assert len(pg) == len(duck), name
    for duck_row, pg_row in zip(duck, pg):
        assert len(pg_row) == len(duck_row), name
        for d, p in zip(duck_row, pg_row):
            if isinstance(d, float) and isinstance(p, float):
                assert math.isclose(d, p, rel_tol=1e-12, abs_tol=1e-12), (name, duck_row, pg_row)
            else:
                assert p == d, (name, duck_row, pg_row)


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
    #: Schemas whose tables are compared.
    schemas: tuple[str, ...] = ("main", "main_dbt_test__audit")
    prepare: Callable[[Path], None] | None = None
    loads_adult: bool = False


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
    "privacy_tests_failing": Fixture("privacy_tests_failing", [["build"]]),
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


@dataclass
class Build:
    warehouse: Warehouse
    results: list[DbtResult]
    project: Path

    def outcomes(self) -> dict[str, tuple[str, int | None]]:
        found: dict[str, tuple[str, int | None]] = {}
        for result in self.results:
            failures = result.failures()
            found.update({uid: (status, failures[uid]) for uid, status in result.statuses().items()})
        return found


def _build(adapter: str, fixture: Fixture, tmp: Path, postgres: postgres_server.PostgresServer) -> Build:
    variables = dict(fixture.variables)
    if adapter == "duckdb":
        project = dbt_project(fixture.name, tmp, profile_extra=PLUGIN)
        warehouse = Warehouse(adapter, duckdb_file=tmp / f"{fixture.name}.duckdb")
        excluded: list[str] = []
    else:
        postgres.create_database(fixture.name)
        if fixture.loads_adult:
            postgres.load_csv(fixture.name, ADULT_TABLE, ADULT_DIR / "adult.csv", integer_columns=["age"])
            variables["adult_relation"] = ADULT_TABLE
        project = dbt_project(fixture.name, tmp, output=postgres_server.dbt_output(postgres, fixture.name))
        warehouse = Warehouse(adapter, server=postgres, database=fixture.name)
        excluded = fixture.duckdb_only
    if fixture.prepare is not None:
        fixture.prepare(project)
    results = []
    for command in fixture.commands:
        exclude = [*(command[command.index("--exclude") + 1:] if "--exclude" in command else []), *excluded]
        arguments = command[: command.index("--exclude")] if "--exclude" in command else command
        results.append(dbt(project, *arguments, *(["--exclude", *exclude] if exclude else []), "--vars", json.dumps(variables), env=KEY_ENV[adapter]))
    return Build(warehouse, results, project)


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory, postgres: postgres_server.PostgresServer) -> dict[tuple[str, str], Build]:
    return {
        (adapter, name): _build(adapter, fixture, tmp_path_factory.mktemp(f"{adapter}_{name}"), postgres)
        for name, fixture in FIXTURES.items()
        for adapter in ADAPTERS
    }


def _comparable(build: Build, fixture: Fixture) -> dict[str, tuple[str, int | None]]:
    """Outcomes of the nodes both adapters ran (the DuckDB-only models are not built on PostgreSQL)."""
    return {uid: outcome for uid, outcome in build.outcomes().items() if uid.split(".")[2] not in fixture.duckdb_only}


@pytest.mark.parametrize("fixture", FIXTURES)
def test_postgres_outcomes_equal_duckdb(builds: dict[tuple[str, str], Build], fixture: str) -> None:
    duck, pg = builds[("duckdb", fixture)], builds[("postgres", fixture)]
    assert pg.outcomes() == _comparable(duck, FIXTURES[fixture]), pg.results[-1].stdout[-4000:]


def test_planted_failures_really_fail_on_postgres(builds: dict[tuple[str, str], Build]) -> None:
    # Guards the equality above against "both adapters error everywhere": the planted k violation
    # (one class of size 5 below k) and the planted t violation fail with their planted counts.
    outcomes = {uid.split(".")[2]: outcome for uid, outcome in builds[("postgres", "privacy_tests_failing")].outcomes().items()}
    assert outcomes["privacy_guard_k_anonymity_k_violation_"] == ("fail", 1)
    assert outcomes["privacy_guard_t_closeness_t_violation_"] == ("fail", 2)
    assert outcomes["leaky_identifiers"] == ("success", None)
    statuses = [status for status, _ in builds[("postgres", "macros_project")].outcomes().values()]
    assert statuses.count("error") == 0 and statuses.count("success") >= 30, statuses


@pytest.mark.parametrize("fixture", FIXTURES)
def test_every_table_equals_duckdb(builds: dict[tuple[str, str], Build], fixture: str) -> None:
    duck, pg = builds[("duckdb", fixture)].warehouse, builds[("postgres", fixture)].warehouse
    for schema in FIXTURES[fixture].schemas:
        duck_tables, pg_tables = duck.tables(schema), pg.tables(schema)
        assert set(pg_tables) == set(duck_tables) - set(FIXTURES[fixture].duckdb_only), schema
        for name, rows in pg_tables.items():
            assert_rows_equal(f"{schema}.{name}", duck_tables[name], rows)
    assert duck.tables("main_dbt_test__audit") or fixture == "macros_project", "stored failures: no table means the comparison proves nothing"


@pytest.mark.parametrize(("table", "least_rows"), [
    ("generalized_people", 10), ("adult_age_generalized", 503), ("noised_cells", 20_000), ("uniform_draws", 2_000),
    ("small_groups_people", 1), ("local_suppressed_from_meta", 10), ("diagnosis_cells_people", 2), ("kept_from_meta", 1), ("pseudonymized_people", 11),
])
def test_macro_tables_are_really_there(builds: dict[tuple[str, str], Build], table: str, least_rows: int) -> None:
    """Guards the equality above against empty tables: each macro family wrote rows on PostgreSQL."""
    [(rows,)] = builds[("postgres", "macros_project")].warehouse.query(f"select count(*) from main.{table}")
    assert rows >= least_rows


def test_risk_summaries_are_the_oracles_on_postgres(builds: dict[tuple[str, str], Build]) -> None:
    rows = with_person(adult_rows())
    from risk_oracle import prosecutor

    warehouse = builds[("postgres", "risk_project")].warehouse
    [(records, classes, max_risk)] = warehouse.query("select records, classes, max_risk from main.adult_risk")
    expected_risk = prosecutor(rows, ["age", "sex", "race"], 0.2)
    assert (records, classes) == (expected_risk["records"], expected_risk["classes"])
    assert float(max_risk) == pytest.approx(expected_risk["max_risk"], rel=1e-12)
    failures = {uid.split(".")[2]: count for uid, (_, count) in builds[("postgres", "risk_project")].outcomes().items() if uid.startswith("test.")}
    assert {name: failures[name] for name in cases(rows)} == {name: count for name, (_, count) in cases(rows).items()}


@pytest.fixture(scope="module")
def purges(tmp_path_factory: pytest.TempPathFactory, postgres: postgres_server.PostgresServer) -> dict[str, dict[str, Any]]:
    """purge_expired on lifecycle_project (frozen today): the dry run, a real purge, and what is left."""
    out = {}
    for adapter in ADAPTERS:
        tmp = tmp_path_factory.mktemp(f"{adapter}_purge")
        if adapter == "duckdb":
            project = dbt_project("lifecycle_project", tmp)
            warehouse = Warehouse(adapter, duckdb_file=tmp / "lifecycle_project.duckdb")
        else:
            postgres.create_database("lifecycle_project")
            project = dbt_project("lifecycle_project", tmp, output=postgres_server.dbt_output(postgres, "lifecycle_project"))
            warehouse = Warehouse(adapter, server=postgres, database="lifecycle_project")
        dbt(project, "build", check=True)
        purge = ["run-operation", "privacy_guard.purge_expired", "--args"]
        dry = dbt(project, *purge, "{}", check=True).stdout
        real = dbt(project, *purge, "{dry_run: false}", check=True).stdout
        left = {table: [row[0] for row in warehouse.query(f"select visit_id from main.{table} order by 1")] for table in ("clinic_visits", "visits_table", "visits_incremental")}
        audit = warehouse.query("select unique_id, retention_days, cutoff, rows_deleted from audit_log.privacy_guard_purges order by unique_id")
        out[adapter] = {"dry": reported(dry), "real": reported(real), "left": left, "audit": audit}
    return out


def test_purge_counts_and_deletes_the_same_rows_on_postgres(purges: dict[str, dict[str, Any]]) -> None:
    duck, pg = purges["duckdb"], purges["postgres"]
    assert pg == duck
    assert sum(pg["dry"].values()) == 28 and pg["real"] == pg["dry"]  # 14 expired rows in the seed and in visits_table


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
