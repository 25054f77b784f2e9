"""The demo (examples/demo), built once per test session for every test that reads it.

`shared_build` copies the demo into the session's tmp dir, generates its seeds there, installs the
package and runs `dbt build` once, under a file lock, so the pytest-xdist workers share one build.
Readers only read: a test that needs to write (sqlfluff's templater compiles into target/ and
opens the database read-write) works on its own copy (`copy_demo`).
"""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import orjson
import pytest
from dbt_harness import REPO_ROOT, DbtResult, shared_build, write_profile

DEMO_DIR = REPO_ROOT / "examples" / "demo"
DEMO_KEY = "pytest-demo-key-0123456789abcdef"
PLUGIN_PROFILE = "plugins:\n  - module: python_checks.duckdb_plugin"
DEMO_PROFILE = "privacy_guard_demo"


@dataclass
class DemoBuild:
    """A built copy of the demo: its folder, dbt's result and the DuckDB file."""

    project: Path
    result: DbtResult
    database: Path

    @cached_property
    def manifest(self) -> dict[str, Any]:
        return orjson.loads((self.project / "target" / "manifest.json").read_bytes())

    def node(self, name: str) -> dict[str, Any]:
        return next(n for n in self.manifest["nodes"].values() if n["resource_type"] in ("model", "seed") and n["name"] == name)

    def rows(self, name: str) -> list[dict[str, Any]]:
        import duckdb  # here, not at collection: conftest imports this module for every test

        with duckdb.connect(str(self.database), read_only=True) as connection:
            relation = connection.sql(f"select * from {self.node(name)['relation_name']}")
            return [dict(zip(relation.columns, values)) for values in relation.fetchall()]

    def seed_csv(self, name: str) -> list[dict[str, str]]:
        with (self.project / "seeds" / f"{name}.csv").open(newline="", encoding="utf-8") as handle:
            return list(csv.DictReader(handle))


def _generate_seeds(project: Path) -> None:
    subprocess.run([sys.executable, str(REPO_ROOT / "scripts" / "generate_demo_data.py"), "--out", str(project / "seeds")], check=True, capture_output=True)


def shared_demo(tmp_path_factory: pytest.TempPathFactory) -> DemoBuild:
    """The session's one build of the demo (`dbt build` must pass)."""
    result = shared_build(tmp_path_factory, DEMO_DIR, PLUGIN_PROFILE, {"PRIVACY_GUARD_KEY": DEMO_KEY}, prepare=_generate_seeds)
    return DemoBuild(result.project_dir, result, result.project_dir.parent / f"{DEMO_DIR.name}.duckdb")


def copy_demo(demo: DemoBuild, tmp_path: Path) -> Path:
    """A private copy of the built demo (project, target/ and database), for a test that writes."""
    project = tmp_path / demo.project.name
    shutil.copytree(demo.project, project, symlinks=True)  # dbt_packages/privacy_guard links to the repository
    database = tmp_path / demo.database.name
    shutil.copyfile(demo.database, database)
    write_profile(project, DEMO_PROFILE, database, PLUGIN_PROFILE)
    return project
