"""Malformed artifacts through every command: exit 2 and one line naming the file and key path.

The corpus is generated from the real artifacts of one `dbt build` of tests/fixtures/audit_project
(shared with the docs and provenance tests): the manifest, run_results.json, a catalog.json in
dbt's layout for its nodes, and the project's dbt_project.yml. Each case replaces one value by
one of the wrong type (lists for objects, numbers for strings, strings for lists, ...), names an
unknown resource type or a parent that is not in the manifest, or is a file the CLI must not read
whole (a FIFO, /dev/zero, a file over the size limit, a YAML alias bomb). Every case runs through
every command that reads that artifact (`check`, `inventory`, `validate`, `docs`), in one batch
subprocess (tests/cli_batch.py, with a time limit per command line) plus a few plain subprocesses
of the console entry point, and must end with exit code 2 and exactly one line on stderr naming
the file and the key path -- no traceback, no "internal error", nothing written.

Values that are legal but hostile (braces, quotes and markup in names, a privacy block of the
wrong type, a 3,500-model lineage chain) must instead be checked: the node is in the report.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
from dbt_harness import REPO_ROOT, shared_build

from python_checks.loader import MAX_ARTIFACT_BYTES
from python_checks.settings import MAX_PROJECT_FILE_BYTES

pytestmark = pytest.mark.dbt

MODEL = "model.audit_project.visit_counts"
SEED = "seed.audit_project.hr_employees"
CATALOG_V1 = "https://schemas.getdbt.com/dbt/catalog/v1.json"
#: Wrong-type replacements by the type a key should have.
#: The empty ones ([], {}, "") are falsy: a reader that writes `value or default` would take them for "missing".
WRONG = {
    "object": [["a"], 7, "text", []],
    "string": [["a"], 7, {"a": 1}, {}],
    "list": ["text", 7, {"a": 1}, ""],
    "number": [["a"], "text", {"a": 1}, {}],
}
#: Commands that read each artifact, with the option that passes it (None: the manifest itself).
COMMANDS = {
    "manifest": ["check", "inventory", "validate", "docs"],
    "catalog": ["check", "inventory", "docs"],
    "run_results": ["check", "docs"],
    "state": ["check"],
    "project": ["check", "inventory", "validate", "docs"],
}
FILE_NAMES = {"manifest": "manifest.json", "catalog": "catalog.json", "run_results": "run_results.json", "state": "base_manifest.json", "project": "dbt_project.yml"}


@dataclass
class Case:
    """One malformed artifact: which one, its content (bytes, or a special file), what stderr must name."""

    name: str
    artifact: str
    content: bytes | str  # bytes, or "fifo" / "/dev/zero" / "oversize"
    names: str  # the key path (or reason) the one error line must contain


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    project = shared_build(tmp_path_factory, "audit_project", expect_success=False).project_dir  # a planted not_null test fails
    manifest = json.loads((project / "target" / "manifest.json").read_text())
    catalog = {
        "metadata": {"dbt_schema_version": CATALOG_V1, "dbt_version": manifest["metadata"]["dbt_version"]},
        "nodes": {
            uid: {
                "unique_id": uid,
                "metadata": {"type": "BASE TABLE", "schema": node["schema"], "name": node["alias"], "database": node["database"]},
                "columns": {name: {"name": name, "type": "VARCHAR", "index": i} for i, name in enumerate(node["columns"], 1)},
                "stats": {},
            }
            for uid, node in manifest["nodes"].items()
            if node["resource_type"] in {"model", "seed"}
        },
        "sources": {},
    }
    return {
        "manifest": manifest,
        "catalog": catalog,
        "run_results": json.loads((project / "target" / "run_results.json").read_text()),
        "project": (project / "dbt_project.yml").read_text(),
    }


def _mutated(document: dict[str, Any], path: tuple[str, ...], value: Any) -> bytes:
    copy = orjson.loads(orjson.dumps(document))
    container = copy
    for key in path[:-1]:
        container = container[int(key)] if isinstance(container, list) else container[key]
    if isinstance(container, list):
        container[int(path[-1])] = value
    else:
        container[path[-1]] = value
    return orjson.dumps(copy)


def _wrong_types(artifact: str, document: dict[str, Any], keys: dict[tuple[str, ...], str]) -> list[Case]:
    return [
        Case(f"{artifact}:{'.'.join(path)}={json.dumps(value)}", artifact, _mutated(document, path, value), f"key {'.'.join(path)} is ")
        for path, kind in keys.items()
        for value in WRONG[kind]
    ]


def corpus(real: dict[str, Any]) -> list[Case]:
    manifest, catalog, run_results = real["manifest"], real["catalog"], real["run_results"]
    test_id = next(uid for uid, node in manifest["nodes"].items() if node["resource_type"] == "test" and node["attached_node"] == MODEL)
    column = next(iter(manifest["nodes"][MODEL]["columns"]))
    node_keys = {
        (): "object", ("name",): "string", ("resource_type",): "string", ("depends_on",): "object", ("depends_on", "nodes"): "list",
        ("depends_on", "macros"): "list", ("config",): "object", ("config", "meta"): "object", ("config", "materialized"): "string",
        ("columns",): "object", ("columns", column): "object", ("columns", column, "name"): "string", ("columns", column, "config"): "object",
        ("checksum",): "object", ("checksum", "checksum"): "string", ("package_name",): "string", ("original_file_path",): "string",
        ("patch_path",): "string", ("relation_name",): "string", ("compiled_code",): "string", ("raw_code",): "string",
        ("database",): "string", ("schema",): "string", ("alias",): "string", ("meta",): "object",
    }  # fmt: skip
    test_keys = {
        ("test_metadata",): "object", ("test_metadata", "name"): "string", ("test_metadata", "kwargs"): "object",
        ("test_metadata", "namespace"): "string", ("attached_node",): "string", ("column_name",): "string", ("depends_on", "nodes"): "list",
    }  # fmt: skip
    manifest_keys = {
        ("metadata",): "object", ("metadata", "dbt_schema_version"): "string", ("metadata", "dbt_version"): "string",
        ("metadata", "adapter_type"): "string", ("metadata", "project_name"): "string",
        ("nodes",): "object", ("sources",): "object", ("exposures",): "object",
        **{("nodes", MODEL, *key): kind for key, kind in node_keys.items()},
        **{("nodes", SEED, *key): kind for key, kind in node_keys.items() if key in {("name",), ("config",), ("columns",), ("alias",)}},
        **{("nodes", test_id, *key): kind for key, kind in test_keys.items()},
    }  # fmt: skip
    cases = _wrong_types("manifest", manifest, manifest_keys)
    # A schema version URL of the wrong type is named with its own message.
    for case in cases:
        if case.name.startswith("manifest:metadata.dbt_schema_version="):
            case.names = "metadata.dbt_schema_version"
    cases += [
        Case("manifest:unknown resource_type", "manifest", _mutated(manifest, ("nodes", MODEL, "resource_type"), "semantic_widget"), f"key nodes.{MODEL}.resource_type is 'semantic_widget'"),
        Case("manifest:no resource_type", "manifest", _mutated(manifest, ("nodes", MODEL, "resource_type"), None), f"key nodes.{MODEL}.resource_type is None"),
        Case("manifest:dangling parent", "manifest", _mutated(manifest, ("nodes", MODEL, "depends_on", "nodes"), ["model.audit_project.gone"]), f"key nodes.{MODEL}.depends_on.nodes names model.audit_project.gone"),
        Case("manifest:empty name", "manifest", _mutated(manifest, ("nodes", MODEL, "name"), ""), f"key nodes.{MODEL}.name is a string, expected a non-empty string"),
        Case("manifest:parent id not a string", "manifest", _mutated(manifest, ("nodes", MODEL, "depends_on", "nodes"), [7]), f"key nodes.{MODEL}.depends_on.nodes is a list, expected a list of strings"),
        Case("manifest:not JSON", "manifest", b'{"metadata": {', "not valid JSON"),
        Case("manifest:too deep", "manifest", b"[" * 5000 + b"]" * 5000, "not valid JSON"),
    ]  # fmt: skip
    catalog_keys = {
        ("metadata",): "object", ("nodes",): "object", ("sources",): "object", ("nodes", MODEL): "object",
        ("nodes", MODEL, "columns"): "object", ("nodes", MODEL, "columns", column): "object", ("nodes", MODEL, "columns", column, "name"): "string",
    }  # fmt: skip
    cases += _wrong_types("catalog", catalog, catalog_keys)
    run_results_keys = {
        ("metadata",): "object", ("args",): "object", ("results",): "list", ("results", "0"): "object",
        ("results", "0", "unique_id"): "string", ("results", "0", "status"): "string", ("results", "0", "failures"): "number",
    }  # fmt: skip
    run_results_cases = _wrong_types("run_results", run_results, run_results_keys)
    for case in run_results_cases:
        if case.name.startswith("run_results:results="):
            case.names = "key results is missing or not a list"
    cases += run_results_cases
    cases += [
        Case(f"state:{c.name.split(':', 1)[1]}", "state", c.content, c.names)
        for c in cases
        if c.artifact == "manifest" and c.name.split(":", 1)[1].startswith((f"nodes.{MODEL}.depends_on", "nodes=", "metadata="))
    ]
    cases += project_cases(real["project"])
    for artifact in COMMANDS:
        cases += [
            Case(f"{artifact}:fifo", artifact, "fifo", "is not a regular file"),
            Case(f"{artifact}:oversize", artifact, "oversize", "over the limit of"),
        ]
        if artifact != "project":
            cases.append(Case(f"{artifact}:/dev/zero", artifact, "/dev/zero", "is not a regular file"))
    return cases


def project_cases(project: str) -> list[Case]:
    """dbt_project.yml: wrong types under vars.privacy_guard, alias bombs, endless nesting."""
    bomb = "vars:\n  privacy_guard:\n    a0: &a0 [x, x, x, x, x, x, x, x, x]\n"
    bomb += "".join(f"    a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]\n" for i in range(1, 10))
    texts = {
        "vars list": ("vars: [a, b]\n", "key vars is a list"),
        "top-level list": ("- a\n- b\n", "expected a mapping at the top level"),
        "block list": ("vars:\n  privacy_guard: [1]\n", "vars.privacy_guard"),
        "default_k text": ("vars:\n  privacy_guard:\n    default_k: many\n", "vars.privacy_guard.default_k"),
        "agreements object": ("vars:\n  privacy_guard:\n    agreements: {id: a}\n", "vars.privacy_guard.agreements"),
        "rules list": ("vars:\n  privacy_guard:\n    rules: [missing_policy]\n", "vars.privacy_guard.rules"),
        "audit text": ("vars:\n  privacy_guard:\n    audit: yes please\n", "vars.privacy_guard.audit"),
        "alias bomb": (bomb, "vars.privacy_guard expands to more than 100000 values"),
        "recursive alias": ("vars:\n  privacy_guard: &loop\n    rules: *loop\n", "vars.privacy_guard expands to more than 64 levels"),
        "deep nesting": ("vars: " + "[" * 3000 + "]" * 3000 + "\n", "dbt_project.yml"),
        "not YAML": (project + "\n  : : [\n", "not valid YAML"),
        "var reads the key": (project.replace("vars:\n", "vars:\n  leak: \"{{ env_var('PRIVACY_GUARD_KEY') }}\"\n"), "vars.leak calls env_var('PRIVACY_GUARD_KEY'), the pseudonymization key variable"),
        "hook reads a renamed key": (
            "vars:\n  privacy_guard:\n    key_env_var: HR_KEY\non-run-start:\n  - \"select '{{ env_var( \\\"HR_KEY\\\" ) }}'\"\n",
            "on-run-start.0 calls env_var('HR_KEY')",
        ),
    }
    return [Case(f"project:{name}", "project", text.encode(), names) for name, (text, names) in texts.items()]


def _materialize(case: Case, real: dict[str, Any], directory: Path) -> dict[str, Path]:
    """Write the case's inputs under directory; the good artifacts beside the broken one."""
    (directory / "target").mkdir(parents=True)
    paths = {
        "manifest": directory / "target" / "manifest.json",
        "catalog": directory / "target" / "catalog.json",
        "run_results": directory / "target" / "run_results.json",
        "state": directory / "base_manifest.json",
        "project": directory / "dbt_project.yml",
    }
    paths["manifest"].write_bytes(orjson.dumps(real["manifest"]))
    paths["catalog"].write_bytes(orjson.dumps(real["catalog"]))
    paths["run_results"].write_bytes(orjson.dumps(real["run_results"]))
    paths["state"].write_bytes(orjson.dumps(real["manifest"]))
    paths["project"].write_text(real["project"])
    target = paths[case.artifact]
    if case.content == "/dev/zero":
        paths[case.artifact] = Path("/dev/zero")  # only read, never written
    elif case.content == "fifo":
        target.unlink()
        os.mkfifo(target)
    elif case.content == "oversize":
        limit = MAX_PROJECT_FILE_BYTES if case.artifact == "project" else MAX_ARTIFACT_BYTES
        with target.open("r+b") as stream:  # sparse: no disk used
            stream.truncate(limit + 1)
    else:
        assert isinstance(case.content, bytes)
        target.write_bytes(case.content)
    return paths


