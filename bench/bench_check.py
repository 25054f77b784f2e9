"""Benchmark of `privacy-guard check` against `json.load` of the same manifest.

Generates synthetic manifests of 2,000 and 20,000 models (sources of six departments with policies,
fan-in of 1-4 parents from earlier layers, privacy meta on ~30% of nodes, compiled SQL with joins,
k_anonymity tests on ~20% of models, dbt's usual per-node bulk) into bench/out/, then measures in
a fresh subprocess per measurement (so peak memory is not shared):
  - json.load of the file,
  - the check without SQL analysis (run_check(sql=False) + the console report, i.e. `--no-sql`),
  - the check with SQL analysis (2,000 models only unless --full), to state its cost per model.
Both run under the same process conditions: cyclic GC off (the check turns it off itself; left on,
it would double json.load's time and flatter the ratio). Wall time is the best of --repeat runs of
the operation itself (interpreter start-up and imports excluded); memory is how far the process's
peak resident set (VmHWM, reset just before) rises above its size before the operation -- real
memory, including what orjson and sqlglot allocate outside Python's allocator (Linux only).

    .venv/bin/python bench/bench_check.py [--sizes 2000 20000] [--repeat 3] [--full]
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent / "out"
DEPARTMENTS = ["hr", "clinic", "sales", "support", "finance", "logistics"]
CLASSES = ["quasi_identifier", "quasi_identifier", "sensitive", "direct_identifier", "none"]

#: Probe code shared by the measuring subprocesses: `resident_kb`, then the cyclic GC off (the check
#: switches it off for its run, and a GC pass over json.load's millions of fresh dicts would
#: otherwise double a baseline's time) and the peak-RSS mark reset, so that start-up (imports)
#: cannot count as the operation's peak; `before` is the resident size the peak is measured from.
PEAK_RSS_RESET = r"""
import gc
def resident_kb(field):
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field + ":"))
gc.collect()
gc.disable()
with open("/proc/self/clear_refs", "w") as clear_refs:
    clear_refs.write("5")
before = resident_kb("VmRSS")
"""

#: Runs inside the measuring subprocess: argv = [mode, manifest]; prints {"seconds", "peak_mb"}.
PROBE = r"""
import gc, json, sys, time
mode, path = sys.argv[1], sys.argv[2]
if mode != "json":
    from pathlib import Path
    from python_checks.check import run_check
    from python_checks.formatters.text import render
def operation():
    if mode == "json":
        with open(path) as handle:
            return json.load(handle)
    # What `privacy-guard check --manifest PATH [--no-sql]` does after start-up: check + console report.
    return render(run_check(Path(path), sql=(mode == "sql")))
