"""Build the privacy_guard demo (examples/demo) on an embedded DuckDB and summarise it.

`make demo` runs this: generate the data, build the demo, run `privacy-guard check` on the build
and write the governance docs site. The steps are a list (`STEPS`). Each step is a real subprocess with the venv's
tools; the first failing step stops the run with its exit code.

Every finding the check reports is planted on purpose: examples/demo/planted_findings.yml lists
each (rule, node) with what it teaches, and the run prints that next to the check output. A finding
the list does not have, or a listed one the check no longer reports, fails the run.

The pseudonymization key: when PRIVACY_GUARD_KEY is unset, a fixed demo-only key is used (a
one-line notice says so; the key itself is never printed). Never reuse it for real data: anyone
who reads this file can recompute the demo's pseudonyms.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import orjson
import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
DEMO_DIR = REPO_ROOT / "examples" / "demo"
DATABASE = DEMO_DIR / "demo.duckdb"
MANIFEST = DEMO_DIR / "target" / "manifest.json"
RUN_RESULTS = DEMO_DIR / "target" / "run_results.json"
DOCS_DIR = DEMO_DIR / "target" / "privacy_docs"
CHECK_JSON = DEMO_DIR / "target" / "privacy_check.json"
PLANTED_FINDINGS = DEMO_DIR / "planted_findings.yml"
BIN = Path(sys.executable).parent

KEY_ENV_VAR = "PRIVACY_GUARD_KEY"  # the demo's vars.privacy_guard.key_env_var
#: Public on purpose: it only pseudonymizes generated people.
DEMO_ONLY_KEY = "privacy-guard-demo-only-key-not-for-real-data"


@dataclass(frozen=True)
class Step:
    """One stage of the demo: a name for the log, the command it runs and, optionally, what to do
    in-process once the command succeeded (its return value is the step's exit code)."""

    name: str
    command: Callable[[], list[str]]
    then: Callable[[], int] | None = None


def _dbt(*args: str) -> Callable[[], list[str]]:
    return lambda: [str(BIN / "dbt"), *args, "--project-dir", str(DEMO_DIR), "--profiles-dir", str(DEMO_DIR)]


def _privacy_guard(*args: str) -> Callable[[], list[str]]:
    artifacts = ["--manifest", str(MANIFEST), "--run-results", str(RUN_RESULTS), "--project-dir", str(DEMO_DIR)]
    return lambda: [str(BIN / "privacy-guard"), *args, *artifacts]


STEPS: list[Step] = [
    Step("generate demo data", lambda: [sys.executable, str(REPO_ROOT / "scripts" / "generate_demo_data.py")]),
    Step("dbt deps", _dbt("deps")),
    Step("dbt build", _dbt("build")),
    # The demo plants a risky join on purpose: show the findings without failing the demo
    # (CI gates use the default --fail-on error).
    Step("privacy-guard check", _privacy_guard("check", "--database", str(DATABASE), "--fail-on", "never")),
    # The same check as a JSON document, compared with the planted findings (the SQL cache makes it cheap).
    Step(
        "planted findings",
        _privacy_guard("check", "--database", str(DATABASE), "--fail-on", "never", "--format", "json", "--output", str(CHECK_JSON)),
        then=lambda: explain_findings(orjson.loads(CHECK_JSON.read_bytes())["findings"]),
    ),
    Step("privacy-guard docs", _privacy_guard("docs", "--out", str(DOCS_DIR))),
    # Dry run: per relation the rows past retention; nothing is deleted, run_results.json is kept.
    Step("dbt run-operation privacy_guard.purge_expired (dry run)", _dbt("run-operation", "privacy_guard.purge_expired", "--no-write-json")),
    Step("privacy-guard agreements", lambda: [str(BIN / "privacy-guard"), "agreements", "--manifest", str(MANIFEST), "--project-dir", str(DEMO_DIR)]),
]


def demo_environment() -> dict[str, str]:
    """The process environment, with the demo key when none is set, the database path and dbt's telemetry off."""
    env = {
        **os.environ,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DO_NOT_TRACK": "1",
        "PRIVACY_GUARD_DEMO_DB": str(DATABASE),  # read by examples/demo/profiles.yml
    }
    if not env.get(KEY_ENV_VAR):
        print(f"run_demo: {KEY_ENV_VAR} is not set; using the documented demo-only key (never use it for real data)")
        env[KEY_ENV_VAR] = DEMO_ONLY_KEY
    return env


def planted_findings() -> dict[tuple[str, str], str]:
    """(rule, node unique_id) -> what it teaches, from examples/demo/planted_findings.yml."""
    document = yaml.safe_load(PLANTED_FINDINGS.read_text(encoding="utf-8"))
    return {(entry["rule"], entry["node"]): " ".join(entry["teaches"].split()) for entry in document["findings"]}


def explain_findings(findings: list[dict[str, object]]) -> int:
    """Print each planted finding the check reported with what it teaches; 1 when the check's
    findings and the planted list differ (each difference on its own line), else 0."""
    planted = planted_findings()
    reported = {(str(finding["rule"]), str(finding["node"])) for finding in findings}
    for (rule, node), teaches in planted.items():
        if (rule, node) in reported:
            print(f"  planted on purpose: {rule} on {node}\n    teaches: {teaches}")
    drift = [f"planted but not reported: {rule} on {node}" for rule, node in planted if (rule, node) not in reported]
    drift += [f"reported but not planted: {rule} on {node}" for rule, node in sorted(reported - planted.keys())]
    for line in drift:
        print(f"run_demo: {line} (see {PLANTED_FINDINGS.relative_to(REPO_ROOT)})", file=sys.stderr)
    if not drift:
        print(f"run_demo: the check reported exactly the {len(planted)} planted findings")
    return 1 if drift else 0


def model_row_counts() -> dict[str, int]:
    """Rows of every model and seed the build wrote, read back from the DuckDB file."""
    nodes = orjson.loads(MANIFEST.read_bytes())["nodes"].values()
    built = sorted((node["name"], node["relation_name"]) for node in nodes if node["resource_type"] in ("model", "seed"))
    with duckdb.connect(str(DATABASE), read_only=True) as connection:
        return {name: connection.sql(f"select count(*) from {relation}").fetchone()[0] for name, relation in built}


def test_outcomes() -> dict[str, int]:
    """How many data tests ended in each status (pass, fail, error, ...)."""
    outcomes: dict[str, int] = {}
    for result in orjson.loads(RUN_RESULTS.read_bytes())["results"]:
        if result["unique_id"].startswith("test."):
            outcomes[result["status"]] = outcomes.get(result["status"], 0) + 1
    return outcomes


def print_summary(seconds: float) -> None:
    """Time, rows per model and seed, and test outcomes of the build just run."""
    print(f"\nrun_demo: done in {seconds:.1f} s; database {DATABASE.relative_to(REPO_ROOT)}, manifest {MANIFEST.relative_to(REPO_ROOT)}")
    counts = model_row_counts()
    width = max(map(len, counts))
    for name, rows in counts.items():
        print(f"  {name:<{width}}  {rows:>6} rows")
    print("  data tests: " + ", ".join(f"{count} {status}" for status, count in sorted(test_outcomes().items())))
    print(f"  governance docs: {DOCS_DIR / 'index.html'}")


def main() -> int:
    env = demo_environment()
    started = time.perf_counter()
    for step in STEPS:
        print(f"run_demo: {step.name}", flush=True)
        returncode = subprocess.run(step.command(), cwd=DEMO_DIR, env=env).returncode
        if returncode == 0 and step.then is not None:
            returncode = step.then()
        if returncode != 0:
            print(f"run_demo: step '{step.name}' failed (exit {returncode})", file=sys.stderr)
            return returncode
    print_summary(time.perf_counter() - started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
