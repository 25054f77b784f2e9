"""python_checks/schema/check_report.schema.json describes what `privacy-guard check --format json`
really prints: real output validates against it (every object closed, so a key added to the
document without the schema fails here), and the schema refuses what the document never holds."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from dbt_harness import FIXTURES, DbtResult, shared_build
from demo_build import DemoBuild
from test_check_project import KEY, PLANTED, PLANTED_RUN, PLUGIN

from python_checks import report_docs
from python_checks.check import run_check

SCHEMA = report_docs.schema()
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
PRIVACY_GUARD = str(Path(sys.executable).with_name("privacy-guard"))


def problems(document: Any) -> list[str]:
    return [f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in VALIDATOR.iter_errors(document)]


def check_json(*args: str) -> dict[str, Any]:
    proc = subprocess.run([PRIVACY_GUARD, "check", "--format", "json", "--as-of", "2026-01-15", *args], capture_output=True, text=True, timeout=300)
    assert proc.returncode in (0, 1), proc.stderr
    document: dict[str, Any] = json.loads(proc.stdout)
    return document


def test_the_schema_is_valid_draft_2020_12() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("manifest", sorted((FIXTURES / "manifests").glob("*.json")), ids=lambda path: path.stem)
def test_reports_on_older_dbt_manifests_validate(manifest: Path) -> None:
    document = json.loads(json.dumps(run_check(manifest).to_document()))
    assert document["findings"] and problems(document) == []


def test_the_schema_refuses_what_the_document_never_holds() -> None:
    document = json.loads(json.dumps(run_check(FIXTURES / "manifests" / "v7_dbt1.3.json").to_document()))
    finding = document["findings"][0]
    assert problems({**document, "extra": 1}) == [": Additional properties are not allowed ('extra' was unexpected)"]
    assert problems({**document, "findings": [{**finding, "severity": "fatal"}]}) != []
    assert problems({**document, "notes": [{"message": "no node key"}]}) != []
    without_edges = {key: value for key, value in document.items() if key != "edges"}
    assert problems(without_edges) == [": 'edges' is a required property"]


@pytest.mark.dbt
def test_a_full_check_of_the_check_project_validates(tmp_path_factory: pytest.TempPathFactory) -> None:
    built = shared_build(tmp_path_factory, "check_project", PLUGIN, KEY)
    target = built.project_dir / "target"
    inputs = ("--manifest", str(target / "manifest.json"), "--run-results", str(target / "run_results.json"), "--database", str(built.project_dir.parent / "check_project.duckdb"))
    document = check_json(*inputs)
    assert problems(document) == []
    assert {rule["status"] for rule in document["rules"]} == {"ran"}
    assert {(finding["rule"], finding["node"]) for finding in document["findings"]} == PLANTED | PLANTED_RUN
    compared = check_json(*inputs, "--state", str(target / "manifest.json"))
    assert problems(compared) == []
    assert compared["findings"] == [] and compared["state"]["unchanged_findings"] == len(document["findings"])


@pytest.mark.dbt
def test_waived_findings_validate(tmp_path_factory: pytest.TempPathFactory) -> None:
    built: DbtResult = shared_build(tmp_path_factory, "verdicts_policy")
    document = check_json("--manifest", str(built.project_dir / "target" / "manifest.json"), "--project-dir", str(built.project_dir))
    assert len(document["waived_findings"]) == 1 and problems(document) == []


@pytest.mark.dbt
def test_the_demo_check_validates(demo: DemoBuild) -> None:
    """The demo as run_demo.py checks it (run results and database), from the session's one build."""
    target = demo.project / "target"
    document = check_json(
        "--manifest", str(target / "manifest.json"), "--run-results", str(target / "run_results.json"), "--database", str(demo.database),
        "--no-cache",  # the build is shared: write nothing into its target/
    )
    assert document["findings"] and problems(document) == []
