"""The CLI finds its dbt project like dbt does (issue 10): dbt_project.yml upward, then its target/."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "checks"))
from manifest_builder import ManifestBuilder  # noqa: E402

from python_checks.cli import main  # noqa: E402


def project(tmp_path: Path) -> Path:
    builder = ManifestBuilder()
    builder.node("crm", "seed", columns={"email": None})
    builder.write(tmp_path / "shop", {"personal_column_patterns": ["email"]})
    (tmp_path / "shop" / "models" / "staging").mkdir(parents=True)
    return tmp_path / "shop"


def test_from_a_subfolder_the_project_and_its_target_are_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    root = project(tmp_path)
    monkeypatch.chdir(root / "models" / "staging")
    assert main(["init"]) == 0
    assert '- name: "email"' in capsys.readouterr().out
    assert main(["validate"]) == 0
    assert capsys.readouterr().out == "1 nodes: privacy meta valid\n"


def test_the_projects_vars_are_read_from_a_subfolder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    root = project(tmp_path)
    (root / "dbt_project.yml").write_text("name: demo\nversion: '1.0'\nconfig-version: 2\nvars: {privacy_guard: {personal_column_patterns: [phone]}}\n")
    monkeypatch.chdir(root / "models")
    assert main(["init"]) == 0
    assert "nothing to propose" in capsys.readouterr().out  # email is not personal by this project's patterns


def test_a_missing_manifest_names_the_command_to_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    root = project(tmp_path)
    (root / "target" / "manifest.json").unlink()
    monkeypatch.chdir(root / "models")
    assert main(["check"]) == 2
    assert capsys.readouterr().err == (
        f"privacy-guard: error: {root.resolve()}/target/manifest.json: no such file; run `dbt compile` (or `dbt build`) in {root.resolve()} first\n"
    )


def test_outside_any_project_the_error_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["inventory"]) == 2
    err = capsys.readouterr().err
    assert err == f"privacy-guard: error: no dbt_project.yml in {tmp_path.resolve()} or any folder above it: run inside a dbt project, or pass --manifest\n"


def test_docs_writes_to_the_projects_target_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    root = project(tmp_path)
    monkeypatch.chdir(root / "models")
    assert main(["docs"]) == 0
    assert (root / "target" / "privacy_docs" / "index.html").is_file()
    assert not (root / "models" / "privacy_docs").exists()


def test_the_text_report_header_is_a_command_that_runs_as_printed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    root = project(tmp_path / "a folder with spaces")
    monkeypatch.chdir(root / "models")
    assert main(["check", "--fail-on", "never"]) == 0
    first = capsys.readouterr().out
    header = first.splitlines()[0]
    assert header.startswith("privacy-guard check --manifest '")
    argv = shlex.split(header, comments=True)
    assert argv[:2] == ["privacy-guard", "check"]
    monkeypatch.chdir(tmp_path)  # elsewhere: the printed command names everything it needs
    assert main(argv[1:] + ["--fail-on", "never"]) == 0
    assert capsys.readouterr().out == first
