"""The demo's planted risky model (sales CRM joined with clinic visits on e-mail for marketing)
comes out of `privacy-guard check --format json` with the categories the issue names.

Builds a copy of examples/demo (seeds generated into the copy, never into the repository).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from dbt_harness import REPO_ROOT, DbtResult
from shared_build import shared_build

pytestmark = pytest.mark.dbt

RISKY = "model.privacy_guard_demo.marketing_health_targeting"
PLUGIN = "plugins:\n  - module: python_checks.duckdb_plugin"
KEY = {"PRIVACY_GUARD_KEY": "demo-check-test-key-0123456789abcdef"}


def generate_seeds(project: Path) -> None:
    subprocess.run([sys.executable, str(REPO_ROOT / "scripts" / "generate_demo_data.py"), "--out", str(project / "seeds")], check=True, capture_output=True)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DbtResult:
    return shared_build(tmp_path_factory, REPO_ROOT / "examples" / "demo", PLUGIN, KEY, prepare=generate_seeds)


@pytest.fixture(scope="module")
def document(demo: DbtResult) -> dict:
    manifest = demo.project_dir / "target" / "manifest.json"
    result = subprocess.run(
        [sys.executable, "-m", "python_checks", "check", "--manifest", str(manifest), "--format", "json"],
        capture_output=True, text=True, timeout=300, cwd=demo.project_dir,
    )
    assert result.returncode == 1, result.stderr
    return json.loads(result.stdout)


def test_the_risky_model_has_every_expected_category(document: dict) -> None:
    categories = {f["category"] for f in document["findings"] if f["node"] == RISKY and f["severity"] == "error"}
    assert {"cross_department_join", "direct_identifier_join", "consent_violation", "quasi_identifier_linkage"} <= categories


def test_no_other_model_has_an_error(document: dict) -> None:
    others = {(f["rule"], f["node"]) for f in document["findings"] if f["node"] != RISKY and f["severity"] == "error"}
    assert others == set()


def test_its_edges_are_flagged_and_cross_department(document: dict) -> None:
    edges = [e for e in document["edges"] if e["target"] == RISKY]
    assert edges and all(e["cross_department"] and e["flagged"] for e in edges)
    assert sorted(document["nodes"][RISKY]["meeting_departments"]) == ["clinic", "sales"]
