"""The measurements behind design choices the code states without numbers, each against its
alternative in the same invocation (ratios, not absolute times):

  - SQL analysis: parse + walk (`sql_joins.analyze`) against the same plus `sqlglot.optimizer.qualify`
    (sql_joins.py does without qualify);
  - meta validation: one JSON Schema validation of a privacy block against the cached lookup
    policy.py does for a block it has seen (`_violations`);
  - the check with the cyclic garbage collector on against off (check.py turns it off for the run);
  - manifest.json read entry by entry against the whole-document parse (loader.py): peak memory of
    each in a fresh subprocess.

Uses bench_check.py's synthetic manifest (six departments, joins, privacy meta on ~30% of nodes).

    .venv/bin/python bench/bench_design_choices.py [--models 2000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_check import OUT, PEAK_RSS_RESET, generate  # noqa: E402 -- the path above makes the sibling importable

#: Runs in a fresh subprocess: argv = [streaming 0/1, manifest]; prints the peak-RSS growth in MB.
MEMORY_PROBE = r"""
import sys
from pathlib import Path
from python_checks.loader import load_manifest
""" + PEAK_RSS_RESET + r"""
manifest = load_manifest(Path(sys.argv[2]), streaming=sys.argv[1] == "1")
print((resident_kb("VmHWM") - before) / 1024)
"""


def best_seconds(operation: Callable[[], object], repeat: int) -> float:
    """Best wall time of `repeat` runs."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        operation()
        times.append(time.perf_counter() - start)
    return min(times)


def sql_analysis(manifest: dict[str, object], repeat: int) -> tuple[float, float]:
    from sqlglot import parse_one
    from sqlglot.optimizer.qualify import qualify

    from python_checks.sql_joins import analyze

    nodes = manifest["nodes"]
    assert isinstance(nodes, dict)
    sqls = [node["compiled_code"] for node in nodes.values() if node.get("compiled_code")][:300]

    def plain() -> None:
        analyze.cache_clear()  # measure the analysis, not its in-memory cache
        for sql in sqls:
            analyze(sql, "duckdb")

    def qualified() -> None:
        plain()
        for sql in sqls:
            qualify(parse_one(sql, read="duckdb"), dialect="duckdb", validate_qualify_columns=False)

    return best_seconds(plain, repeat) / len(sqls), best_seconds(qualified, repeat) / len(sqls)


def validation(repeat: int) -> tuple[float, float]:
    import orjson

    from python_checks import contract, policy

    block = {"class": "quasi_identifier", "hierarchy": "zip_levels", "protection": "generalized"}
    serialized = orjson.dumps(block)
    calls = 200
    policy._violations("column", serialized)  # warm the cache and the validator
    uncached = best_seconds(lambda: [contract.validate("column", block) for _ in range(calls)], repeat) / calls
    cached = best_seconds(lambda: [policy._violations("column", serialized) for _ in range(calls)], repeat) / calls
    return uncached, cached


def cyclic_gc(path: Path, repeat: int) -> tuple[float, float]:
    import datetime as dt

    from python_checks.check import CheckOptions, _analyse
    from python_checks.settings import Settings

    def run() -> None:
        _analyse(path, CheckOptions(sql=False), Settings(), dt.date(2026, 1, 1))

    gc.enable()
    collected = best_seconds(run, repeat)
    gc.disable()
    off = best_seconds(run, repeat)
    gc.enable()
    return collected, off


def peak_memory(path: Path, streaming: bool, repeat: int) -> float:
    command = [sys.executable, "-c", MEMORY_PROBE, "1" if streaming else "0", str(path)]
    return min(float(subprocess.run(command, capture_output=True, text=True, check=True).stdout) for _ in range(repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    path = OUT / f"design_{args.models}.json"
    document = generate(args.models)
    path.write_text(json.dumps(document, separators=(",", ":")))
    plain, qualified = sql_analysis(document, args.repeat)
    uncached, cached = validation(args.repeat)
    collected, off = cyclic_gc(path, args.repeat)
    streamed, whole = peak_memory(path, True, args.repeat), peak_memory(path, False, args.repeat)
    print(f"{args.models} models, best of {args.repeat}\n")
    print("| choice | measured | alternative | ratio |\n|---|---|---|---|")
    print(f"| SQL: parse + walk, no qualify (ms/model) | {plain * 1e3:.2f} | {qualified * 1e3:.2f} with qualify | {qualified / plain:.1f}x |")
    print(f"| meta: cached validation (µs/block) | {cached * 1e6:.2f} | {uncached * 1e6:.1f} JSON Schema | {uncached / cached:.0f}x |")
    print(f"| check --no-sql, cyclic GC off (s) | {off:.2f} | {collected:.2f} GC on | {collected / off:.2f}x |")
    print(f"| manifest read entry by entry (peak MB) | {streamed:.0f} | {whole:.0f} whole document | {whole / streamed:.1f}x |")


if __name__ == "__main__":
    main()
