"""Benchmark of `privacy-guard docs` on generated 2,000- and 20,000-model projects.

`generate_governed` extends bench_check's generator (same per-node bulk, columns and compiled
SQL) with what a governance view needs: eight departments, staging per department, marts that
combine two neighbouring departments (most under an agreement: one expired, one expiring), privacy
tests with results in a run_results.json, waivers and exposures. tests/test_docs_browser.py builds
the 2,000-model site from it.

Measured per size, in this process: json.load of the manifest (the baseline), the check
(`load_site`), writing the site (`write_site`), index.html's size, and in headless Chromium the
first view interactive (goto until the department map is drawn and a click on the biggest meeting
point lists its models). Goals (issue 15): site written < 5 s / < 30 s, first view < 2 s / < 4 s,
index.html < 1 MB.

    .venv/bin/python bench/bench_docs_site.py [--sizes 2000 20000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import shutil
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_check import _bulk, _columns, _config, _relation, _sql  # noqa: E402

OUT = Path(__file__).resolve().parent / "out"
DEPARTMENTS = ["hr", "clinic", "sales", "support", "finance", "logistics", "research", "marketing"]
SOURCES_PER_DEPARTMENT = 4
#: Pairs (i, i+1) of the ring of departments that have no agreement: their marts are violations.
PAIRS_WITHOUT_AGREEMENT = (3, 6)
WAIVED_RULE = "cross_department_join"


def pair(index: int) -> tuple[str, str]:
    """The i-th ring pair of departments (sorted, as the site keys meeting points)."""
    a, b = DEPARTMENTS[index % len(DEPARTMENTS)], DEPARTMENTS[(index + 1) % len(DEPARTMENTS)]
    return (a, b) if a < b else (b, a)


def agreement_id(index: int) -> str:
    return "agr_" + "_".join(pair(index))


def agreements(today: dt.date) -> list[dict[str, Any]]:
    """vars.privacy_guard.agreements: pair 0 expired, pair 1 expiring in 30 days, the others in 2030."""
    rows = []
    for index in range(len(DEPARTMENTS)):
        if index in PAIRS_WITHOUT_AGREEMENT:
            continue
        expires = today - dt.timedelta(days=10) if index == 0 else today + dt.timedelta(days=30) if index == 1 else dt.date(2030, 1, 1)
        rows.append({"id": agreement_id(index), "departments": list(pair(index)), "purposes": ["reporting"], "expires": expires.isoformat()})
    return rows


def generate_governed(models: int, today: dt.date, seed: int = 11) -> dict[str, Any]:
    """{"manifest", "run_results", "project_yml"} of a project with `models` models (see the module docstring).

    Waivers sit only on marts of pairs without an agreement, so each silences a real cross_department_join."""
    rng = random.Random(seed)
    nodes: dict[str, Any] = {}
    sources: dict[str, Any] = {}
    exposures: dict[str, Any] = {}
    results: list[dict[str, Any]] = []
    pools: dict[tuple[str, ...], list[str]] = {}  # department set -> models holding exactly it
    for department in DEPARTMENTS:
        for index in range(SOURCES_PER_DEPARTMENT):
            unique_id = f"source.gov.raw.{department}_src_{index}"
            privacy = {"department": department, "consent": ["reporting", "research"], "retention": {"days": 365}}
            sources[unique_id] = {
                "unique_id": unique_id, "name": f"{department}_src_{index}", "resource_type": "source", "package_name": "gov",
                "source_name": "raw", "original_file_path": f"models/staging/{department}/sources.yml", "database": "gov", "schema": "main",
                "identifier": f"{department}_src_{index}", "relation_name": _relation(unique_id),
                "config": {"enabled": True, "meta": {"privacy": privacy}}, "meta": {}, "columns": _columns(rng, True), **_bulk(f"{department}_src_{index}"),
            }
    staging = max(len(DEPARTMENTS), models // 4)
    for index in range(models):
        department = index % len(DEPARTMENTS)
        privacy: dict[str, Any] | None = None
        if index < staging:
            name, parents = f"stg_{DEPARTMENTS[department]}__table_{index}", [f"source.gov.raw.{DEPARTMENTS[department]}_src_{index % SOURCES_PER_DEPARTMENT}"]
            holds: tuple[str, ...] = (DEPARTMENTS[department],)
            folder = f"staging/{DEPARTMENTS[department]}"
        elif rng.random() < 0.3:
            holds = pair(department)
            parents = [rng.choice(pools[(d,)][-200:]) for d in holds] + rng.sample(pools.get(holds, [])[-100:], k=min(1, len(pools.get(holds, []))))
            name, folder = f"mart_{'_'.join(holds)}_{index}", "marts"
            privacy = {"purpose": "reporting"}
            if department not in PAIRS_WITHOUT_AGREEMENT:
                privacy["agreement"] = agreement_id(department)
            elif rng.random() < 0.1:  # a pair without agreement: some of its marts are waived
                privacy["waivers"] = [{"rule": WAIVED_RULE, "reason": "board decision 2026-11", "approved_by": "privacy board", "expires": (today + dt.timedelta(days=90)).isoformat()}]
        else:
            holds = (DEPARTMENTS[department],)
            pool = pools[holds][-200:]
            parents = rng.sample(pool, k=min(len(pool), rng.choice([1, 1, 2, 3])))
            name, folder = f"int_{DEPARTMENTS[department]}__model_{index}", "intermediate"
        unique_id = f"model.gov.{name}"
        columns = _columns(rng, rng.random() < 0.3)
        nodes[unique_id] = {
            "unique_id": unique_id, "name": name, "resource_type": "model", "package_name": "gov",
            "original_file_path": f"models/{folder}/{name}.sql", "patch_path": f"gov://models/{folder}/schema.yml",
            "database": "gov", "schema": "main", "alias": name, "relation_name": _relation(unique_id),
            "config": _config("table", privacy), "meta": {}, "columns": columns,
            "depends_on": {"nodes": parents, "macros": []}, "checksum": {"name": "sha256", "checksum": f"{index:064x}"},
            "compiled_code": (sql := _sql(rng, parents, columns)), **_bulk(name, sql),
        }
        pools.setdefault(holds, []).append(unique_id)
        if index >= staging and rng.random() < 0.4:
            test = rng.choice(["k_anonymity", "min_cell_size"])
            test_id = f"test.gov.{test}_{name}"
            nodes[test_id] = {
                "unique_id": test_id, "name": f"{test}_{name}", "resource_type": "test", "attached_node": unique_id,
                "test_metadata": {"name": test, "namespace": "privacy_guard", "kwargs": {"k": 5}},
                "depends_on": {"nodes": [unique_id], "macros": []}, **_bulk(f"{test}_{name}"),
            }
            results.append({"unique_id": test_id, "status": "pass" if rng.random() < 0.8 else "fail", "failures": 0})
    marts = [uid for key, pool in pools.items() if len(key) > 1 for uid in pool]
    for index in range(min(10, len(marts))):
        unique_id = f"exposure.gov.board_report_{index}"
        read = [marts[index * 7 % len(marts)]] + ([pools[(DEPARTMENTS[0],)][0]] if index == 0 else [])  # one exposure reads staging
        exposures[unique_id] = {
            "unique_id": unique_id, "name": f"board_report_{index}", "resource_type": "exposure", "package_name": "gov", "type": "dashboard",
            "owner": {"name": "governance"}, "original_file_path": "models/exposures.yml", "depends_on": {"nodes": read, "macros": []},
            "config": {"enabled": True, "meta": {}}, "meta": {},
        }
    metadata = {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json", "dbt_version": "1.11.0", "adapter_type": "duckdb", "project_name": "gov"}
    run_metadata = {"dbt_schema_version": "https://schemas.getdbt.com/dbt/run-results/v6.json", "dbt_version": "1.11.0", "generated_at": f"{today.isoformat()}T06:00:00Z", "invocation_id": "bench"}
    return {
        "manifest": {"metadata": metadata, "nodes": nodes, "sources": sources, "exposures": exposures, "macros": {}, "docs": {}, "parent_map": {}, "child_map": {}},
        "run_results": {"metadata": run_metadata, "results": results, "args": {"which": "build"}},
        "project_yml": {"name": "gov", "version": "1.0", "vars": {"privacy_guard": {"agreements": agreements(today)}}},
    }


def write_project(folder: Path, models: int, today: dt.date) -> dict[str, Any]:
    """The generated project as files: dbt_project.yml, target/manifest.json, target/run_results.json."""
    import yaml

    project = generate_governed(models, today)
    (folder / "target").mkdir(parents=True, exist_ok=True)
    (folder / "dbt_project.yml").write_text(yaml.safe_dump(project["project_yml"]))
    (folder / "target" / "manifest.json").write_text(json.dumps(project["manifest"]))
    (folder / "target" / "run_results.json").write_text(json.dumps(project["run_results"]))
    return project


def first_view_seconds(index: Path) -> tuple[float, float]:
    """(load, drill-down) seconds in headless Chromium: goto until the map is drawn; click the biggest meeting point until its models are listed."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=["--headless", "--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        start = time.perf_counter()
        page.goto(index.as_uri())
        page.wait_for_selector("#department-map g.department-node")
        loaded = time.perf_counter() - start
        start = time.perf_counter()
        page.click("tr.point-row >> nth=0")
        page.wait_for_selector("#point-models tbody tr")
        drilled = time.perf_counter() - start
        browser.close()
    return loaded, drilled


