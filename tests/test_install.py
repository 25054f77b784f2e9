"""Installable like a real tool (issue 10): the wheel builds, installs into a clean venv and runs.

The base install is the CLI that reads dbt artifacts: it must not pull dbt or DuckDB (a CI job that
only checks manifest.json installs neither). The venv is built offline from a wheelhouse: the
dependencies of the wheel WITHOUT extras, downloaded by pip (its cache makes re-runs cheap) at the
versions requirements.lock pins, then `pip install --no-index --find-links`.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import venv
import zipfile
from dataclasses import dataclass
from email.parser import Parser
from pathlib import Path

import pytest
from dbt_harness import FIXTURES, REPO_ROOT

pytestmark = pytest.mark.install

#: A manifest fixture with planted findings, checked with the CLI-only install.
MANIFEST = FIXTURES / "manifests" / "v1_dbt0.19.json"
MANIFEST_FINDINGS = {
    ("consent_violation", "model.legacy.visits_by_zip"),
    ("cross_department_join", "model.legacy.visits_by_zip"),
    ("direct_identifier_join", "model.legacy.visits_by_zip"),
    ("unprotected_identifier", "model.legacy.visits_by_zip"),
}
#: A dbt 1.3 manifest, for docs and init.
LATER_MANIFEST = FIXTURES / "manifests" / "v7_dbt1.3.json"
#: The one line of a command run without the [duckdb] extra (numpy is in that extra too).
NEEDS_DUCKDB = r"privacy-guard: error: privacy-guard {command} needs the \[duckdb\] extra \((duckdb|numpy) is not installed\): pip install 'privacy-guard\[duckdb\]'"


@dataclass
class Installed:
    """The built wheel, the wheelhouse it was installed from and the clean venv's bin folder."""

    wheel: Path
    wheelhouse: Path
    bin: Path
    build_log: str
    install_log: str

    def run(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(self.bin / args[0]), *args[1:]], capture_output=True, text=True, timeout=300, cwd=cwd)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    root = tmp_path_factory.mktemp("install")
    wheels, wheelhouse = root / "wheels", root / "wheelhouse"
    # -v: the build backend's output is shown, so a setuptools deprecation banner would be seen here.
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-v", "--no-deps", "-w", str(wheels), str(REPO_ROOT)], capture_output=True, text=True, timeout=600
    )
    assert build.returncode == 0, build.stderr[-2000:]
    (wheel,) = wheels.glob("privacy_guard-*.whl")
    venv.create(root / "venv", with_pip=True)
    python = root / "venv" / "bin" / "python"
    download = subprocess.run(
        [str(python), "-m", "pip", "download", "--quiet", "--only-binary", ":all:", "-c", str(REPO_ROOT / "requirements.lock"), "-d", str(wheelhouse), str(wheel)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert download.returncode == 0, download.stderr[-2000:]
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--no-index", "--find-links", str(wheelhouse), str(wheel)], capture_output=True, text=True, timeout=900
    )
    assert install.returncode == 0, install.stderr[-2000:]
    return Installed(wheel, wheelhouse, python.parent, build.stdout + build.stderr, install.stdout + install.stderr)


def test_the_wheel_builds_and_installs_without_a_deprecation_banner(installed: Installed) -> None:
    for log in (installed.build_log, installed.install_log):
        assert "SetuptoolsDeprecationWarning" not in log and "deprecat" not in log.lower()
    run = installed.run("privacy-guard", "--help")
    assert run.returncode == 0, run.stderr[-2000:]
    assert {"check", "init", "docs", "validate", "risk"} <= {line.split()[0] for line in run.stdout.split("Commands:")[1].splitlines() if line.strip()}


def test_the_base_install_pulls_neither_dbt_nor_duckdb(installed: Installed) -> None:
    downloaded = {path.name.split("-")[0].lower() for path in installed.wheelhouse.glob("*.whl")}
    assert {"sqlglot", "click", "orjson", "jsonschema", "privacy_guard"} <= downloaded
    assert not {name for name in downloaded if name.startswith(("dbt", "duckdb", "numpy"))}, downloaded
    for module in ("duckdb", "dbt", "dbt.adapters.duckdb", "numpy"):
        probe = installed.run("python", "-c", f"import {module}")
        assert probe.returncode == 1 and f"ModuleNotFoundError: No module named '{module.split('.')[0]}'" in probe.stderr, (module, probe.stderr)


def test_the_extras_ask_for_duckdb_and_dbt(installed: Installed) -> None:
    with zipfile.ZipFile(installed.wheel) as archive:
        (metadata,) = [name for name in archive.namelist() if name.endswith(".dist-info/METADATA")]
        message = Parser().parsestr(archive.read(metadata).decode())
    requirements = message.get_all("Requires-Dist") or []

    def names(marker: str | None) -> set[str]:
        chosen = [r for r in requirements if (marker in r if marker else "extra ==" not in r)]
        return {r.split(";")[0].split("<")[0].split(">")[0].split("=")[0].strip() for r in chosen}

    assert set(message.get_all("Provides-Extra") or []) >= {"duckdb", "dbt"}
    assert names('extra == "duckdb"') == {"duckdb", "numpy"}
    assert names('extra == "dbt"') == {"dbt-core", "dbt-duckdb"}
    assert not {name for name in names(None) if name.startswith(("dbt", "duckdb", "numpy"))}


def test_the_cli_only_install_runs_every_artifact_command(installed: Installed, tmp_path: Path) -> None:
    artifacts = ["--manifest", str(MANIFEST), "--project-dir", str(MANIFEST.parent)]
    run = installed.run("privacy-guard", "check", *artifacts, "--format", "json", "--no-cache", cwd=tmp_path)
    assert run.returncode == 1, run.stderr[-2000:]
    assert {(f["rule"], f["node"]) for f in json.loads(run.stdout)["findings"]} == MANIFEST_FINDINGS
    text = installed.run("privacy-guard", "check", *artifacts, "--no-cache", cwd=tmp_path)
    assert text.returncode == 1 and "4 findings (4 error" in text.stdout, text.stdout[-2000:]
    later = ["--manifest", str(LATER_MANIFEST), "--project-dir", str(LATER_MANIFEST.parent)]
    docs = installed.run("privacy-guard", "docs", *later, "--out", str(tmp_path / "site"), cwd=tmp_path)
    assert docs.returncode == 0 and (tmp_path / "site" / "index.html").is_file(), docs.stderr[-2000:]
    init = installed.run("privacy-guard", "init", *later, cwd=tmp_path)
    assert init.returncode == 0 and "# review" in init.stdout, init.stderr[-2000:]
    agreements = installed.run("privacy-guard", "agreements", *later, "--format", "json", cwd=tmp_path)
    assert agreements.returncode == 0 and isinstance(json.loads(agreements.stdout), dict), agreements.stderr[-2000:]
    validate = installed.run("privacy-guard", "validate", *artifacts, cwd=tmp_path)
    assert (validate.returncode, validate.stdout) == (0, "3 nodes: privacy meta valid\n"), validate.stderr[-2000:]
    inventory = installed.run("privacy-guard", "inventory", *artifacts, cwd=tmp_path)
    assert inventory.returncode == 0 and inventory.stdout.startswith("department clinic: 2 personal nodes\n"), inventory.stderr[-2000:]


@pytest.mark.parametrize(
    ("command", "args"),
    [
        ("check", ["--manifest", str(MANIFEST), "--project-dir", str(MANIFEST.parent), "--no-cache", "--database", "warehouse.duckdb", "--output", "report.txt"]),
        ("init", ["--manifest", str(MANIFEST), "--project-dir", str(MANIFEST.parent), "--database", "warehouse.duckdb", "--out", "proposal.yml"]),
        ("risk", ["--database", "warehouse.duckdb", "--relation", "visits", "--qi", "zip"]),
        ("anonymize", ["--database", "warehouse.duckdb", "--relation", "visits", "--qi", "zip", "--k", "5"]),
        ("simulate-join", ["--database", "warehouse.duckdb", "--left", "a", "--right", "b"]),
    ],
)
def test_a_command_that_needs_duckdb_names_the_extra_in_one_line(installed: Installed, tmp_path: Path, command: str, args: list[str]) -> None:
    run = installed.run("privacy-guard", command, *args, cwd=tmp_path)
    assert run.returncode == 2
    (line,) = run.stderr.splitlines()
    assert re.fullmatch(NEEDS_DUCKDB.format(command=command), line), line
    assert run.stdout == "" and list(tmp_path.iterdir()) == []  # nothing half-written


def test_the_wheel_builds_with_dbt_packages_linking_back_to_the_repository(installed: Installed, tmp_path: Path) -> None:
    # `dbt deps` of this package (make demo, the benchmarks) links dbt_packages/privacy_guard to the
    # repository; package discovery that follows links walked that loop without end.
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=REPO_ROOT, capture_output=True, text=True, check=True).stdout.split("\0")
    source = tmp_path / "source"
    for name in filter(None, tracked):
        if (REPO_ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            (source / name).write_bytes((REPO_ROOT / name).read_bytes())
    for project in ("examples/demo", "tests/fixtures/check_project"):
        (source / project / "dbt_packages").mkdir(parents=True)
        (source / project / "dbt_packages" / "privacy_guard").symlink_to(source, target_is_directory=True)
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(tmp_path / "wheels"), str(source)], capture_output=True, text=True, timeout=120
    )
    assert build.returncode == 0, build.stderr[-2000:]
    (wheel,) = (tmp_path / "wheels").glob("privacy_guard-*.whl")
    with zipfile.ZipFile(wheel) as linked, zipfile.ZipFile(installed.wheel) as plain:
        assert sorted(linked.namelist()) == sorted(plain.namelist())