""" + PEAK_RSS_RESET + r"""
start = time.perf_counter()
result = operation()
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "peak_mb": (resident_kb("VmHWM") - before) / 1024}))
"""


def _bulk(name: str, sql: str = "") -> dict[str, Any]:
    """The fields a real manifest node carries that the check never reads (they make json.load honest).

    Real dbt 1.11 manifests weigh ~10-25 KB per model (the issue's 52 MB example); these nodes
    come out at ~8 KB, so the ratios below are if anything unfavourable to the check.
    """
    return {
        "fqn": ["bench", "layer", name],
        "description": f"Model {name}: " + "documentation text explaining the grain and the owner " * 6,
        "tags": ["nightly", "bench"],
        "docs": {"show": True, "node_color": None},
        "build_path": None,
        "unrendered_config": {"materialized": "table", "tags": ["nightly"], "schema": "marts"},
        "created_at": 1700000000.0,
        "language": "sql",
        "raw_code": sql.replace('"bench"."main".', "{{ ref('").replace(" as ", "') }} as ", 1),
        "refs": [{"name": name, "package": None, "version": None}],
        "sources": [],
        "metrics": [],
        "doc_blocks": [],
        "access": "protected",
        "group": None,
        "version": None,
        "latest_version": None,
        "deprecation_date": None,
        "primary_key": ["id"],
        "time_spine": None,
        "compiled_path": f"target/compiled/bench/models/{name}.sql",
        "compiled": True,
        "extra_ctes_injected": True,
        "extra_ctes": [],
        "contract": {"enforced": False, "alias_types": True, "checksum": None},
        "constraints": [],
    }


def _config(materialized: str, privacy: dict[str, Any] | None) -> dict[str, Any]:
    unset = ("database", "schema", "alias", "unique_key", "on_schema_change", "on_configuration_change", "grants", "packages",
             "docs", "event_time", "batch_size", "lookback", "begin", "concurrent_batches", "incremental_strategy", "group",
             "access", "contract", "post-hook", "pre-hook", "sql_header", "freshness")
    config = {key: None for key in unset}
    config.update({"enabled": True, "materialized": materialized, "tags": [], "persist_docs": {}, "quoting": {}, "column_types": {}, "full_refresh": None, "meta": {"privacy": privacy} if privacy else {}})
    return config


def _columns(rng: random.Random, classed: bool) -> dict[str, Any]:
    columns = {}
    for index in range(rng.randint(5, 15)):
        name = f"col_{rng.randint(0, 40)}" if index else "id"
        meta = {"privacy": {"class": rng.choice(CLASSES)}} if classed and rng.random() < 0.4 else {}
        columns[name] = {
            "name": name, "description": f"What {name} holds, in the words of its owner.", "data_type": None,
            "config": {"meta": meta, "tags": []}, "meta": {}, "constraints": [], "quote": None, "tags": [], "granularity": None, "doc_blocks": [],
        }
    return columns


def _relation(unique_id: str) -> str:
    return f'"bench"."main"."{unique_id.rsplit(".", 1)[-1]}"'


def _sql(rng: random.Random, parents: list[str], columns: dict[str, Any]) -> str:
    aliases = [f"t{index}" for index in range(len(parents))]
    projections = ", ".join(f"{rng.choice(aliases)}.{name}" for name in columns)
    sql = f"with base as (select * from {_relation(parents[0])}) select {projections} from base as t0"
    for alias, parent in zip(aliases[1:], parents[1:]):
        side = rng.choice(["inner", "left"])
        sql += f" {side} join {_relation(parent)} as {alias} on t0.id = {alias}.id"
    return sql + " where t0.id is not null"


def generate(models: int, seed: int = 7) -> dict[str, Any]:
    """A manifest.json (v12 layout) with `models` models."""
    rng = random.Random(seed)
    nodes: dict[str, Any] = {}
    sources: dict[str, Any] = {}
    upstream: list[str] = []
    for index in range(max(models // 10, 6)):
        unique_id = f"source.bench.raw.src_{index}"
        privacy = {"department": DEPARTMENTS[index % len(DEPARTMENTS)], "consent": ["research", "reporting"], "retention": {"days": rng.choice([90, 365, 3650])}}
        sources[unique_id] = {
            "unique_id": unique_id, "name": f"src_{index}", "resource_type": "source", "package_name": "bench",
            "original_file_path": "models/sources.yml", "database": "bench", "schema": "main", "identifier": f"src_{index}",
            "source_name": "raw", "source_description": "", "loader": "",
            "relation_name": _relation(unique_id), "config": {"enabled": True, "meta": {"privacy": privacy}}, "meta": {},
            "columns": _columns(rng, True), **_bulk(f"src_{index}"),
        }
        upstream.append(unique_id)
    for index in range(models):
        unique_id = f"model.bench.model_{index}"
        window = upstream[-300:]  # realistic layering: parents come from the recent past
        parents = rng.sample(window, k=min(len(window), rng.choice([1, 1, 2, 2, 3, 4])))
        privacy = {"purpose": rng.choice(["research", "reporting"])} if rng.random() < 0.3 else None
        columns = _columns(rng, rng.random() < 0.3)
        nodes[unique_id] = {
            "unique_id": unique_id, "name": f"model_{index}", "resource_type": "model", "package_name": "bench",
            "original_file_path": f"models/model_{index}.sql", "patch_path": "bench://models/schema.yml",
            "database": "bench", "schema": "main", "alias": f"model_{index}", "relation_name": _relation(unique_id),
            "config": _config(rng.choice(["view", "table"]), privacy), "meta": {}, "columns": columns,
            "depends_on": {"nodes": parents, "macros": []}, "checksum": {"name": "sha256", "checksum": f"{index:064x}"},
            "compiled_code": (sql := _sql(rng, parents, columns)), **_bulk(f"model_{index}", sql),
        }
        upstream.append(unique_id)
        if rng.random() < 0.2:
            test_id = f"test.bench.k_anonymity_model_{index}"
            nodes[test_id] = {
                "unique_id": test_id, "name": f"k_anonymity_model_{index}", "resource_type": "test", "package_name": "bench", "attached_node": unique_id,
                "test_metadata": {"name": "k_anonymity", "namespace": "privacy_guard", "kwargs": {}},
                "depends_on": {"nodes": [unique_id], "macros": []}, **_bulk(f"k_{index}"),
            }
    metadata = {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json", "dbt_version": "1.11.0", "adapter_type": "duckdb", "project_name": "bench"}
    # dbt's maps: each node's parents and children (tools like dbt-colibri read them instead of depends_on).
    parent_map = {unique_id: list(node["depends_on"]["nodes"]) for unique_id, node in nodes.items()} | {unique_id: [] for unique_id in sources}
    child_map: dict[str, list[str]] = {unique_id: [] for unique_id in parent_map}
    for unique_id, parents in parent_map.items():
        for parent in parents:
            child_map[parent].append(unique_id)
    return {"metadata": metadata, "nodes": nodes, "sources": sources, "exposures": {}, "macros": {}, "docs": {}, "parent_map": parent_map, "child_map": child_map}


def _probe(mode: str, manifest: Path) -> dict[str, float]:
    command = [sys.executable, "-c", PROBE, mode, str(manifest)]
    return json.loads(subprocess.run(command, capture_output=True, text=True, check=True, cwd=OUT).stdout)


def measure(mode: str, manifest: Path, repeat: int) -> dict[str, float]:
    """Best wall time and smallest peak-RSS growth of `repeat` fresh subprocesses."""
    runs = [_probe(mode, manifest) for _ in range(repeat)]
    return {"seconds": min(run["seconds"] for run in runs), "peak_mb": min(run["peak_mb"] for run in runs)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 20000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--full", action="store_true", help="also run the SQL analysis on the largest size")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    print(f"{'models':>7} {'MB':>6} | {'json.load s':>11} {'check s':>8} {'ratio':>6} | {'json MB':>8} {'check MB':>9} {'ratio':>6} | SQL ms/model")
    for size in args.sizes:
        manifest = OUT / f"manifest_{size}.json"
        manifest.write_text(json.dumps(generate(size)))
        baseline = measure("json", manifest, args.repeat)
        check = measure("nosql", manifest, args.repeat)
        sql_cost = "-"
        if size == min(args.sizes) or args.full:
            with_sql = _probe("sql", manifest)
            sql_cost = f"{(with_sql['seconds'] - check['seconds']) / size * 1000:.2f}"
        print(
            f"{size:>7} {manifest.stat().st_size / 2**20:>6.1f} | {baseline['seconds']:>11.3f} {check['seconds']:>8.3f} "
            f"{check['seconds'] / baseline['seconds']:>6.2f} | {baseline['peak_mb']:>8.1f} {check['peak_mb']:>9.1f} "
            f"{check['peak_mb'] / baseline['peak_mb']:>6.2f} | {sql_cost}"
        )


if __name__ == "__main__":
    main()
