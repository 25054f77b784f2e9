"""The k_anonymity test's compiled SQL on every adapter, against the bare GROUP BY on the same adapter.

Each leg (DuckDB file, a throwaway PostgreSQL server or a local Spark Connect server, each started
as the tests start it) generates the same rows in its own warehouse -- 5 quasi-identifiers from
integer arithmetic on the row number, so every adapter holds identical data -- at a low and a high
number of equivalence classes. dbt compiles the package's real k_anonymity test for that adapter (a
throw-away project whose profile points at the leg), then this process runs the compiled query and
its bare equivalent on the same connection, interleaved, best of --repeat, as dbt's test
materialization does (`select count(*) from (<test sql>)`). Ratios are test / bare on the same
adapter in the same invocation.

    .venv/bin/python bench/bench_adapters.py [--rows 10000000] [--repeat 3] [--legs duckdb postgres spark]

Prints a markdown table and writes it with the raw numbers to bench/results/adapters.{md,json}
(another choice of --legs than the default duckdb postgres: adapters_<legs>.{md,json}).
A new adapter is one more `Leg` subclass in LEGS (start, load, dbt output block, query, stop).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "bench" / "out" / "adapters"
RESULTS = REPO / "bench" / "results"
DBT = str(Path(sys.executable).with_name("dbt"))
SCHEMA = "bench"
QIS = ["q1", "q2", "q3", "q4", "q5"]
QI_SQL = ", ".join(QIS)
K = 5
#: Cardinality of q1..q5: `low` gives classes of ~50 rows at 10M, `high` makes most classes unique.
SHAPES = {"low": [2, 10, 10, 20, 50], "high": [2, 10, 10, 20, 100_000]}
#: Odd multipliers and one prime modulus: q_n = ((i * M_n) mod P) mod size_n spreads the row
#: numbers over every value in plain bigint arithmetic, which every SQL warehouse has.
MULTIPLIERS = [2654435761, 2246822519, 3266489917, 668265263, 374761393]
PRIME = 4294967311
BARE = f"select count(*) as n from {{table}} group by {QI_SQL} having count(*) < {K}"


def rows_sql(rows: int, shape: str, series: str) -> str:
    """`select` of the generated rows; `series` is the adapter's row-number source with column i."""
    columns = ", ".join(f"cast(((cast(i as bigint) * {m}) % {PRIME}) % {size} as integer) as q{n + 1}" for n, (m, size) in enumerate(zip(MULTIPLIERS, SHAPES[shape])))
    return f"select {columns} from {series}"


class Leg:
    """One adapter: a warehouse to load rows into, a dbt output block, and a timed query."""

    name = ""

    def start(self, folder: Path) -> None: ...

    def load(self, rows: int) -> None: ...

    def dbt_output(self) -> str:
        raise NotImplementedError

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def stop(self) -> None: ...


class DuckDBLeg(Leg):
    name = "duckdb"

    def start(self, folder: Path) -> None:
        import duckdb

        self.path = folder / "adapters.duckdb"
        self.path.unlink(missing_ok=True)
        self.connection = duckdb.connect(str(self.path))

    def load(self, rows: int) -> None:
        self.connection.execute(f"create schema if not exists {SCHEMA}")
        for shape in SHAPES:
            self.connection.execute(f"create or replace table {SCHEMA}.rows_{shape} as {rows_sql(rows, shape, f'range({rows}) as r(i)')}")
        self.connection.execute("checkpoint")

    def dbt_output(self) -> str:
        # dbt compiles against the file while this process holds it: compile only reads.
        self.connection.close()
        return f"type: duckdb\npath: '{self.path}'\nthreads: 1"

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        import duckdb

        if not hasattr(self, "reader"):
            self.reader = duckdb.connect(str(self.path), read_only=True)
        return self.reader.execute(sql).fetchall()

    def stop(self) -> None:
        if hasattr(self, "reader"):
            self.reader.close()
        self.path.unlink(missing_ok=True)


class PostgresLeg(Leg):
    """A throwaway server from tests/postgres_server.py (initdb + pg_ctl, loopback, stopped at the end)."""

    name = "postgres"
    database = "bench"

    def start(self, folder: Path) -> None:
        sys.path.insert(0, str(REPO / "tests"))
        import postgres_server

        self.module = postgres_server
        self.server = postgres_server.start()
        self.server.psql(f"create database {self.database}")

    def load(self, rows: int) -> None:
        self.server.psql(f"create schema {SCHEMA}", database=self.database)
        for shape in SHAPES:
            self.server.psql(f"create table {SCHEMA}.rows_{shape} as {rows_sql(rows, shape, f'generate_series(0, {rows - 1}) as r(i)')}", database=self.database)
            self.server.psql(f"analyze {SCHEMA}.rows_{shape}", database=self.database)

    def dbt_output(self) -> str:
        return str(self.module.dbt_output(self.server, self.database))

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        return self.server.query(sql, self.database)

    def stop(self) -> None:
        self.server.stop()


class SparkLeg(Leg):
    """A local Spark Connect server from tests/spark_server.py (local[2], loopback, temp dir, stopped
    at the end); parquet tables in its Hive metastore; dbt-spark's `session` method over Spark Connect.
    Needs requirements-spark.lock and Java (`make test-spark` installs both)."""

    name = "spark"

    def start(self, folder: Path) -> None:
        sys.path.insert(0, str(REPO / "tests"))
        import spark_server

        self.module = spark_server
        self.server = spark_server.start()

    def load(self, rows: int) -> None:
        self.server.query(f"create schema if not exists {SCHEMA}")
        for shape in SHAPES:
            self.server.query(f"create table {SCHEMA}.rows_{shape} using parquet as {rows_sql(rows, shape, f'(select id as i from range({rows})) as r')}")

    def dbt_output(self) -> str:
        return str(self.module.dbt_output(self.server, SCHEMA))

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        return self.server.query(sql)

    def stop(self) -> None:
        self.server.stop()