def command_line(command: str, artifact: str, paths: dict[str, Path], directory: Path) -> list[str]:
    argv = [command, "--manifest", str(paths["manifest"]), "--project-dir", str(directory)]
    if artifact == "catalog":
        argv += ["--catalog", str(paths["catalog"])]
    elif artifact == "run_results":
        argv += ["--run-results", str(paths["run_results"])]
    elif artifact == "state":
        argv += ["--state", str(paths["state"])]
    if command == "docs":
        argv += ["--out", str(directory / "site")]
    elif command in ("check", "inventory"):
        argv += ["--format", "json", "--output", str(directory / "report.json")]
    return argv


def run_batch(argvs: list[list[str]], cwd: Path) -> list[dict[str, Any]]:
    """The command lines through tests/cli_batch.py: one real subprocess for all of them."""
    proc = subprocess.run(
        [sys.executable, str(REPO_ROOT / "tests" / "cli_batch.py")],
        input=json.dumps(argvs),
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


def _listing(directory: Path) -> set[str]:
    return {str(p.relative_to(directory)) for p in directory.rglob("*")}


def test_corpus_is_large_and_covers_every_artifact(real: dict[str, Any]) -> None:
    cases = corpus(real)
    assert len(cases) >= 150
    assert len({c.name for c in cases}) == len(cases)
    assert {c.artifact for c in cases} == set(COMMANDS)


def test_every_malformed_artifact_exits_2_with_one_line_naming_file_and_key(real: dict[str, Any], tmp_path: Path) -> None:
    planned = []
    for number, case in enumerate(corpus(real)):
        directory = tmp_path / f"case{number}"
        paths = _materialize(case, real, directory)
        before = _listing(directory)
        for command in COMMANDS[case.artifact]:
            planned.append((case, command, paths, directory, before))
    results = run_batch([command_line(command, case.artifact, paths, directory) for case, command, paths, directory, _ in planned], tmp_path)
    problems = []
    for (case, command, paths, directory, before), result in zip(planned, results, strict=True):
        stderr = result["stderr"]
        shown_file = paths[case.artifact].name if case.content != "/dev/zero" else "/dev/zero"
        ok = (
            result["code"] == 2
            and result["stdout"] == ""
            and stderr.count("\n") == 1
            and stderr.startswith("privacy-guard: error: ")
            and shown_file in stderr
            and case.names in stderr
            and _listing(directory) == before
        )
        if not ok:
            problems.append(f"{case.name} via {command}: code {result['code']}: {stderr[:300]!r} {sorted(_listing(directory) - before)}")
    assert problems == [], f"{len(problems)} of {len(results)} runs:\n" + "\n".join(problems[:40])


def test_console_entry_point_prints_no_traceback(real: dict[str, Any], tmp_path: Path) -> None:
    """A few cases through `python -m python_checks` itself: stderr as a user sees it."""
    chosen = [c for c in corpus(real) if c.name in {f"manifest:nodes.{MODEL}.depends_on={json.dumps(['a'])}", "manifest:fifo", "project:alias bomb", "run_results:results.0=7"}]
    assert len(chosen) == 4
    for number, case in enumerate(chosen):
        directory = tmp_path / f"case{number}"
        paths = _materialize(case, real, directory)
        argv = command_line(COMMANDS[case.artifact][0], case.artifact, paths, directory)
        proc = subprocess.run([sys.executable, "-m", "python_checks", *argv], capture_output=True, text=True, timeout=120, cwd=directory)
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.count("\n") == 1 and case.names in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr


def _chain(manifest: dict[str, Any], length: int) -> dict[str, Any]:
    """The manifest plus `length` models chained one after another below the hr seed."""
    copy = orjson.loads(orjson.dumps(manifest))
    template = copy["nodes"][MODEL]
    parent = SEED
    for position in range(length):
        unique_id = f"model.audit_project.chain_{position}"
        copy["nodes"][unique_id] = {
            **template,
            "unique_id": unique_id,
            "name": f"chain_{position}",
            "alias": f"chain_{position}",
            "relation_name": f'"audit_project"."main"."chain_{position}"',
            "config": {**template["config"], "meta": {}},
            "columns": {},
            "depends_on": {"nodes": [parent], "macros": []},
            "compiled_code": f"select * from {copy['nodes'][parent]['relation_name']}",
        }
        parent = unique_id
    return copy


def _deeply_nested(manifest: dict[str, Any], depth: int) -> dict[str, Any]:
    """The manifest with MODEL's SQL and Jinja nested `depth` parentheses deep (past Python's recursion limit)."""
    copy = orjson.loads(orjson.dumps(manifest))
    node = copy["nodes"][MODEL]
    nested = "(" * depth + "1" + ")" * depth
    node["compiled_code"] = f"select {nested} as x from {copy['nodes'][SEED]['relation_name']}"
    node["raw_code"] = f"select {{{{ privacy_guard.mask_string({nested}) }}}} as x from {{{{ ref('hr_employees') }}}}"
    node["depends_on"]["macros"] = ["macro.privacy_guard.mask_string"]
    return copy


HOSTILE_NAME = "x{{ \"}}'<b>` | ]] --> \x1b[31m"


def test_hostile_but_legal_values_are_checked_not_dropped(real: dict[str, Any], tmp_path: Path) -> None:
    manifest = real["manifest"]
    documents = {
        "braces and quotes in a name": _mutated(manifest, ("nodes", MODEL, "name"), HOSTILE_NAME),
        "privacy block of the wrong type": _mutated(manifest, ("nodes", MODEL, "config", "meta", "privacy"), ["department", "hr"]),
        "3,500-model chain": orjson.dumps(_chain(manifest, 3500)),
        "SQL and Jinja nested 3,000 deep": orjson.dumps(_deeply_nested(manifest, 3000)),
    }
    planned = []
    for number, (name, content) in enumerate(documents.items()):
        directory = tmp_path / f"legal{number}"
        (directory / "target").mkdir(parents=True)
        (directory / "target" / "manifest.json").write_bytes(content)
        (directory / "dbt_project.yml").write_text(real["project"])
        base = ["--manifest", str(directory / "target" / "manifest.json")]
        planned += [
            (name, directory, "check", ["check", *base, "--format", "json", "--output", str(directory / "report.json"), "--fail-on", "never"]),
            (name, directory, "inventory", ["inventory", *base, "--format", "json"]),
            (name, directory, "validate", ["validate", *base, "--format", "json"]),
            (name, directory, "docs", ["docs", *base, "--out", str(directory / "site")]),
        ]
    results = {(name, command): result for (name, _, command, _), result in zip(planned, run_batch([p[3] for p in planned], tmp_path), strict=True)}
    for (name, command), result in results.items():
        expected = 1 if (name, command) == ("privacy block of the wrong type", "validate") else 0
        assert result["code"] == expected, (name, command, result["stderr"])
        assert "internal error" not in result["stderr"]
    reports = {name: json.loads((directory / "report.json").read_text()) for name, directory, command, _ in planned if command == "check"}
    assert reports["braces and quotes in a name"]["nodes"][MODEL]["name"] == HOSTILE_NAME
    invalid = [f for f in reports["privacy block of the wrong type"]["findings"] if f["rule"] == "invalid_policy"]
    assert [f["node"] for f in invalid] == [MODEL]
    chain = reports["3,500-model chain"]["nodes"]
    assert sum(uid.startswith("model.audit_project.chain_") for uid in chain) == 3500
    last = chain["model.audit_project.chain_3499"]
    assert last["personal"] and last["departments"] == ["hr"] and len(last["parents"]) == 1
    # Too deep to parse: said in a note on the node, which stays in the report and on the site.
    nested = reports["SQL and Jinja nested 3,000 deep"]
    assert MODEL in nested["nodes"] and any(note["node"] == MODEL for note in nested["notes"])
    site = next(directory for name, directory, command, _ in planned if name == "SQL and Jinja nested 3,000 deep" and command == "docs") / "site"
    assert any("nested too deeply" in note for note in json.loads((site / "provenance.json").read_text())[MODEL]["notes"])
