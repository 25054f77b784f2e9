"""Speed of the privacy tests' compiled SQL against the bare GROUP BY each needs, and against pycanon.

Generated rows (5 quasi-identifiers, a person id, a categorical and a numeric sensitive column)
in one DuckDB file, at a low and a high number of equivalence classes. dbt compiles the package's
real tests on them (tests in a throw-away project, `dbt compile`), then this process runs each
compiled query and its bare equivalent on one connection, interleaved, best of --repeat, as dbt's test
materialization does (`select count(*) from (<test sql>)`). Ratios are test / bare in the same
process.

t (`equal` on `s` as categories, `ordered` on `s` as numbers: its default for an integer column) has
one bare query for both: the two GROUP BYs any t needs, cells by (QIs, s) and classes by the QIs with
their totals; the distance itself (a per-class sum over the cells) is what the test adds.

In dbt (`dbt test`, every size): a passing test with the failure explanation on (the default: the
test first runs its query to know whether to explain it) against the same test with it off
(`explain_failures: false`: dbt runs the query once), dbt's own execution time of the test node,
alternating, best of --repeat-dbt. A passing test reuses that first run's verdict, so on / off should
stay near 1.

pycanon (1M rows, both shapes): what is timed on each side. Ours: the compiled test on the DuckDB
table (the data is in the warehouse; nothing is loaded). pycanon's: only its call on the same rows
already in memory as a pandas DataFrame (QIs and s; loading them is not timed), in a child process
per (shape, test) killed after --pycanon-timeout seconds (reported as more than that).

    .venv/bin/python bench/bench_privacy_tests.py [--rows 1000000 10000000] [--repeat 7] [--repeat-dbt 3] [--no-pycanon] [--pycanon-timeout 120]

Prints a markdown table and writes it with the raw numbers to bench/results/privacy_tests.{md,json}.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "bench" / "out" / "privacy_tests"
RESULTS = REPO / "bench" / "results"
DBT = str(Path(sys.executable).with_name("dbt"))
QIS = ["q1", "q2", "q3", "q4", "q5"]
QI_SQL = ", ".join(QIS)
K, L, T = 5, 2, 0.2
#: Cardinality of q1..q5: `low` gives classes of ~10-100 rows, `high` makes most classes unique.
SHAPES = {"low": [2, 10, 10, 20, 50], "high": [2, 10, 10, 20, 100_000]}

#: t's bare query: the two GROUP BYs any t needs, cells (QIs, s) and classes (QIs) with their totals.
#: HAVING keeps the class total: the bench only counts result rows, and DuckDB drops an unread aggregate.
T_BARE = (f"select sum(n) from (select {QI_SQL}, count(*) as n from {{t}} group by {QI_SQL}, s) as cells "
          f"group by {QI_SQL} having sum(n) > 0")
# Test name -> (its YAML entry under the source table, the bare query with the same result size).
TESTS = {
    "k rows": (
        "privacy_guard.k_anonymity: {arguments: {k: 5}}",
        f"select count(*) from {{t}} group by {QI_SQL} having count(*) < {K}",
    ),
    "k people": (
        "privacy_guard.k_anonymity: {arguments: {k: 5, privacy_unit: person_id}}",
        f"select count(distinct person_id) from {{t}} group by {QI_SQL} having count(distinct person_id) < {K}",
    ),
    "l distinct": (
        "privacy_guard.l_diversity: {arguments: {l: 2}}",
        f"select count(distinct s) from {{t}} group by {QI_SQL} having count(distinct s) < {L}",
    ),
    "l entropy": (
        "privacy_guard.l_diversity: {arguments: {l: 2, variant: entropy}}",
        # HAVING reads the sum: unread, DuckDB would drop it and time the grouping alone (see T_BARE).
        f"select sum(n * ln(n)) from (select {QI_SQL}, count(*) as n from {{t}} group by {QI_SQL}, s) as cells "
        f"group by {QI_SQL} having sum(n * ln(n)) >= 0",
    ),
    "t equal": (
        "privacy_guard.t_closeness: {arguments: {t: 0.2, distance: equal}}",
        T_BARE,
    ),
    # Ordered EMD on the integer `s`: what t_closeness picks for a numeric column when no distance is given.
    "t ordered": (
        "privacy_guard.t_closeness: {arguments: {t: 0.2}}",
        T_BARE,
    ),
}

#: Tests that pass on the generated tables, timed under `dbt test` with the explanation on and off:
#: name -> (table, YAML entry). t 0.6 is above every class's ordered distance on both shapes.
DBT_RUNS = {
    "k rows (passes on low)": ("rows_low", "privacy_guard.k_anonymity: {arguments: {k: 5}}"),
    "t ordered, t 0.6 (passes)": ("rows_high", "privacy_guard.t_closeness: {arguments: {t: 0.6}}"),
}


def generate(database: Path, rows: int) -> None:
    """Two tables of `rows` rows (low, high); values from hashes of the row number, so every run is the same."""
    with duckdb.connect(str(database)) as con:
        for shape, sizes in SHAPES.items():
            columns = ", ".join(f"cast(hash(i, {n}) % {size} as integer) as q{n + 1}" for n, size in enumerate(sizes))
            con.execute(
                f"create or replace table rows_{shape} as select {columns}, "
                f"'p' || (hash(i, 9) % {max(rows // 3, 1)}) as person_id, "
                "cast(hash(i, 7) % 12 as integer) as s "
                f"from range({rows}) as r(i)"
            )


def compile_tests(database: Path) -> dict[tuple[str, str], str]:
    """(test, shape) -> compiled SQL of the package's test, rendered by dbt against the generated tables."""
    project = OUT / "project"
    shutil.rmtree(project, ignore_errors=True)
    (project / "models").mkdir(parents=True)
    (project / "dbt_project.yml").write_text("name: bench_privacy_tests\nversion: '1.0'\nconfig-version: 2\nprofile: bench\n")
    (project / "packages.yml").write_text(f"packages:\n  - local: {REPO}\n")
    (project / "profiles.yml").write_text(f"bench:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: '{database}'\n")
    columns = "".join(
        f"          - name: {name}\n            config: {{meta: {{privacy: {{class: {column_class}}}}}}}\n"
        for name, column_class in [*((q, "quasi_identifier") for q in QIS), ("s", "sensitive")]
    )
    tables = ""
    for shape in SHAPES:
        named = [(_test_id(test, shape), entry) for test, (entry, _) in TESTS.items()]
        named += [(_dbt_run_id(test), entry) for test, (table, entry) in DBT_RUNS.items() if table == f"rows_{shape}"]
        tables += f"      - name: rows_{shape}\n        columns:\n{columns}        data_tests:\n"
        tables += "".join(f"          - {entry.replace(': {arguments', ': {name: ' + name + ', arguments')}\n" for name, entry in named)
    (project / "models" / "sources.yml").write_text(f"version: 2\nsources:\n  - name: bench\n    schema: main\n    tables:\n{tables}")
    for command in (["deps"], ["compile", "--select", "test_type:data"]):
        subprocess.run([DBT, *command, "--project-dir", str(project), "--profiles-dir", str(project)], check=True, capture_output=True, cwd=project)
    compiled = {}
    for test in TESTS:
        for shape in SHAPES:
            [path] = (project / "target" / "compiled").rglob(f"{_test_id(test, shape)}.sql")
            compiled[(test, shape)] = path.read_text()
    return compiled


