"""Run real dbt commands against throw-away copies of fixture projects.

Every dbt-backed test goes through here so that all of them install the package the way a
consumer does (`packages.yml` with `local:` pointing at this repository) and write only below
pytest's tmp dir. Modules that only read a build share it through `shared_build`.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURES = REPO_ROOT / "tests" / "fixtures"
ADULT_DIR = REPO_ROOT.parent / "shared" / "datasets" / "adult"
DBT = str(Path(sys.executable).with_name("dbt"))


@dataclass
class DbtResult:
    """What one dbt invocation left behind."""

    returncode: int
    stdout: str
    stderr: str
    project_dir: Path

    @property
    def run_results(self) -> dict[str, Any]:
        return json.loads((self.project_dir / "target" / "run_results.json").read_text())

    def statuses(self) -> dict[str, str]:
        """unique_id -> status ('pass', 'fail', 'error', 'success', ...) from run_results.json."""
        return {r["unique_id"]: r["status"] for r in self.run_results["results"]}

    def failures(self) -> dict[str, int | None]:
        """unique_id -> failures count, for every result."""
        return {r["unique_id"]: r.get("failures") for r in self.run_results["results"]}


def write_profile(project_dir: Path, profile: str, database: Path, extra: str = "", output: str = "") -> None:
    """A profile next to the project: DuckDB at `database` unless `output` (YAML of another
    adapter's output block) is given; `extra` is YAML appended to the output block."""
    output = output or f"type: duckdb\npath: '{database}'\nthreads: 2"
    body = f"{profile}:\n  target: dev\n  outputs:\n    dev:\n" + "".join(f"      {line}\n" for line in output.splitlines())
    if extra:
        body += "".join(f"      {line}\n" for line in extra.strip("\n").splitlines())
    (project_dir / "profiles.yml").write_text(body)


def copy_project(name_or_path: str | Path, tmp_path: Path, profile_extra: str = "", output: str = "") -> Path:
    """Copy a fixture project (by name under tests/fixtures, or a path) into tmp_path.

    The copy installs this repository as the `privacy_guard` package (`local:`) and gets a
    profiles.yml pointing at a DuckDB file in tmp_path (or at `output`, see write_profile). The
    profile name is read from the fixture's dbt_project.yml.
    """
    source = Path(name_or_path)
    if not source.is_absolute():
        source = FIXTURES / source
    target = tmp_path / source.name
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("target", "dbt_packages", "logs", "*.duckdb"))
    (target / "packages.yml").write_text(f"packages:\n  - local: {REPO_ROOT}\n")
    profile = "privacy_guard_fixture"
    for line in (target / "dbt_project.yml").read_text().splitlines():
        if line.startswith("profile:"):
            profile = line.split(":", 1)[1].strip().strip("'\"")
    write_profile(target, profile, tmp_path / f"{source.name}.duckdb", profile_extra, output)
    return target


#: Set by conftest.py before each test's set-up: only tests marked `dbt` may run dbt, so
#: `make test-fast` (-m "not dbt") is honest about never paying for a dbt run.
DBT_ALLOWED = True


def _invocation(project_dir: Path, args: tuple[str, ...], env: dict[str, str] | None) -> dict[str, Any]:
    """Arguments of subprocess.run/Popen for `dbt ARGS` in project_dir."""
    if not DBT_ALLOWED:
        pytest.fail(f"dbt {' '.join(args)}: this test runs dbt but is not marked `dbt` (add pytest.mark.dbt)", pytrace=False)
    return {
        "args": [DBT, *args, "--project-dir", str(project_dir), "--profiles-dir", str(project_dir)],
        "cwd": project_dir,
        "env": {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1", **(env or {})},
        "text": True,
    }


def dbt(project_dir: Path, *args: str, env: dict[str, str] | None = None, check: bool | None = None) -> DbtResult:
    """Run `dbt ARGS` in project_dir (real subprocess). check=True asserts rc 0, False asserts rc != 0."""
    proc = subprocess.run(**_invocation(project_dir, args, env), capture_output=True, timeout=900)
    result = DbtResult(proc.returncode, proc.stdout, proc.stderr, project_dir)
    if check is True:
        assert proc.returncode == 0, f"dbt {' '.join(args)} failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-2000:]}"
    elif check is False:
        assert proc.returncode != 0, f"dbt {' '.join(args)} unexpectedly succeeded:\n{proc.stdout[-4000:]}"
    return result


def dbt_started(project_dir: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """Start `dbt ARGS` in project_dir without waiting: stdout is a pipe read line by line (stderr merged)."""
    return subprocess.Popen(**_invocation(project_dir, args, env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, bufsize=1)


def dbt_project(name_or_path: str | Path, tmp_path: Path, profile_extra: str = "", output: str = "") -> Path:
    """copy_project + `dbt deps`: a project ready for build."""
    project = copy_project(name_or_path, tmp_path, profile_extra, output)
    dbt(project, "deps", check=True)
    return project


def _session_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory all pytest-xdist workers of this session share (and no other session does)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def shared_build(
    tmp_path_factory: pytest.TempPathFactory,
    fixture: str | Path,
    profile_extra: str = "",
    env: dict[str, str] | None = None,
    prepare: Callable[[Path], None] | None = None,
    expect_success: bool = True,
) -> DbtResult:
    """`dbt build` of tests/fixtures/<fixture> (or a project path), once per test session.

    For modules that only read the build: a module-scoped fixture runs once per xdist worker, and
    several modules may read the same fixture, so the first caller builds under a file lock and
    the others reuse its project directory. `prepare(project_dir)` runs on the copy before the
    build. expect_success=False is for fixtures with planted failing tests: the build may exit
    non-zero but must leave run_results.json.
    """
    name = Path(fixture).name
    root = _session_dir(tmp_path_factory)
    record = root / f"{name}.build.json"
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if record.exists():
            saved = json.loads(record.read_text())
            return DbtResult(saved["returncode"], saved["stdout"], saved["stderr"], Path(saved["project_dir"]))
        workdir = root / f"{name}.shared"
        workdir.mkdir()
        project = dbt_project(fixture, workdir, profile_extra)
        if prepare is not None:
            prepare(project)
        result = dbt(project, "build", env=env, check=True if expect_success else None)
        assert (project / "target" / "run_results.json").is_file(), result.stdout[-3000:]
        record.write_text(json.dumps({"returncode": result.returncode, "stdout": result.stdout, "stderr": result.stderr, "project_dir": str(project)}))
        return result
