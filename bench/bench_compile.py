"""What the privacy generic tests add to `dbt compile` of a large project.

Generates one project of N models (default 1,000; meta-tagged: two quasi-identifiers and a
sensitive column each) in three variants and times a full `dbt compile` (parse included, partial
parsing off) of each, in this one invocation:
  - models:   no tests (the baseline),
  - builtin:  two dbt built-in tests per model (not_null on two columns): what any two tests cost,
  - privacy:  privacy_guard.k_anonymity and privacy_guard.l_diversity per model, with no arguments,
              so every test looks its model up in the graph and reads the meta.
Reported: wall seconds (best of --repeat), the privacy/models ratio, and per-test milliseconds over
the baseline and over the built-in tests (the cost of the package's lookup and Jinja).

    .venv/bin/python bench/bench_compile.py [--models 1000] [--repeat 2]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DBT = str(Path(sys.executable).with_name("dbt"))
VARIANTS = ("models", "builtin", "privacy")


def _column(name: str, privacy_class: str) -> dict:
    return {"name": name, "config": {"meta": {"privacy": {"class": privacy_class}}}}


def write_project(root: Path, models: int, variant: str) -> Path:
    """A consumer project of `models` models installing privacy_guard with `local:`."""
    project = root / variant
    (project / "models").mkdir(parents=True)
    (project / "dbt_project.yml").write_text(
        "name: bench\nversion: '1.0'\nconfig-version: 2\nprofile: bench\nmodel-paths: [models]\n"
    )
    (project / "packages.yml").write_text(f"packages:\n  - local: {REPO_ROOT}\n")
    (project / "profiles.yml").write_text(
        f"bench:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: '{project / 'bench.duckdb'}'\n      threads: 1\n"
    )
    properties = []
    for index in range(models):
        name = f"model_{index:05d}"
        (project / "models" / f"{name}.sql").write_text(
            "select 1 as person_id, '30-39' as age_band, 'F' as sex, 'flu' as diagnosis\n"
        )
        entry = {
            "name": name,
            "config": {"meta": {"privacy": {"department": "clinic", "k": 5}}},
            "columns": [_column("age_band", "quasi_identifier"), _column("sex", "quasi_identifier"), _column("diagnosis", "sensitive")],
        }
        if variant == "builtin":
            entry["data_tests"] = [{"not_null": {"arguments": {"column_name": "age_band"}}}, {"not_null": {"arguments": {"column_name": "sex"}}}]
        elif variant == "privacy":
            entry["data_tests"] = ["privacy_guard.k_anonymity", "privacy_guard.l_diversity"]
        properties.append(entry)
    (project / "models" / "schema.yml").write_text(json.dumps({"version": 2, "models": properties}))
    return project


def run_dbt(project: Path, *args: str) -> float:
    """Wall seconds of one dbt command (fails loudly: a broken compile is not a measurement)."""
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1"}
    start = time.perf_counter()
    proc = subprocess.run(
        [DBT, *args, "--project-dir", str(project), "--profiles-dir", str(project)],
        cwd=project, env=env, capture_output=True, text=True,
    )
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"dbt {' '.join(args)} failed in {project}:\n{proc.stdout[-3000:]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=2)
    options = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="bench_compile_"))
    try:
        projects = {variant: write_project(root, options.models, variant) for variant in VARIANTS}
        for project in projects.values():
            run_dbt(project, "deps")
        seconds = {
            variant: min(run_dbt(project, "compile", "--no-partial-parse") for _ in range(options.repeat))
            for variant, project in projects.items()
        }
    finally:
        shutil.rmtree(root, ignore_errors=True)

    tests = 2 * options.models
    result = {
        "models": options.models,
        "tests": tests,
        "compile_seconds": {variant: round(value, 2) for variant, value in seconds.items()},
        "privacy_over_models_ratio": round(seconds["privacy"] / seconds["models"], 2),
        "builtin_over_models_ratio": round(seconds["builtin"] / seconds["models"], 2),
        "privacy_ms_per_test": round(1000 * (seconds["privacy"] - seconds["models"]) / tests, 2),
        "builtin_ms_per_test": round(1000 * (seconds["builtin"] - seconds["models"]) / tests, 2),
        "privacy_extra_ms_per_test_over_builtin": round(1000 * (seconds["privacy"] - seconds["builtin"]) / tests, 2),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