def _test_id(test: str, shape: str) -> str:
    return f"{test.replace(' ', '_')}_{shape}"


def _dbt_run_id(test: str) -> str:
    return "dbt_" + "".join(character if character.isalnum() else "_" for character in test.split(" (")[0])


def dbt_test_seconds(test: str, explain: bool) -> float:
    """dbt's execution time of one test node under `dbt test`, with the failure explanation on or off."""
    project = OUT / "project"
    variables = json.dumps({"privacy_guard": {"explain_failures": explain}})
    done = subprocess.run([DBT, "test", "--select", _dbt_run_id(test), "--vars", variables, "--project-dir", str(project), "--profiles-dir", str(project)],
                          capture_output=True, text=True, cwd=project)
    [result] = json.loads((project / "target" / "run_results.json").read_text())["results"]
    if done.returncode != 0 or result["status"] != "pass":
        raise SystemExit(f"bench_privacy_tests: {test} did not pass under dbt test ({result['status']}): {done.stdout[-2000:]}")
    return float(result["execution_time"])


def dbt_runs(rows: int, repeat: int) -> list[dict[str, object]]:
    """Each DBT_RUNS test, explanation off and on alternating (which goes first alternates too), best of `repeat`."""
    measured = []
    for test in DBT_RUNS:
        seconds: dict[bool, list[float]] = {False: [], True: []}
        for round_number in range(repeat):
            for explain in (False, True) if round_number % 2 == 0 else (True, False):
                seconds[explain].append(dbt_test_seconds(test, explain))
        off, on = min(seconds[False]), min(seconds[True])
        measured.append({"rows": rows, "test": test, "off_s": round(off, 3), "on_s": round(on, 3), "ratio": round(on / off, 2)})
    return measured


def _seconds(con: duckdb.DuckDBPyConnection, sql: str) -> float:
    start = time.perf_counter()
    con.execute(f"select count(*) from ({sql}) as failures").fetchone()
    return time.perf_counter() - start


def best_pair(con: duckdb.DuckDBPyConnection, test_sql: str, bare_sql: str, repeat: int) -> tuple[float, float]:
    """Fastest of `repeat` runs of each, interleaved so that load from other processes hits both alike,
    the one run first alternating (whichever runs second would otherwise always find warmer caches)."""
    test, bare = [], []
    for round_number in range(repeat):
        if round_number % 2:
            bare.append(_seconds(con, bare_sql))
            test.append(_seconds(con, test_sql))
        else:
            test.append(_seconds(con, test_sql))
            bare.append(_seconds(con, bare_sql))
    return min(test), min(bare)


#: pycanon's function for each test it has (its own definitions, counting rows).
PYCANON_CALLS = {"k rows": "k_anonymity", "l distinct": "l_diversity", "l entropy": "entropy_l_diversity", "t equal": "t_closeness"}


