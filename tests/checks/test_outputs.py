"""Outputs never destroy what privacy-guard did not write (python_checks/outputs.py).

`docs --out` replaces only an empty folder or one carrying the docs marker; `--output` writes
regular files atomically, writes a symlink's target (the link stays), refuses directories and
FIFOs, and gives new files the umask's permissions; two `docs` runs into one folder never mix.
Only temporary paths are used: FIFOs are made with os.mkfifo, no device file is ever touched.
"""

from __future__ import annotations

import fcntl
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from manifest_builder import ManifestBuilder

from python_checks.cli import main
from python_checks.outputs import MARKER


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    builder = ManifestBuilder()
    raw = builder.node("raw", "seed", {"department": "hr", "consent": ["x"], "retention": {"days": 30}}, {"email": {"class": "direct_identifier"}})
    builder.node("staged", parents=(raw,), sql='select email from "db"."main"."raw"')
    return builder.write(tmp_path)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _one_error_line(err: str, *expected: str) -> bool:
    return err.count("\n") == 1 and err.startswith("privacy-guard: error: ") and all(text in err for text in expected)


def _files(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): p.read_text() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_docs_refuses_a_folder_it_did_not_write(manifest: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A user's folder that happens to hold a file of the docs' own name is still the user's.
    user = tmp_path / "reports"
    user.mkdir()
    (user / "privacy_report.json").write_text('{"mine": true}')
    (user / "notes.md").write_text("keep me")
    code, _, err = run(capsys, "docs", "--manifest", str(manifest), "--out", str(user))
    assert code == 2 and _one_error_line(err, str(user), MARKER, "refusing to replace it"), err
    assert _files(user) == {"notes.md": "keep me", "privacy_report.json": '{"mine": true}'}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dbt_project.yml", "reports", "target"]


def test_docs_writes_an_empty_folder_and_replaces_its_own_output_whole(manifest: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = tmp_path / "site"
    site.mkdir()
    assert run(capsys, "docs", "--manifest", str(manifest), "--out", str(site))[0] == 0
    assert (site / MARKER).is_file() and (site / "index.html").is_file()
    (site / "stale.html").write_text("from an older run")
    assert run(capsys, "docs", "--manifest", str(manifest), "--out", str(site), "--format", "markdown")[0] == 0
    assert sorted(_files(site)) == [MARKER, "history.json", "privacy_lineage.md", "privacy_report.json", "provenance.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dbt_project.yml", "site", "target"]  # no staging, no .previous


def test_docs_site_gets_umask_permissions(manifest: Path, tmp_path: Path) -> None:
    code = "import os, sys; os.umask(0o027); from python_checks.cli import main; sys.exit(main(sys.argv[1:]))"
    proc = subprocess.run([sys.executable, "-c", code, "docs", "--manifest", str(manifest), "--out", str(tmp_path / "site")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert stat.S_IMODE((tmp_path / "site").stat().st_mode) == 0o750
    assert stat.S_IMODE((tmp_path / "site" / "index.html").stat().st_mode) == 0o640


def test_docs_run_while_another_holds_the_folder_fails_cleanly(manifest: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "docs", "--manifest", str(manifest), "--out", str(tmp_path / "site"))[0] == 0
    before = _files(tmp_path / "site")
    handle = os.open(tmp_path, os.O_RDONLY)  # what a concurrent docs run holds while it swaps folders
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        code, _, err = run(capsys, "docs", "--manifest", str(manifest), "--out", str(tmp_path / "site"))
    finally:
        os.close(handle)
    assert code == 2 and _one_error_line(err, "another privacy-guard docs run is writing"), err
    assert _files(tmp_path / "site") == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dbt_project.yml", "site", "target"]


def test_concurrent_docs_runs_into_one_folder_never_mix(manifest: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    runs = [
        subprocess.Popen([sys.executable, "-m", "python_checks", "docs", "--manifest", str(manifest), "--out", str(out), "--format", fmt], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for fmt in ["html", "markdown"] * 3
    ]
    outcomes = [(proc.wait(timeout=120), proc.stderr.read()) for proc in runs]
    for proc in runs:
        proc.stdout.close()
        proc.stderr.close()
    assert any(code == 0 for code, _ in outcomes)
    for code, err in outcomes:
        assert code == 0 or (code == 2 and _one_error_line(err, "another privacy-guard docs run is writing")), err
    files = sorted(_files(out))
    # One run's site, whole: the HTML site or the markdown file, never a mixture.
    assert files in (
        [MARKER, "assets/site.css", "assets/site.js", "history.json", "index.html", "privacy_report.json", "provenance.json"],
        [MARKER, "history.json", "privacy_lineage.md", "privacy_report.json", "provenance.json"],
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dbt_project.yml", "site", "target"]


def test_output_onto_a_symlink_writes_its_target_and_keeps_the_link(manifest: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "latest.json").write_text("old")
    link = tmp_path / "report.json"
    link.symlink_to(reports / "latest.json")
    dangling = tmp_path / "dangling.json"
    dangling.symlink_to(reports / "new.json")
    for output, target in [(link, reports / "latest.json"), (dangling, reports / "new.json")]:
        code, _, _ = run(capsys, "check", "--manifest", str(manifest), "--format", "json", "--output", str(output), "--fail-on", "never")
        assert code == 0
        assert output.is_symlink() and output.resolve() == target
        assert json.loads(target.read_text())["summary"]["nodes"] == 2
    assert sorted(p.name for p in reports.iterdir()) == ["latest.json", "new.json"]


@pytest.mark.parametrize("kind", ["directory", "fifo"])
def test_output_refuses_directories_and_fifos(kind: str, manifest: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "out"
    if kind == "directory":
        output.mkdir()
        (output / "keep.txt").write_text("keep")
    else:
        os.mkfifo(output)  # opening it for writing would block until a reader came: it must not be opened
    expected = "is a directory" if kind == "directory" else "is not a regular file"
    for command in (["check", "--format", "sarif"], ["inventory"]):
        code, out, err = run(capsys, command[0], "--manifest", str(manifest), *command[1:], "--output", str(output))
        assert code == 2 and out == "" and _one_error_line(err, f"--output {output}", expected), err
    assert output.is_dir() if kind == "directory" else stat.S_ISFIFO(output.lstat().st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dbt_project.yml", "out", "target"]


def test_report_files_get_umask_permissions_and_keep_an_existing_mode(manifest: Path, tmp_path: Path) -> None:
    code = "import os, sys; os.umask(int(sys.argv[1], 8)); from python_checks.cli import main; sys.exit(main(sys.argv[2:]))"
    existing = tmp_path / "existing.sarif"
    existing.write_text("old")
    existing.chmod(0o640)
    for umask, output, mode in [("022", tmp_path / "new.json", 0o644), ("077", tmp_path / "private.json", 0o600), ("022", existing, 0o640)]:
        argv = ["check", "--manifest", str(manifest), "--format", "json", "--output", str(output), "--fail-on", "never"]
        proc = subprocess.run([sys.executable, "-c", code, umask, *argv], capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        assert stat.S_IMODE(output.stat().st_mode) == mode, output
        assert json.loads(output.read_text())["summary"]["nodes"] == 2