def main() -> None:
    from python_checks.docs_site import load_site, write_site

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 20000])
    args = parser.parse_args()
    print(f"{'models':>7} | {'json.load s':>11} {'check s':>8} {'write s':>8} {'write/json':>10} | {'index KB':>8} {'data files':>10} | {'first view s':>12} {'drill-down s':>12}")
    for size in args.sizes:
        folder = OUT / f"docs_{size}"
        shutil.rmtree(folder, ignore_errors=True)
        write_project(folder, size, dt.date.today())
        manifest = folder / "target" / "manifest.json"
        start = time.perf_counter()
        with manifest.open() as handle:
            json.load(handle)
        baseline = time.perf_counter() - start
        start = time.perf_counter()
        site = load_site(manifest, run_results=folder / "target" / "run_results.json", project_dir=folder)
        check = time.perf_counter() - start
        start = time.perf_counter()
        index = write_site(site, folder / "site")
        written = time.perf_counter() - start
        loaded, drilled = first_view_seconds(index)
        data_files = len(list((index.parent / "data").glob("*.js"))) if (index.parent / "data").is_dir() else 0
        print(
            f"{size:>7} | {baseline:>11.2f} {check:>8.2f} {written:>8.2f} {written / baseline:>10.2f} | "
            f"{index.stat().st_size / 1024:>8.0f} {data_files:>10} | {loaded:>12.2f} {drilled:>12.2f}"
        )


if __name__ == "__main__":
    main()