def pycanon_child(database: str, shape: str, test: str) -> None:
    """In a child process: load the rows into a DataFrame (not timed), print the seconds of pycanon's call."""
    from pycanon import anonymity

    with duckdb.connect(database, read_only=True) as con:
        frame = con.execute(f"select {QI_SQL}, s from rows_{shape}").df()
    call = getattr(anonymity, PYCANON_CALLS[test])
    arguments = (frame, QIS) if test == "k rows" else (frame, QIS, ["s"])
    start = time.perf_counter()
    call(*arguments)
    print(time.perf_counter() - start)


def pycanon_seconds(database: Path, shape: str, test: str, timeout: float) -> float | None:
    """Seconds of pycanon's call on rows_<shape>, or None when it ran longer than `timeout`."""
    command = [sys.executable, __file__, "--pycanon-child", str(database), shape, test]
    try:
        done = subprocess.run(command, check=True, capture_output=True, text=True, timeout=timeout + 60)  # + loading the frame
    except subprocess.TimeoutExpired:
        return None
    seconds = float(done.stdout.strip().splitlines()[-1])
    return seconds if seconds <= timeout else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--repeat-dbt", type=int, default=3)
    parser.add_argument("--no-pycanon", action="store_true")
    parser.add_argument("--pycanon-timeout", type=float, default=120)
    parser.add_argument("--pycanon-child", nargs=3, metavar=("DATABASE", "SHAPE", "TEST"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.pycanon_child:
        pycanon_child(*args.pycanon_child)
        return
    load_before = os.getloadavg()
    OUT.mkdir(parents=True, exist_ok=True)
    results = []
    in_dbt: list[dict[str, object]] = []
    #: Unrounded seconds of each compiled test, (rows, shape, test) -> s: pycanon's ratio is taken from them.
    test_seconds: dict[tuple[int, str, str], float] = {}
    for rows in args.rows:
        database = OUT / "bench.duckdb"
        database.unlink(missing_ok=True)
        generate(database, rows)
        compiled = compile_tests(database)
        with duckdb.connect(str(database), read_only=True) as con:
            classes = {shape: con.execute(f"select count(*) from (select 1 from rows_{shape} group by {QI_SQL})").fetchone()[0] for shape in SHAPES}
            for (test, shape), sql in compiled.items():
                bare = TESTS[test][1].format(t=f"rows_{shape}")
                test_s, bare_s = best_pair(con, sql, bare, args.repeat)
                test_seconds[(rows, shape, test)] = test_s
                results.append({"rows": rows, "shape": shape, "classes": classes[shape], "test": test,
                                "test_s": round(test_s, 3), "bare_s": round(bare_s, 3), "ratio": round(test_s / bare_s, 2)})
        if rows == 1_000_000 and not args.no_pycanon:
            for shape in SHAPES:
                for test in PYCANON_CALLS:
                    ours = next(r for r in results if r["rows"] == rows and r["shape"] == shape and r["test"] == test)
                    seconds = pycanon_seconds(database, shape, test, args.pycanon_timeout)
                    if seconds is None:
                        ours.update({"pycanon_s": f"> {args.pycanon_timeout:g}", "pycanon_over_test": f"> {args.pycanon_timeout / test_seconds[(rows, shape, test)]:.0f}"})
                    else:
                        ours.update({"pycanon_s": round(seconds, 2), "pycanon_over_test": round(seconds / test_seconds[(rows, shape, test)], 1)})
        in_dbt += dbt_runs(rows, args.repeat_dbt)
        database.unlink(missing_ok=True)
    table = ["| rows | classes | test | compiled test (s) | bare GROUP BY (s) | test / bare | pycanon (s) | pycanon / test |",
             "|---:|---:|---|---:|---:|---:|---:|---:|"]
    for r in results:
        table.append(f"| {r['rows']:,} | {r['classes']:,} | {r['test']} | {r['test_s']} | {r['bare_s']} | {r['ratio']}× | "
                     f"{r.get('pycanon_s', '')} | {str(r['pycanon_over_test']) + '×' if 'pycanon_over_test' in r else ''} |")
    dbt_table = ["| rows | passing test | dbt test, explanation off (s) | explanation on (s) | on / off |", "|---:|---|---:|---:|---:|"]
    dbt_table += [f"| {r['rows']:,} | {r['test']} | {r['off_s']} | {r['on_s']} | {r['ratio']}× |" for r in in_dbt]
    load = f"Load average (1 min) {load_before[0]:.1f} at the start, {os.getloadavg()[0]:.1f} at the end, on {os.cpu_count()} cores."
    report = "\n".join(table) + "\n\n" + "\n".join(dbt_table) + "\n\n" + load
    print(report)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "privacy_tests.md").write_text(report + "\n")
    document = {"load_average": [load_before[0], os.getloadavg()[0]], "results": results, "dbt_test": in_dbt}
    (RESULTS / "privacy_tests.json").write_text(json.dumps(document, indent=1) + "\n")


if __name__ == "__main__":
    main()
