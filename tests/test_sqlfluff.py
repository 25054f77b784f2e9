"""sqlfluff, with the repository's .sqlfluff rules, finds nothing in the SQL this repository ships.

The dbt templater renders each model the way dbt does (refs, privacy_guard macro calls), so the
SQL that is linted is the SQL DuckDB runs. Two projects are linted, each in a tmp copy so nothing
is written into the work tree:
- the demo's models, in a private copy of the session's demo build (drop_direct_identifiers reads
  the built columns; the templater compiles into target/ and opens the database read-write);
- the package's own models/, in a throw-away project that installs the package and enables them
  (a consumer's project sees them disabled, and sqlfluff cannot lint a disabled node).
Macro files are not linted: a file of `{% macro %}` blocks renders to no SQL (see docs/demo.md, "Lint").
"""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from dbt_harness import REPO_ROOT, dbt, write_profile
from demo_build import DEMO_KEY, DemoBuild, copy_demo

pytestmark = pytest.mark.dbt  # sqlfluff's dbt templater runs dbt in-process

SQLFLUFF = str(Path(sys.executable).with_name("sqlfluff"))
PACKAGE_MODELS = REPO_ROOT / "models"
PACKAGE_LINT_PROJECT = """\
name: privacy_guard_lint
version: "0.1.0"
config-version: 2
profile: privacy_guard_lint
model-paths: ["models"]
vars:
  privacy_guard:
    audit: {enabled: true}
"""


def lint(project: Path, paths: list[Path]) -> dict[str, list[dict]]:
    """Lint `paths` with the repository's rules, dbt templater on `project`: file -> violations."""
    config = configparser.ConfigParser()
    config.read(REPO_ROOT / ".sqlfluff")
    config["sqlfluff:templater:dbt"]["project_dir"] = str(project)
    config["sqlfluff:templater:dbt"]["profiles_dir"] = str(project)
    config_path = project.parent / ".sqlfluff"
    with config_path.open("w") as handle:
        config.write(handle)
    proc = subprocess.run(
        [SQLFLUFF, "lint", "--config", str(config_path), "--format", "json", "--nofail", *map(str, paths)],
        cwd=project.parent,
        env={**os.environ, "PRIVACY_GUARD_KEY": DEMO_KEY, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = orjson.loads(proc.stdout)
    return {Path(entry["filepath"]).name: entry["violations"] for entry in report}


def describe(violations: dict[str, list[dict]]) -> str:
    return "\n".join(
        f"{name}:{v['start_line_no']}:{v['start_line_pos']} {v['code']} {v['description']}"
        for name, found in violations.items()
        for v in found
    )


@pytest.fixture(scope="module")
def demo_project(demo: DemoBuild, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_demo(demo, tmp_path_factory.mktemp("lint_demo"))


def test_demo_models_lint_clean(demo_project: Path) -> None:
    models = sorted((demo_project / "models").rglob("*.sql"))
    results = lint(demo_project, models)
    assert sorted(results) == sorted(path.name for path in models) and len(results) >= 10
    assert not any(results.values()), describe(results)


def test_package_models_lint_clean(tmp_path: Path) -> None:
    project = tmp_path / "privacy_guard_lint"
    shutil.copytree(PACKAGE_MODELS, project / "models")
    (project / "dbt_project.yml").write_text(PACKAGE_LINT_PROJECT)
    (project / "packages.yml").write_text(f"packages:\n  - local: {REPO_ROOT}\n")
    write_profile(project, "privacy_guard_lint", tmp_path / "lint.duckdb")
    dbt(project, "deps", check=True)
    models = sorted((project / "models").glob("*.sql"))
    results = lint(project, models)
    assert models and sorted(results) == sorted(path.name for path in models)
    assert not any(results.values()), describe(results)
