"""Installable like a real tool (issue 10): the wheel builds, installs into a clean venv and runs."""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

import pytest
from dbt_harness import REPO_ROOT

pytestmark = pytest.mark.install


def test_the_wheel_installs_into_a_clean_venv_and_the_cli_runs(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(wheels), str(REPO_ROOT)], check=True, capture_output=True, timeout=600)
    (wheel,) = wheels.glob("privacy_guard-*.whl")
    venv.create(tmp_path / "venv", with_pip=True)
    python = tmp_path / "venv" / "bin" / "python"
    install = subprocess.run([str(python), "-m", "pip", "install", "--quiet", str(wheel)], capture_output=True, text=True, timeout=900)
    assert install.returncode == 0, install.stderr[-2000:]
    assert "deprecat" not in install.stderr.lower()
    run = subprocess.run([str(python.with_name("privacy-guard")), "--help"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert {"check", "init", "docs", "validate"} <= {line.split()[0] for line in run.stdout.split("Commands:")[1].splitlines() if line.strip()}