LEGS: dict[str, Callable[[], Leg]] = {"duckdb": DuckDBLeg, "postgres": PostgresLeg, "spark": SparkLeg}
#: `make bench-adapters`: Spark is chosen with --legs (it needs requirements-spark.lock and Java).
DEFAULT_LEGS = ["duckdb", "postgres"]


def compile_test(leg: Leg, folder: Path) -> dict[str, str]:
    """shape -> the k_anonymity test's SQL as dbt compiles it for this leg's adapter."""
    project = folder / "project"
    shutil.rmtree(project, ignore_errors=True)
    (project / "models").mkdir(parents=True)
    (project / "dbt_project.yml").write_text("name: bench_adapters\nversion: '1.0'\nconfig-version: 2\nprofile: bench\n")
    (project / "packages.yml").write_text(f"packages:\n  - local: {REPO}\n")
    output = "".join(f"      {line}\n" for line in leg.dbt_output().splitlines())
    (project / "profiles.yml").write_text(f"bench:\n  target: dev\n  outputs:\n    dev:\n{output}")
    columns = "".join(f"          - name: {q}\n            config: {{meta: {{privacy: {{class: quasi_identifier}}}}}}\n" for q in QIS)
    tables = "".join(
        f"      - name: rows_{shape}\n        columns:\n{columns}        data_tests:\n"
        f"          - privacy_guard.k_anonymity: {{name: k_{shape}, arguments: {{k: {K}}}}}\n"
        for shape in SHAPES
    )
    (project / "models" / "sources.yml").write_text(f"version: 2\nsources:\n  - name: bench\n    schema: {SCHEMA}\n    tables:\n{tables}")
    for command in (["deps"], ["compile", "--select", "test_type:data"]):
        subprocess.run([DBT, *command, "--project-dir", str(project), "--profiles-dir", str(project)], check=True, capture_output=True, cwd=project)
    return {shape: next((project / "target" / "compiled").rglob(f"k_{shape}.sql")).read_text() for shape in SHAPES}


def best_pair(leg: Leg, test_sql: str, bare_sql: str, repeat: int) -> tuple[float, float, int]:
    """Fastest of `repeat` runs of each, interleaved so that load from other processes hits both
    alike; and the number of failing classes (equal for both, or the comparison is void)."""
    timings: dict[str, list[float]] = {"test": [], "bare": []}
    counts = set()
    for _ in range(repeat):
        for kind, sql in (("test", test_sql), ("bare", bare_sql)):
            start = time.perf_counter()
            [(count,)] = leg.query(f"select count(*) from ({sql}) as failures")
            timings[kind].append(time.perf_counter() - start)
            counts.add(int(count))
    assert len(counts) == 1, f"{leg.name}: the test and the bare query disagree on the failing classes: {counts}"
    return min(timings["test"]), min(timings["bare"]), counts.pop()


def run_leg(leg: Leg, rows: int, repeat: int) -> list[dict[str, Any]]:
    folder = OUT / leg.name
    folder.mkdir(parents=True, exist_ok=True)
    leg.start(folder)
    try:
        start = time.perf_counter()
        leg.load(rows)
        load_s = time.perf_counter() - start
        compiled = compile_test(leg, folder)
        results = []
        for shape, sql in compiled.items():
            table = f"{SCHEMA}.rows_{shape}"
            [(classes,)] = leg.query(f"select count(*) from (select 1 as one from {table} group by {QI_SQL}) as classes")
            test_s, bare_s, failing = best_pair(leg, sql, BARE.format(table=table), repeat)
            results.append({"adapter": leg.name, "rows": rows, "shape": shape, "classes": int(classes), "classes_below_k": failing,
                            "load_s": round(load_s, 1), "test_s": round(test_s, 3), "bare_s": round(bare_s, 3), "ratio": round(test_s / bare_s, 2)})
        return results
    finally:
        leg.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--legs", nargs="+", choices=sorted(LEGS), default=DEFAULT_LEGS)
    args = parser.parse_args()
    results = [result for name in args.legs for result in run_leg(LEGS[name](), args.rows, args.repeat)]
    for shape in SHAPES:
        found = {(r["classes"], r["classes_below_k"]) for r in results if r["shape"] == shape}
        assert len(found) == 1, f"{shape}: the adapters hold different data or measure it differently: {found}"
    table = ["| adapter | rows | classes | classes below k | k_anonymity test (s) | bare GROUP BY (s) | test / bare |", "|---|---:|---:|---:|---:|---:|---:|"]
    table += [f"| {r['adapter']} | {r['rows']:,} | {r['classes']:,} | {r['classes_below_k']:,} | {r['test_s']} | {r['bare_s']} | {r['ratio']}× |" for r in results]
    print("\n".join(table))
    RESULTS.mkdir(parents=True, exist_ok=True)
    default = args.rows == 10_000_000 and args.repeat == 3 and args.legs == DEFAULT_LEGS
    command = "make bench-adapters" if default else f"bench/bench_adapters.py --rows {args.rows} --repeat {args.repeat} --legs {' '.join(args.legs)}"
    # Another choice of legs gets files of its own: adapters.md stays make bench-adapters' table.
    stem = "adapters" if args.legs == DEFAULT_LEGS else "adapters_" + "_".join(args.legs)
    (RESULTS / f"{stem}.md").write_text(f"`{command}` (best of {args.repeat}; loading excluded)\n\n" + "\n".join(table) + "\n")
    (RESULTS / f"{stem}.json").write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
