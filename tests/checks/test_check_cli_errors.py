"""Bad input: exit 2, one line on stderr naming the file (and key), no traceback, nothing written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from manifest_builder import ManifestBuilder

V12 = "https://schemas.getdbt.com/dbt/manifest/v12.json"


def privacy_guard(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The real console entry point, as a user runs it."""
    return subprocess.run([sys.executable, "-m", "python_checks", *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def good_manifest(directory: Path) -> Path:
    builder = ManifestBuilder()
    builder.node("raw", "seed", {"department": "a"})
    return builder.write(directory)


def write(directory: Path, text: str) -> Path:
    path = directory / "manifest.json"
    path.write_text(text)
    return path


CASES = {
    "truncated": (lambda d: write(d, json.dumps(ManifestBuilder().document())[:-20]), "not valid JSON"),
    "empty": (lambda d: write(d, ""), "file is empty"),
    "directory": (lambda d: d, "is a directory"),
    "missing": (lambda d: d / "nope.json", "no such file"),
    "not_an_object": (lambda d: write(d, "[1, 2]"), "expected a JSON object"),
    "no_metadata": (lambda d: write(d, '{"nodes": {}}'), "key metadata is missing"),
    "unknown_version": (lambda d: write(d, json.dumps({"metadata": {"dbt_schema_version": V12.replace("v12", "v99")}, "nodes": {}, "sources": {}})), "v99 is not supported"),
    "not_a_manifest": (lambda d: write(d, json.dumps({"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/catalog/v1.json"}})), "is not a dbt manifest schema"),
    "nodes_wrong_type": (lambda d: write(d, json.dumps({"metadata": {"dbt_schema_version": V12}, "nodes": [], "sources": {}})), "key nodes is a list"),
    "missing_sources": (lambda d: write(d, json.dumps({"metadata": {"dbt_schema_version": V12}, "nodes": {}})), "key sources is missing"),
    "node_wrong_type": (lambda d: write(d, json.dumps({"metadata": {"dbt_schema_version": V12}, "nodes": {"model.a.b": "x"}, "sources": {}})), "model.a.b is a str"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_manifest_exits_2_with_one_line(case: str, tmp_path: Path) -> None:
    make, expected = CASES[case]
    manifest = make(tmp_path)
    output = tmp_path / "report.json"
    result = privacy_guard("check", "--manifest", str(manifest), "--format", "json", "--output", str(output), cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert expected in result.stderr and str(manifest.name) in result.stderr
    assert result.stdout == "" and not output.exists()


@pytest.mark.parametrize(
    ("project_yml", "expected"),
    [
        ("vars:\n  privacy_guard:\n    default_k: many\n", "vars.privacy_guard.default_k: 'many' is not of type 'integer'"),
        ("vars:\n  privacy_guard:\n    rules:\n      no_such_rule: {enabled: false}\n", "vars.privacy_guard.rules.no_such_rule: unknown rule"),
        ("vars:\n  privacy_guard:\n    agreements: [{id: a}]\n", "vars.privacy_guard.agreements.0: 'departments' is a required property"),
        ("vars: [unclosed\n", "not valid YAML"),
    ],
)
def test_bad_settings_exit_2_naming_file_and_key(project_yml: str, expected: str, tmp_path: Path) -> None:
    manifest = good_manifest(tmp_path)
    (tmp_path / "dbt_project.yml").write_text(project_yml)
    result = privacy_guard("check", "--manifest", str(manifest), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "dbt_project.yml" in result.stderr and expected in result.stderr


def test_an_existing_output_survives_a_failed_run(tmp_path: Path) -> None:
    output = tmp_path / "report.json"
    output.write_text("previous report")
    result = privacy_guard("check", "--manifest", str(tmp_path / "missing.json"), "--output", str(output), cwd=tmp_path)
    assert result.returncode == 2 and output.read_text() == "previous report"


def test_missing_database_and_usage_errors_exit_2(tmp_path: Path) -> None:
    manifest = good_manifest(tmp_path)
    for args in (["check", "--manifest", str(manifest), "--database", "nope.duckdb"], ["check", "--fail-on", "panic"], ["frobnicate"]):
        result = privacy_guard(*args, cwd=tmp_path)
        assert result.returncode == 2 and result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, (args, result.stderr)


def test_no_project_file_means_defaults_not_an_error(tmp_path: Path) -> None:
    manifest = good_manifest(tmp_path)
    (tmp_path / "dbt_project.yml").unlink()
    result = privacy_guard("check", "--manifest", str(manifest), "--format", "json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["summary"]["findings"] == 0
