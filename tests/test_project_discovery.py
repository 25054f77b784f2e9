"""The CLI finds its dbt project like dbt does (issue 10): dbt_project.yml upward, then its target/."""

from __future__ import annotations

import json
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


SCHEMA_YML = """\
version: 2
seeds:
  - name: lookup
  - name: crm  # line 4
    columns:
      - name: email
sources:
  - name: app
    tables:
      - name: other
      - name: app_users  # line 11
"""


def located_project(tmp_path: Path) -> Path:
    builder = ManifestBuilder()
    builder.node("crm", "seed", columns={"email": None})
    source = builder.node("app_users", "source", columns={"ip_address": None})
    builder.sources["source.demo.app.app_users"] = builder.sources.pop(source) | {"unique_id": "source.demo.app.app_users", "patch_path": None, "original_file_path": "models/schema.yml"}
    builder.node("no_yaml")  # a model no YAML declares: its SQL file
    builder.nodes["model.demo.no_yaml"]["patch_path"] = None
    manifest = builder.write(tmp_path)
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "schema.yml").write_text(SCHEMA_YML)
    return manifest


def test_findings_point_at_the_yaml_line_that_declares_the_node(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from python_checks.check import run_check
    from python_checks.declarations import declaration

    manifest = located_project(tmp_path)
    report = run_check(manifest)
    nodes = report.analysis.manifest.nodes
    located = {uid: str(declaration(nodes[uid], report.project_dir)) for uid in ("seed.demo.crm", "source.demo.app.app_users", "model.demo.no_yaml")}
    assert located == {"seed.demo.crm": "models/schema.yml:4", "source.demo.app.app_users": "models/schema.yml:11", "model.demo.no_yaml": "models/no_yaml.sql:1"}
    assert main(["check", "--manifest", str(manifest), "--fail-on", "never"]) == 0
    text = capsys.readouterr().out
    assert text.count("at:  models/schema.yml:4") == 1 and text.count("at:  models/schema.yml:11") == 1
    assert main(["check", "--manifest", str(manifest), "--format", "sarif"]) == 0
    results = json.loads(capsys.readouterr().out)["runs"][0]["results"]
    located_in_sarif = {r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]: r.get("relatedLocations", r["locations"])[0]["physicalLocation"] for r in results if r["ruleId"] == "unclassified_personal_data"}
    assert {uid: (p["artifactLocation"]["uri"], p["region"]["startLine"]) for uid, p in located_in_sarif.items()} == {
        "seed.demo.crm": ("models/schema.yml", 4),
        "source.demo.app.app_users": ("models/schema.yml", 11),  # a source's own file is its YAML: the primary location
    }
    crm = next(r for r in results if r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == "seed.demo.crm")
    assert crm["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "models/crm.sql"
