"""Start fast: what `privacy-guard --help` and `check` import, as a set of modules (not a timing).

Each command runs in a fresh interpreter, which then prints the heavy modules it loaded. sqlglot
is loaded only when SQL is analysed and not found in the cache, duckdb only with --database, dbt only with --target,
rich only for text output, numpy and the measuring commands only when they run, yaml only when a YAML
file is read (not outside a dbt project without --target); jsonschema
only when a privacy block is not plainly valid (contract.conforms answers the others).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
from manifest_builder import ManifestBuilder

from python_checks.cli import LazyGroup, cli

HEAVY = frozenset({"sqlglot", "jsonschema", "rich", "duckdb", "networkx", "numpy", "jinja2", "dbt"})
QI = {"class": "quasi_identifier"}
EMAIL = {"class": "direct_identifier"}
JOIN_SQL = 'select h.zip, c.age from "db"."main"."hr" h join "db"."main"."clinic" c on h.email = c.email'


def heavy_imports(*argv: str, watched: frozenset[str] = HEAVY) -> tuple[int, set[str]]:
    """Exit code of `privacy-guard ARGV` in a fresh interpreter, and the `watched` modules it imported."""
    program = (
        "import json, sys\n"
        "from python_checks.cli import main\n"
        f"code = main({list(argv)!r})\n"
        f"print(json.dumps([code, sorted(m for m in {sorted(watched)!r} if m in sys.modules)]))\n"
    )
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True)
    code, modules = json.loads(result.stdout.strip().splitlines()[-1])
    return code, set(modules)


@pytest.fixture()
def manifest(tmp_path: Path) -> Path:
    """Two departments joined on an identifier, with privacy meta: the check has a finding to make."""
    builder = ManifestBuilder()
    hr = builder.node("hr", "seed", {"department": "hr"}, {"email": EMAIL, "zip": QI})
    clinic = builder.node("clinic", "seed", {"department": "clinic"}, {"email": EMAIL, "age": QI})
    builder.node("combined", parents=(hr, clinic), sql=JOIN_SQL)
    return builder.write(tmp_path)


def check_args(manifest: Path, *extra: str) -> list[str]:
    output = manifest.parent / "report.json"
    return ["check", "--manifest", str(manifest), "--format", "json", "--output", str(output), "--fail-on", "never", *extra]


def findings(manifest: Path) -> set[tuple[str, str]]:
    document = json.loads((manifest.parent / "report.json").read_text())
    return {(finding["rule"], finding["node"]) for finding in document["findings"]}


def test_help_imports_nothing_heavy() -> None:
    assert heavy_imports("--help") == (0, set())


def test_check_without_sql_imports_nothing_heavy(manifest: Path) -> None:
    code, modules = heavy_imports(*check_args(manifest, "--no-sql"))
    assert (code, modules) == (0, set())
    assert ("cross_department_join", "model.demo.combined") in findings(manifest)


def test_check_outside_a_dbt_project_imports_no_yaml(manifest: Path) -> None:
    """A manifest checked without its project (CI, a downloaded artifact) has no YAML to read, and
    without --target nothing builds dbt's argparse arguments."""
    (manifest.parent.parent / "dbt_project.yml").unlink()
    assert heavy_imports(*check_args(manifest, "--no-sql"), watched=frozenset({"yaml", "argparse"})) == (0, set())
    assert ("cross_department_join", "model.demo.combined") in findings(manifest)


def test_invalid_meta_is_judged_by_jsonschema(tmp_path: Path) -> None:
    builder = ManifestBuilder()
    builder.node("hr", "seed", {"department": "hr", "retention": {"days": -1}}, {"email": EMAIL})
    manifest = builder.write(tmp_path)
    code, modules = heavy_imports(*check_args(manifest, "--no-sql"))
    assert (code, modules) == (0, {"jsonschema"})
    assert ("invalid_policy", "seed.demo.hr") in findings(manifest)


def test_sql_is_parsed_only_on_a_cache_miss(manifest: Path) -> None:
    cold = heavy_imports(*check_args(manifest))
    cold_findings = findings(manifest)
    warm = heavy_imports(*check_args(manifest))
    assert (cold, warm) == ((0, {"sqlglot"}), (0, set()))
    assert findings(manifest) == cold_findings
    assert ("direct_identifier_join", "model.demo.combined") in cold_findings


def test_text_output_loads_rich(manifest: Path) -> None:
    assert heavy_imports("check", "--manifest", str(manifest), "--no-sql", "--fail-on", "never") == (0, {"rich"})


@pytest.mark.parametrize("name", sorted(LazyGroup.LAZY))
def test_lazy_command_summary_is_the_commands_own(name: str) -> None:
    command = cli.get_command(click.Context(cli), name)
    assert command is not None and command.help is not None
    assert LazyGroup.LAZY[name][2] == command.help.split("\n\n")[0]
