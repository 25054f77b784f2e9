"""Read dbt artifacts (manifest.json v1-v12, catalog.json, run_results.json) into small dataclasses.

Plain `orjson` plus hand-picked fields instead of a full pydantic model of the manifest: the
check needs ~15 fields per node, and a validating model of the whole manifest costs ~5x the time
and memory of the JSON parse itself. manifest.json is read entry by entry (one node's objects
alive at a time; see _section_entries), which keeps the peak at a third of json.load's instead of
1.6x for a whole-document parse. Every way an artifact can be unusable (missing, a directory,
empty, truncated, an unknown schema version, a key of the wrong type) becomes an `ArtifactError`
naming the file, which the CLI prints as one line with exit code 2.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Callable, Iterator
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
    #: Every column the YAML documents (as written), with or without a privacy block.
    documented_columns: tuple[str, ...] = ()
    #: The project folder dbt read the node's files from (seed CSV headers are read through it).
    root_path: str | None = None
    #: `sql` or `python` (dbt >= 1.3); a Python model's compiled code is not SQL.
    language: str | None = None

    def known_columns(self) -> frozenset[str] | None:
        """The columns the node has as far as is known without its SQL: the catalog's, else the YAML's."""
        if self.observed_columns is not None:
            return self.observed_columns
        return frozenset(name.lower() for name in self.documented_columns) if self.documented_columns else None


@dataclass(slots=True)
class DataTest:
    """A test node: which generic test (`namespace.name`) is attached to which node, and how it is configured."""

    unique_id: str
    name: str
    namespace: str | None
    attached_node: str | None
    #: The test's arguments as dbt recorded them (`test_metadata.kwargs`).
    arguments: dict[str, Any] = field(default_factory=dict)
    #: The test's config (severity, where, warn_if, error_if, limit, fail_calc...).
    config: dict[str, Any] = field(default_factory=dict)


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


def _read_bytes(path: Path, what: str) -> bytes:
    if not path.exists():
        raise ArtifactError(f"{what} {path}: no such file")
    if path.is_dir():
        raise ArtifactError(f"{what} {path}: is a directory, expected a JSON file")
    data = path.read_bytes()
    if not data.strip():
        raise ArtifactError(f"{what} {path}: file is empty")
    return data


def read_json(path: Path, what: str, data: bytes | None = None) -> dict[str, Any]:
    """Parse one JSON artifact (its bytes, when already read); every unusable file becomes an ArtifactError naming it."""
    if data is None:
        data = _read_bytes(path, what)
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
    # Called for every node and column (~250,000 times on 20,000 models): empty metas, the common
    # case, are skipped by their truthiness before any type check.
    config = entry.get("config")
    if isinstance(config, dict):
        config_meta = config.get("meta")
        if config_meta and isinstance(config_meta, dict):
            found = config_meta.get(META_NAMESPACE)
            if found is not None:
                return found
    top_meta = entry.get("meta")
    return top_meta.get(META_NAMESPACE) if top_meta and isinstance(top_meta, dict) else None


def _columns(entry: dict[str, Any]) -> tuple[dict[str, Column], tuple[str, ...]]:
    """The columns that carry a privacy block (the policy reads only those) and every documented column name."""
    columns: dict[str, Column] = {}
    raw = entry.get("columns") or {}
    if not isinstance(raw, dict):
        return columns, ()
    for key, column in raw.items():
        if isinstance(column, dict) and (privacy := _privacy(column)) is not None:
            name = str(column.get("name") or key).lower()
            columns[name] = Column(name, privacy)
    # dbt keys `columns` by the column's name: the keys are the documented names, kept as written
    # (~250,000 columns on 20,000 models; the one rule that reads them lowercases them).
    return columns, tuple(raw)


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
    columns, documented = _columns(entry)
    root_path = entry.get("root_path")
    return Node(
        unique_id=unique_id,
        name=name,
        resource_type=resource_type,
        package=entry.get("package_name") or "",
        original_file_path=entry.get("original_file_path") or "",
        patch_path=entry.get("patch_path"),
        relation_name=entry.get("relation_name"),
        privacy=_privacy(entry),
        columns=columns,
        parents=tuple(depends_on.get("nodes") or ()),
        macros=tuple(depends_on.get("macros") or ()),
        # dbt < 1.3 (manifest < v7) called it compiled_sql.
        compiled_code=entry.get("compiled_code") or entry.get("compiled_sql"),
        checksum=checksum.get("checksum", "") if isinstance(checksum, dict) else "",
        materialized=config.get("materialized") if isinstance(config, dict) else None,
        database=entry.get("database"),
        schema=entry.get("schema"),
        identifier=entry.get("alias") or entry.get("identifier") or name,
        documented_columns=documented,
        root_path=root_path if isinstance(root_path, str) else None,
        language=entry.get("language") if isinstance(entry.get("language"), str) else None,
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
    arguments, config = metadata.get("kwargs"), entry.get("config")
    return DataTest(
        unique_id,
        str(metadata.get("name")),
        metadata.get("namespace"),
        attached,
        arguments if isinstance(arguments, dict) else {},
        config if isinstance(config, dict) else {},
    )


def _manifest_version(document: dict[str, Any], path: Path) -> int:
    version = _schema_version(document, path, "manifest", "manifest")
    if version not in SUPPORTED_MANIFEST_VERSIONS:
        raise ArtifactError(f"manifest {path}: schema version v{version} is not supported (v1-v12)")
    return version


class _Unsplittable(Exception):
    """The entry-by-entry reading met something it does not handle: read the document whole instead."""


#: The sections whose entries become nodes and tests, at the top level of the manifest.
_SECTIONS = ("nodes", "sources", "exposures")
#: Starts with a literal so `re` scans for it fast; that the match is the top-level key is checked afterwards.
_SECTION_START = {section: re.compile(rb'"' + section.encode() + rb'"\s*:\s*\{') for section in _SECTIONS}
_ENTRY_KEY = re.compile(rb'\s*"((?:[^"\\]|\\.)*)"\s*:\s*(?=\{)')
#: Where an entry may end: before the next entry (keys are unique ids: "<resource type>.") or at the
#: end of its section (followed by a top-level key or the end of the document). Only candidates:
#: a candidate is the end when the text up to it parses as one JSON object.
_ENTRY_END = re.compile(
    rb'\}(?=\s*,\s*"[a-z_]+\.|\s*\}\s*(?:,\s*"(?:metadata|nodes|sources|macros|docs|exposures|metrics|groups|selectors|disabled'
    rb'|parent_map|child_map|group_map|saved_queries|semantic_models|unit_tests|functions)"\s*:|\}\s*$))'
)
_SEPARATOR = re.compile(rb'\s*([,}])')
#: Failed candidates tolerated per entry before giving up on reading entry by entry.
_MAX_CANDIDATES = 64


def _section_entries(data: bytes, view: memoryview, section: str, found: re.Match[bytes]) -> tuple[list[int], Iterator[tuple[str, Any]]]:
    """[start, end] of the section's object in `data` and its entries, each parsed on its own.

    Parsing entry by entry keeps one entry's objects alive at a time instead of the whole
    document's (orjson's parse of a whole 110 MB manifest peaks at 1.6x json.load's memory);
    the caller converts each entry to a dataclass and drops it. The entries are produced lazily,
    so `end` is only known (filled into the list) once the iterator is exhausted.
    """
    start = found.end() - 1
    bounds = [start, -1]

    def entries() -> Iterator[tuple[str, Any]]:
        position = start + 1
        if (closing := _SEPARATOR.match(data, position)) and closing.group(1) == b"}":
            bounds[1] = closing.end()
            return
        while True:
            key = _ENTRY_KEY.match(data, position)
            if key is None:
                raise _Unsplittable(section)
            value_start, search_from = key.end(), key.end()
            for _ in range(_MAX_CANDIDATES):
                candidate = _ENTRY_END.search(data, search_from)
                if candidate is None:
                    raise _Unsplittable(section)
                search_from = candidate.end()
                try:
                    entry = orjson.loads(view[value_start:search_from])
                    break
                except orjson.JSONDecodeError:
                    continue
            else:
                raise _Unsplittable(section)
            yield orjson.loads(view[key.start(1) - 1 : key.end(1) + 1]), entry
            separator = _SEPARATOR.match(data, search_from)
            if separator is None:
                raise _Unsplittable(section)
            position = separator.end()
            if separator.group(1) == b"}":
                bounds[1] = position
                return

    return bounds, entries()


def _read_split(data: bytes, path: Path, collect: Callable[[str, str, Any], None]) -> dict[str, Any]:
    """Feed every entry of nodes/sources/exposures to `collect`; return the rest of the document.

    The rest (metadata, macros, maps...) is parsed with the sections emptied, which both validates
    the whole file and proves each section found was the top-level one. Raises _Unsplittable for
    anything unusual; the caller then reads the document whole.
    """
    view = memoryview(data)
    spans: list[list[int]] = []
    for section in _SECTIONS:
        found = _SECTION_START[section].search(data)
        if found is None:
            if section == "exposures":
                continue  # optional in the oldest manifests; the skeleton check below catches a misplaced one
            raise _Unsplittable(section)
        bounds, entries = _section_entries(data, view, section, found)
        for unique_id, entry in entries:
            collect(section, unique_id, entry)
        spans.append(bounds)
    spans.sort()
    pieces: list[bytes | memoryview] = []
    previous = 0
    for start, end in spans:
        if start < previous:
            raise _Unsplittable("overlapping sections")
        pieces += [view[previous:start], b"{}"]
        previous = end
    pieces.append(view[previous:])
    skeleton = b"".join(pieces)
    try:
        document = orjson.loads(skeleton)
    except orjson.JSONDecodeError:
        raise _Unsplittable("document") from None
    for section in _SECTIONS:
        emptied = document.get(section) if isinstance(document, dict) else None
        if (emptied is not None or section != "exposures") and (emptied != {} or len(_SECTION_START[section].findall(skeleton)) != 1):
            raise _Unsplittable(section)
    return document


def load_manifest(path: Path) -> Manifest:
    """Read manifest.json; raises ArtifactError for anything that is not a usable dbt manifest."""
    what = "manifest"
    data = _read_bytes(path, what)
    nodes: dict[str, Node] = {}
    tests: list[DataTest] = []

    def collect(section: str, unique_id: str, entry: Any) -> None:
        resource_type = entry.get("resource_type") if isinstance(entry, dict) else None
        if resource_type == "test":
            test = _test(unique_id, entry)
            if test:
                tests.append(test)
        elif resource_type in LINEAGE_TYPES or (resource_type is None and section != "nodes"):
            nodes[unique_id] = _node(unique_id, entry, path)
        elif not isinstance(entry, dict):
            raise ArtifactError(f"{what} {path}: {section}.{unique_id} is a {type(entry).__name__}, expected an object")

    try:
        document = _read_split(data, path, collect)
    except (_Unsplittable, ArtifactError):
        # Not a manifest as dbt writes it (or a bad one): read it whole, which reports any
        # problem exactly as for every other artifact, in document order.
        nodes.clear()
        tests.clear()
        document = read_json(path, what, data)
        del data
        _manifest_version(document, path)
        for section in _SECTIONS:
            if section == "exposures" and "exposures" not in document:
                continue  # optional in the oldest manifests
            for unique_id, entry in _mapping(document, section, path, what).items():
                collect(section, unique_id, entry)
    version = _manifest_version(document, path)
    metadata = document["metadata"]
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


#: The status every result of a `dbt build --empty` run gets here: its tests ran on zero rows, so
#: their "pass" proves nothing.
EMPTY_RUN = "empty run"


def load_run_results(path: Path) -> dict[str, str]:
    """unique_id -> status ('pass', 'fail', 'error', 'skipped', ..., or EMPTY_RUN) of the last run."""
    what = "run_results"
    document = read_json(path, what)
    _schema_version(document, path, what, "run-results")
    results = document.get("results")
    if not isinstance(results, list):
        raise ArtifactError(f"{what} {path}: key results is missing or not a list")
    args = document.get("args")
    empty = isinstance(args, dict) and bool(args.get("empty"))
    statuses: dict[str, str] = {}
    for result in results:
        if not isinstance(result, dict) or not isinstance(result.get("unique_id"), str):
            raise ArtifactError(f"{what} {path}: every entry of results needs a unique_id")
        statuses[result["unique_id"]] = EMPTY_RUN if empty else str(result.get("status"))
    return statuses
