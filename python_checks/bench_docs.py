"""README's summary of the measured speed, rendered from the benchmarks' own result files.

The numbers live in bench/results/*.json, written by the benchmark that measured them
(`bench_privacy_tests.py`, `bench_check_scale.py`); README shows them against the goals the
project set, and `tests/test_docs_pages.py` fails when README and the results differ, so a
re-run benchmark cannot leave a stale claim behind.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parents[1] / "bench" / "results"
#: Privacy tests: the compiled test may cost at most this many times its bare GROUP BY.
TEST_OVER_BARE_GOAL = 1.5
#: Privacy tests: pycanon must take at least this many times the compiled test (1M rows).
PYCANON_OVER_TEST_GOAL = 50


def _verdict(met: bool) -> str:
    return "met" if met else "**not met**"


def _ratio(value: float) -> str:
    return f"{value:.2f}×"


def privacy_tests_table(document: dict[str, Any]) -> str:
    """One row per test: test / bare for every (rows, shape) measured, then pycanon / test."""
    results = document["results"]
    columns = sorted({(r["rows"], r["shape"]) for r in results}, key=lambda column: (column[0], column[1] != "low"))
    tests = list(dict.fromkeys(r["test"] for r in results))
    by_key = {(r["test"], r["rows"], r["shape"]): r for r in results}
    header = ["test", *(f"{rows / 1e6:g}M rows, {shape}: test / bare" for rows, shape in columns), "pycanon / test (1M rows, low / high)"]
    lines = ["| " + " | ".join(header) + " |", "|---" + "|---:" * (len(header) - 1) + "|"]
    ratios, speedups = [], []
    for test in tests:
        cells = []
        for rows, shape in columns:
            result = by_key.get((test, rows, shape))
            cells.append(_ratio(result["ratio"]) if result else "")
            if result:
                ratios.append(result["ratio"])
        pycanon_ratios = [by_key.get((test, 1_000_000, shape), {}).get("pycanon_over_test") for shape in ("low", "high")]
        speedups += [value for value in pycanon_ratios if value is not None]
        cells.append(" / ".join(_pycanon_cell(value) for value in pycanon_ratios) if any(value is not None for value in pycanon_ratios) else "")
        lines.append(f"| {test} | " + " | ".join(cells) + " |")
    slowest = max(ratios)
    if speedups:
        lowest_speedup = min(_pycanon_floor(value) for value in speedups)
        pycanon_summary = f"smallest pycanon / test: {lowest_speedup:g}× (goal ≥ {PYCANON_OVER_TEST_GOAL}×: {_verdict(lowest_speedup >= PYCANON_OVER_TEST_GOAL)})"
    else:
        pycanon_summary = "pycanon not measured in this run (`--no-pycanon`)"
    load = document["load_average"]
    return "\n".join(lines) + (
        f"\n\nSlowest test / bare: {_ratio(slowest)} (goal ≤ {TEST_OVER_BARE_GOAL}×: {_verdict(slowest <= TEST_OVER_BARE_GOAL)}); "
        f"{pycanon_summary}. Load average {load[0]:.1f} → {load[1]:.1f} (1 minute, before → after)."
    )


def _pycanon_cell(value: float | str | None) -> str:
    """pycanon / test: a number, or "> N" when pycanon ran past the bench's timeout."""
    if value is None:
        return "–"
    return f"{value}×" if isinstance(value, str) else f"{value:g}×"


def _pycanon_floor(value: float | str) -> float:
    """The least the speed-up can be: "> N" (pycanon stopped at the timeout) counts as N."""
    return float(value.lstrip("> ")) if isinstance(value, str) else value


def check_scale_table(document: dict[str, Any]) -> str:
    """The goals of `privacy-guard check` at scale, each with what the latest run measured."""
    sizes = document["sizes"]
    smallest, largest = sizes[min(sizes, key=int)], sizes[max(sizes, key=int)]
    models = f"{int(min(sizes, key=int)):,}"
    lines = ["| goal | measured | |", "|---|---|---|"]
    if "import_ms" in smallest:
        help_ms, check_ms = smallest["import_ms"]["help"], smallest["import_ms"]["check_no_sql"]
        lines.append(f"| start-up: imports of `--help` and `check --no-sql` < 150 ms | {help_ms:.0f} / {check_ms:.0f} ms | {_verdict(max(help_ms, check_ms) < 150)} |")
    if "dbt_score_best" in smallest:
        ours, theirs = smallest["no_sql_best"], smallest["dbt_score_best"]
        wall, cpu = ours["seconds"] / theirs["seconds"], ours["cpu"] / theirs["cpu"]
        lines.append(
            f"| `check --no-sql`, {models} models, faster than `dbt-score lint` (best of 3 each) | "
            f"{ours['seconds']:.2f} s vs {theirs['seconds']:.2f} s: {_ratio(wall)} wall, {_ratio(cpu)} CPU | {_verdict(wall < 1)} |"
        )
    if "dbt_parse" in smallest:
        cold = smallest["cold"]["seconds"] / smallest["dbt_parse"]["seconds"]
        lines.append(f"| `check` with SQL, {models} models, cold cache ≤ 1/5 of `dbt parse` | {smallest['cold']['seconds']:.2f} s vs {smallest['dbt_parse']['seconds']:.2f} s: {_ratio(cold)} | {_verdict(cold <= 0.2)} |")
    changed = smallest["changed"]["seconds"] / smallest["no_sql"]["seconds"]
    lines.append(f"| warm cache after a one-model change ≤ 1.5× `--no-sql`, {models} models | {_ratio(changed)} | {_verdict(changed <= 1.5)} |")
    if "colibri" in smallest:
        lineage = smallest["cold"]["seconds"] / smallest["colibri"]["seconds"]
        lines.append(f"| column lineage vs `colibri generate`, {models} models | check with SQL, cold: {_ratio(lineage)} colibri's time | |")
    if int(max(sizes, key=int)) >= 50_000:
        warm = largest["warm"]
        lines.append(
            f"| {int(max(sizes, key=int)):,} models with SQL, warm cache: < 10 s, < 2 GB | {warm['seconds']:.1f} s ({warm['cpu']:.1f} s CPU), {warm['peak_mb']:,.0f} MB | "
            f"{_verdict(warm['seconds'] < 10 and warm['peak_mb'] < 2048)} |"
        )
    return "\n".join(lines) + f"\n\n`{document['command']}`, {document['date']}, {document['cores']} shared cores."


def render() -> str:
    """README's "Measured" section: both tables from the latest result files."""
    privacy_tests = json.loads((RESULTS / "privacy_tests.json").read_text())
    check_scale = json.loads((RESULTS / "check_scale.json").read_text())
    return (
        "**Privacy tests** (`make bench-tests`): each test's compiled SQL against the bare `GROUP BY` it needs, "
        "in the same DuckDB process, and against pycanon on the same rows:\n\n"
        + privacy_tests_table(privacy_tests)
        + "\n\n**`privacy-guard check` at scale** (`make bench-scale`), whole process:\n\n"
        + check_scale_table(check_scale)
    )
