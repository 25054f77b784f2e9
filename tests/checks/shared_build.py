"""One dbt build per fixture per test session, even when pytest-xdist runs a module's tests on two workers.

A module-scoped fixture runs once per worker; the builds these modules need take ~20 s, so the
first worker builds under a file lock and the others reuse its project directory.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from dbt_harness import DbtResult, dbt, dbt_project


def session_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory all workers of this session share (and no other session does)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def shared_build(
    tmp_path_factory: pytest.TempPathFactory,
    fixture: str | Path,
    profile_extra: str = "",
    env: dict[str, str] | None = None,
    prepare: Callable[[Path], None] | None = None,
) -> DbtResult:
    """`dbt build` of tests/fixtures/<fixture> (or an absolute project path), once per session.

    `prepare(project_dir)` runs on the copy before the build (e.g. to generate seed files).
    """
    name = Path(fixture).name
    root = session_dir(tmp_path_factory)
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
        result = dbt(project, "build", env=env, check=True)
        record.write_text(json.dumps({"returncode": result.returncode, "stdout": result.stdout, "stderr": result.stderr, "project_dir": str(project)}))
        return result
