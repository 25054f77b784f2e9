"""Read dbt artifacts (manifest.json v1-v12, catalog.json, run_results.json) into small dataclasses.

Plain `orjson` plus hand-picked fields instead of a full pydantic model of the manifest: the
check needs ~15 fields per node, and a validating model of the whole manifest costs ~5x the time
and memory of the JSON parse itself. Every way an artifact can be unusable (missing, a directory,
empty, truncated, an unknown schema version, a key of the wrong type) becomes an `ArtifactError`
naming the file, which the CLI prints as one line with exit code 2.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from python_checks.contract import META_NAMESPACE

#: manifest.json schema versions this loader understands (dbt 0.19 = v1 ... dbt 1.11 = v12).
SUPPORTED_MANIFEST_VERSIONS = range(1, 13)
#: Resource types that take part in the lineage graph; tests are kept aside (they attach to nodes).
LINEAGE_TYPES = frozenset({"source", "seed", "model", "snapshot", "exposure"})
_SCHEMA_VERSION = re.compile(r"/(manifest|catalog|run-results)/v(\d+)\.json$")


class ArtifactError(Exception):
    """An artifact or config file that cannot be used; the message names the file (and key)."""


@dataclass(slots=True)
class Column:
    """A documented column and its raw `privacy` block (possibly malformed: the rules report that)."""

    name: str
    privacy: Any = None


@dataclass(slots=True)
class Node:
    """One source, seed, model, snapshot or exposure, with what the rules read of it."""

    unique_id: str
    name: str
    resource_type: str
    package: str
    original_file_path: str
    patch_path: str | None
    relation_name: str | None
    #: The `privacy` block as written (may be malformed: the rules report that, not the loader).
    privacy: Any
    columns: dict[str, Column]
    parents: tuple[str, ...]
    macros: tuple[str, ...]
    compiled_code: str | None
    checksum: str
    materialized: str | None
    database: str | None = None
    schema: str | None = None
    identifier: str | None = None
    #: Column names the warehouse reports (catalog.json); None when no catalog was read.
    observed_columns: frozenset[str] | None = None


@dataclass(slots=True)
class DataTest:
    """A test node: which generic test (`namespace.name`) is attached to which node."""

    unique_id: str
    name: str
    namespace: str | None
    attached_node: str | None


@dataclass(slots=True)
class Manifest:
    """The parts of manifest.json the checks use."""

    path: Path
    schema_version: int
    dbt_version: str
    adapter_type: str | None
    project_name: str | None
    nodes: dict[str, Node]
    tests: list[DataTest] = field(default_factory=list)


def read_json(path: Path, what: str) -> dict[str, Any]:
    """Parse one JSON artifact; every unusable file becomes an ArtifactError naming it."""
    if not path.exists():
        raise ArtifactError(f"{what} {path}: no such file")
    if path.is_dir():
        raise ArtifactError(f"{what} {path}: is a directory, expected a JSON file")
    data = path.read_bytes()
    if not data.strip():
        raise ArtifactError(f"{what} {path}: file is empty")
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise ArtifactError(f"{what} {path}: not valid JSON (truncated or corrupt): {error}") from None
    if not isinstance(document, dict):
        raise ArtifactError(f"{what} {path}: expected a JSON object at the top level")
    return document


def _schema_version(document: dict[str, Any], path: Path, what: str, kind: str) -> int:
    metadata = _mapping(document, "metadata", path, what)
    url = metadata.get("dbt_schema_version")
    match = _SCHEMA_VERSION.search(url) if isinstance(url, str) else None
    if not match or match.group(1) != kind:
        raise ArtifactError(f"{what} {path}: metadata.dbt_schema_version {url!r} is not a dbt {kind} schema")
    return int(match.group(2))


def _mapping(container: dict[str, Any], key: str, path: Path, what: str, where: str = "") -> dict[str, Any]:
    value = container.get(key)
    if not isinstance(value, dict):
        found = "missing" if value is None else f"a {type(value).__name__}"
        raise ArtifactError(f"{what} {path}: key {where}{key} is {found}, expected an object")
    return value


def _privacy(entry: dict[str, Any]) -> Any:
    """`config.meta.privacy` (dbt >= 1.10) over top-level `meta.privacy` (older dbt), as the macros read it."""
    config = entry.get("config")
    config_meta = config.get("meta") if isinstance(config, dict) else None
    found = config_meta.get(META_NAMESPACE) if isinstance(config_meta, dict) else None
    if found is None:
        top_meta = entry.get("meta")
        found = top_meta.get(META_NAMESPACE) if isinstance(top_meta, dict) else None
    return found


def _columns(entry: dict[str, Any]) -> dict[str, Column]:
    """The columns that carry a privacy block (the only ones the checks read)."""
    columns: dict[str, Column] = {}
    raw = entry.get("columns") or {}
    if not isinstance(raw, dict):
        return columns
    for key, column in raw.items():
        if isinstance(column, dict) and (privacy := _privacy(column)) is not None:
            name = str(column.get("name") or key).lower()
            columns[name] = Column(name, privacy)
    return columns


def _node(unique_id: str, entry: dict[str, Any], path: Path) -> Node:
    if not isinstance(entry, dict):
        raise ArtifactError(f"manifest {path}: node {unique_id} is a {type(entry).__name__}, expected an object")
    depends_on = entry.get("depends_on") or {}
    config = entry.get("config") or {}
    checksum = entry.get("checksum") or {}
    resource_type = entry.get("resource_type") or unique_id.split(".", 1)[0]
    name = entry.get("name")
    if not isinstance(name, str):
        raise ArtifactError(f"manifest {path}: node {unique_id} has no name")
    return Node(
        unique_id=unique_id,
        name=name,
        resource_type=resource_type,
        package=entry.get("package_name") or "",
        original_file_path=entry.get("original_file_path") or "",
        patch_path=entry.get("patch_path"),
        relation_name=entry.get("relation_name"),
        privacy=_privacy(entry),
        columns=_columns(entry),
        parents=tuple(depends_on.get("nodes") or ()),
        macros=tuple(depends_on.get("macros") or ()),
        # dbt < 1.3 (manifest < v7) called it compiled_sql.
        compiled_code=entry.get("compiled_code") or entry.get("compiled_sql"),
        checksum=checksum.get("checksum", "") if isinstance(checksum, dict) else "",
        materialized=config.get("materialized") if isinstance(config, dict) else None,
        database=entry.get("database"),
        schema=entry.get("schema"),
        identifier=entry.get("alias") or entry.get("identifier") or name,
    )


def _test(unique_id: str, entry: dict[str, Any]) -> DataTest | None:
    metadata = entry.get("test_metadata")
    if not isinstance(metadata, dict):
        return None  # a singular test: not one of ours
    # `attached_node` exists since dbt 1.5; before, the tested node is the first model it depends on.
    attached = entry.get("attached_node")
    if not attached:
        parents = (entry.get("depends_on") or {}).get("nodes") or []
        attached = parents[0] if parents else None
    return DataTest(unique_id, str(metadata.get("name")), metadata.get("namespace"), attached)


def load_manifest(path: Path) -> Manifest:
    """Read manifest.json; raises ArtifactError for anything that is not a usable dbt manifest."""
    what = "manifest"
    document = read_json(path, what)
    version = _schema_version(document, path, what, "manifest")
    if version not in SUPPORTED_MANIFEST_VERSIONS:
        raise ArtifactError(f"{what} {path}: schema version v{version} is not supported (v1-v12)")
    metadata = document["metadata"]
    nodes: dict[str, Node] = {}
    tests: list[DataTest] = []
    for section in ("nodes", "sources", "exposures"):
        if section == "exposures" and "exposures" not in document:
            continue  # optional in the oldest manifests
        for unique_id, entry in _mapping(document, section, path, what).items():
            resource_type = entry.get("resource_type") if isinstance(entry, dict) else None
            if resource_type == "test":
                test = _test(unique_id, entry)
                if test:
                    tests.append(test)
            elif resource_type in LINEAGE_TYPES or (resource_type is None and section != "nodes"):
                nodes[unique_id] = _node(unique_id, entry, path)
            elif not isinstance(entry, dict):
                raise ArtifactError(f"{what} {path}: {section}.{unique_id} is a {type(entry).__name__}, expected an object")
    return Manifest(
        path=path,
        schema_version=version,
        dbt_version=str(metadata.get("dbt_version") or "unknown"),
        adapter_type=metadata.get("adapter_type"),
        project_name=metadata.get("project_name"),
        nodes=nodes,
        tests=tests,
    )


def load_catalog(path: Path, manifest: Manifest) -> None:
    """Record the warehouse's column names (catalog.json) on the manifest's nodes, in place.

    Documented columns are rarely all columns; the catalog's are, so with a catalog a column
    travels by name only into children that really have it (without one, into every child).
    """
    what = "catalog"
    document = read_json(path, what)
    _schema_version(document, path, what, "catalog")
    for section in ("nodes", "sources"):
        for unique_id, entry in _mapping(document, section, path, what).items():
            node = manifest.nodes.get(unique_id)
            if node is None or not isinstance(entry, dict):
                continue
            columns = entry.get("columns") or {}
            node.observed_columns = frozenset(str((column or {}).get("name") or key).lower() for key, column in columns.items())


def load_run_results(path: Path) -> dict[str, str]:
    """unique_id -> status ('pass', 'fail', 'error', 'skipped', ...) of the last run."""
    what = "run_results"
    document = read_json(path, what)
    _schema_version(document, path, what, "run-results")
    results = document.get("results")
    if not isinstance(results, list):
        raise ArtifactError(f"{what} {path}: key results is missing or not a list")
    statuses: dict[str, str] = {}
    for result in results:
        if not isinstance(result, dict) or not isinstance(result.get("unique_id"), str):
            raise ArtifactError(f"{what} {path}: every entry of results needs a unique_id")
        statuses[result["unique_id"]] = str(result.get("status"))
    return statuses
