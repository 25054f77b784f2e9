"""Read dbt artifacts (manifest.json v1-v12, catalog.json, run_results.json) into small dataclasses.

Plain `orjson` plus hand-picked fields instead of a full pydantic model of the manifest: the
check needs a few fields per node, and a validating model of the whole manifest costs several
times the time and memory of the JSON parse itself. manifest.json is read in batches of entries
(64 KB of nodes' objects alive at a time; see _section_entries), which keeps the peak memory far below a
whole-document parse's (bench/bench_design_choices.py). Every way an artifact can be unusable (missing, a directory,
empty, truncated, an unknown schema version, a key of the wrong type) becomes an `ArtifactError`
naming the file, which the CLI prints as one line with exit code 2.
"""

from __future__ import annotations

import re
import stat
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
    #: The Jinja source as written (provenance reads the privacy_guard macro calls from it).
    raw_code: str | None = None
    #: dbt `grants` config: privilege -> grantee roles, as configured (dbt applies them on build).
    grants: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: SQL of the node's post-hooks (as written, Jinja unrendered): a `grant` there bypasses `grants`.
    post_hooks: tuple[str, ...] = ()

    def known_columns(self) -> frozenset[str] | None:
        """The columns the node has as far as is known without its SQL: the catalog's, else the YAML's."""
        if self.observed_columns is not None:
            return self.observed_columns
        return frozenset(name.lower() for name in self.documented_columns) if self.documented_columns else None


@dataclass(slots=True)
class DataTest:
    """A test node: which test (a generic test's `namespace.name`, else the singular test's own
    name and namespace None) is attached to which node (`tested_node`), and how it is configured."""

    unique_id: str
    name: str
    namespace: str | None
    attached_node: str | None
    #: The test's arguments as dbt recorded them (`test_metadata.kwargs`).
    arguments: dict[str, Any] = field(default_factory=dict)
    #: The test's config (severity, where, warn_if, error_if, limit, fail_calc...).
    config: dict[str, Any] = field(default_factory=dict)
    #: The column a column-level test is declared on.
    column: str | None = None


def tested_node(attached_node: str | None, parents: tuple[str, ...]) -> str | None:
    """The node a test belongs to: dbt's `attached_node` (>= 1.5), else the one node it depends on
    (a source test, older dbt). A test of several nodes without `attached_node` (a relationships
    test of dbt < 1.5, a singular test) belongs to none: guessing would credit it to the wrong model."""
    if attached_node:
        return attached_node
    return parents[0] if len(parents) == 1 else None


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


#: The largest artifact read (bytes). A 20,000-model manifest is ~110 MB; anything past this is
#: refused rather than read without end (a FIFO or device is refused before it is opened).
MAX_ARTIFACT_BYTES = 1 << 30


def read_bounded(path: Path, what: str, limit: int = MAX_ARTIFACT_BYTES) -> bytes:
    """The bytes of a regular file of at most `limit` bytes; anything else is an ArtifactError naming it."""
    try:
        status = path.stat()
    except FileNotFoundError:
        raise ArtifactError(f"{what} {path}: no such file") from None
    except OSError as error:
        raise ArtifactError(f"{what} {path}: cannot be read ({error.strerror})") from None
    if stat.S_ISDIR(status.st_mode):
        raise ArtifactError(f"{what} {path}: is a directory, expected a JSON file")
    if not stat.S_ISREG(status.st_mode):
        raise ArtifactError(f"{what} {path}: is not a regular file (a FIFO, socket or device); refusing to read it")
    if status.st_size > limit:
        raise ArtifactError(f"{what} {path}: {status.st_size} bytes is over the limit of {limit} bytes")
    try:
        with path.open("rb") as stream:
            data = stream.read(limit + 1)  # the file may grow after stat()
    except OSError as error:
        raise ArtifactError(f"{what} {path}: cannot be read ({error.strerror})") from None
    if len(data) > limit:
        raise ArtifactError(f"{what} {path}: over the limit of {limit} bytes")
    return data


def _read_bytes(path: Path, what: str) -> bytes:
    data = read_bounded(path, what)
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


_JSON_KINDS: dict[type, str] = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", int: "a number", float: "a number"}


def _kind(value: Any) -> str:
    return "null" if value is None else _JSON_KINDS.get(type(value), type(value).__name__)


def _wrong_type(path: Path, where: tuple[str, ...], value: Any, expected: str, what: str = "manifest") -> ArtifactError:
    """The one-line error for a key of the wrong type; `where` is the key path from the document root."""
    return ArtifactError(f"{what} {path}: key {'.'.join(where)} is {_kind(value)}, expected {expected}")


def _typed(entry: dict[str, Any], key: str, kind: type, path: Path, where: tuple[str, ...], what: str = "manifest") -> Any:
    """entry[key] when it is missing, null or of `kind`; anything else is an ArtifactError naming the key path."""
    value = entry.get(key)
    if value is None or isinstance(value, kind):
        return value
    raise _wrong_type(path, (*where, key), value, _JSON_KINDS[kind], what)


def _strings(entry: dict[str, Any], key: str, path: Path, where: tuple[str, ...]) -> tuple[str, ...]:
    """entry[key] as a tuple of strings (missing or null: empty)."""
    value = entry.get(key)
    if value is None:
        return ()
    if value.__class__ is not list or not _STRING_TYPE.issuperset(map(type, value)):
        raise _wrong_type(path, (*where, key), value, "a list of strings")
    return tuple(value)


def _privacy(entry: dict[str, Any], path: Path, where: tuple[str, ...]) -> Any:
    """`config.meta.privacy` (dbt >= 1.10) over top-level `meta.privacy` (older dbt), as the macros read it.

    A `config` or `meta` of the wrong type is an error, not "no policy": dropping a policy the
    author wrote would make personal data look unclassified.
    """
    # Called for every node and column (~250,000 times on 20,000 models): kept to None tests and
    # isinstance, no key-path tuples unless something is wrong.
    found = None
    config = entry.get("config")
    if config is not None:
        if not isinstance(config, dict):
            raise _wrong_type(path, (*where, "config"), config, "an object")
        config_meta = config.get("meta")
        if config_meta is not None:
            if not isinstance(config_meta, dict):
                raise _wrong_type(path, (*where, "config", "meta"), config_meta, "an object")
            found = config_meta.get(META_NAMESPACE)
    top_meta = entry.get("meta")
    if top_meta is None:
        return found
    if not isinstance(top_meta, dict):
        raise _wrong_type(path, (*where, "meta"), top_meta, "an object")
    return found if found is not None else top_meta.get(META_NAMESPACE)


def _columns(entry: dict[str, Any], path: Path, where: tuple[str, ...]) -> tuple[dict[str, Column], tuple[str, ...]]:
    """The columns that carry a privacy block (the policy reads only those) and every documented column name."""
    columns: dict[str, Column] = {}
    raw = _typed(entry, "columns", dict, path, where) or {}
    for key, column in raw.items():
        if column.__class__ is not dict:
            raise _wrong_type(path, (*where, "columns", key), column, "an object")
        name = column.get("name")
        if name != key:  # dbt writes the key as the name: then it is a string
            if name is None or name == "":
                name = key
            elif name.__class__ is not str:
                raise _wrong_type(path, (*where, "columns", key, "name"), name, "a string")
        # Most columns declare nothing: an empty config.meta and meta need no key path built.
        config, meta = column.get("config"), column.get("meta")
        if (meta is None or (meta.__class__ is dict and not meta)) and (
            config is None or (config.__class__ is dict and (config_meta := config.get("meta")).__class__ is dict and not config_meta)
        ):
            continue
        if (privacy := _privacy(column, path, (*where, "columns", key))) is not None:
            columns[name.lower()] = Column(name.lower(), privacy)
    # dbt keys `columns` by the column's name: the keys are the documented names, kept as written
    # (~250,000 columns on 20,000 models; the one rule that reads them lowercases them).
    return columns, tuple(raw)


def _node(unique_id: str, entry: dict[str, Any], path: Path, section: str) -> Node:
    where = (section, unique_id)
    name = entry.get("name")
    if not isinstance(name, str) or not name:
        raise _wrong_type(path, (*where, "name"), name, "a non-empty string")
    depends_on = _typed(entry, "depends_on", dict, path, where) or {}
    config = _typed(entry, "config", dict, path, where) or {}
    checksum = _typed(entry, "checksum", dict, path, where) or {}
    # Read on every node: one C-level pass for the values and one for their types, not _typed per key.
    text = tuple(map(entry.get, _NODE_TEXT_KEYS))
    if not _TEXT_TYPES.issuperset(map(type, text)):
        key, value = next((key, value) for key, value in zip(_NODE_TEXT_KEYS, text) if type(value) not in _TEXT_TYPES)
        raise _wrong_type(path, (*where, key), value, "a string")
    package, original_file_path, patch_path, relation_name, compiled_code, compiled_sql, raw_code, raw_sql, database, schema, alias, identifier, root_path, language = text
    columns, documented = _columns(entry, path, where)
    return Node(
        unique_id=unique_id,
        name=name,
        resource_type=entry.get("resource_type") or unique_id.split(".", 1)[0],
        package=package or "",
        original_file_path=original_file_path or "",
        patch_path=patch_path,
        relation_name=relation_name,
        privacy=_privacy(entry, path, where),
        columns=columns,
        parents=_strings(depends_on, "nodes", path, (*where, "depends_on")),
        macros=_strings(depends_on, "macros", path, (*where, "depends_on")),
        # dbt < 1.3 (manifest < v7) called it compiled_sql.
        compiled_code=compiled_code or compiled_sql,
        checksum=_typed(checksum, "checksum", str, path, (*where, "checksum")) or "",
        materialized=_typed(config, "materialized", str, path, (*where, "config")),
        database=database,
        schema=schema,
        identifier=alias or identifier or name,
        documented_columns=documented,
        root_path=root_path,
        language=language,
        # dbt < 1.3 (manifest < v7) called it raw_sql.
        raw_code=raw_code or raw_sql,
        grants=_grants(config, path, (*where, "config")),
        post_hooks=_hook_sql(config, path, (*where, "config")),
    )


def _hook_sql(config: dict[str, Any], path: Path, where: tuple[str, ...]) -> tuple[str, ...]:
    """The SQL of config["post-hook"] (dbt writes a list of {sql, transaction}; a plain string is taken as SQL)."""
    hooks = _typed(config, "post-hook", list, path, where)
    if not hooks:
        return ()
    found = (hook.get("sql") if isinstance(hook, dict) else hook for hook in hooks)
    return tuple(sql for sql in found if isinstance(sql, str))


def _grants(config: dict[str, Any], path: Path, where: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """config.grants: privilege -> roles (dbt accepts one role as a string or a list of them)."""
    grants = _typed(config, "grants", dict, path, where) or {}
    return {
        str(privilege): (roles,) if isinstance(roles, str) else _strings(grants, privilege, path, (*where, "grants"))
        for privilege, roles in grants.items()
    }


#: Text fields of a node the checks, the docs or provenance read (in the order _node unpacks them).
_NODE_TEXT_KEYS = (
    "package_name", "original_file_path", "patch_path", "relation_name", "compiled_code", "compiled_sql",
    "raw_code", "raw_sql", "database", "schema", "alias", "identifier", "root_path", "language",
)
#: The types a text field may have (missing or null: None), and a list of strings' items.
_TEXT_TYPES, _STRING_TYPE = frozenset({str, type(None)}), frozenset({str})


def _test(unique_id: str, entry: dict[str, Any], path: Path) -> DataTest:
    where = ("nodes", unique_id)
    metadata = _typed(entry, "test_metadata", dict, path, where)
    depends_on = _typed(entry, "depends_on", dict, path, where) or {}
    parents = _strings(depends_on, "nodes", path, (*where, "depends_on"))
    config = _typed(entry, "config", dict, path, where) or {}
    column = _typed(entry, "column_name", str, path, where)
    attached = tested_node(_typed(entry, "attached_node", str, path, where), parents)
    if metadata is None:  # a singular test (a SQL file of its own)
        return DataTest(unique_id, _typed(entry, "name", str, path, where) or "", None, attached, {}, config, column)
    name = metadata.get("name")
    if not isinstance(name, str):
        raise _wrong_type(path, (*where, "test_metadata", "name"), name, "a string")
    namespace = _typed(metadata, "namespace", str, path, (*where, "test_metadata"))
    arguments = _typed(metadata, "kwargs", dict, path, (*where, "test_metadata")) or {}
    return DataTest(unique_id, name, namespace, attached, arguments, config, column)


def _manifest_version(document: dict[str, Any], path: Path) -> int:
    version = _schema_version(document, path, "manifest", "manifest")
    if version not in SUPPORTED_MANIFEST_VERSIONS:
        raise ArtifactError(f"manifest {path}: schema version v{version} is not supported (v1-v12)")
    return version


class _Unsplittable(Exception):
    """The reading by entries met something it does not handle: read the document whole instead."""


#: The sections whose entries become nodes and tests, at the top level of the manifest.
_SECTIONS = ("nodes", "sources", "exposures")
#: `"<section>": {`; that a match is the top-level key is checked afterwards.
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
#: Entries are parsed in batches: up to the first boundary candidate this many bytes past the
#: batch's first key. One regex scan and one parse per batch instead of per entry (the regex scans
#: a few KB per batch, not every byte), and still only one batch's objects alive at a time.
_BATCH_BYTES = 1 << 16


def _entries_object(view: memoryview, start: int, end: int) -> dict[str, Any] | None:
    """The entries from `start` (a key's opening quote) to `end` (just after a value) as one object,
    or None when that text is not a run of whole entries (`end` was not an entry's end)."""
    try:
        found: dict[str, Any] = orjson.loads(b"{" + view[start:end] + b"}")
    except orjson.JSONDecodeError:
        return None
    return found


def _one_entry(data: bytes, view: memoryview, section: str, key: re.Match[bytes]) -> tuple[dict[str, Any], int]:
    """The entry `key` starts (as a one-entry object) and where it ends in `data`."""
    search_from = key.end()
    for _ in range(_MAX_CANDIDATES):
        candidate = _ENTRY_END.search(data, search_from)
        if candidate is None:
            break
        search_from = candidate.end()
        if (entry := _entries_object(view, key.start(1) - 1, search_from)) is not None:
            return entry, search_from
    raise _Unsplittable(section)


def _section_entries(data: bytes, view: memoryview, section: str, found: re.Match[bytes]) -> tuple[list[int], Iterator[tuple[str, Any]]]:
    """[start, end] of the section's object in `data` and its entries, parsed a batch at a time.

    Parsing batch by batch keeps one batch's objects alive at a time instead of the whole
    document's (peak memory: bench/bench_design_choices.py);
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
        one_by_one_until = position
        while True:
            key = _ENTRY_KEY.match(data, position)
            if key is None:
                raise _Unsplittable(section)
            batch, batch_start = None, key.start(1) - 1
            if position >= one_by_one_until:
                # Looked for within a batch's length: past the section's end there may be no
                # candidate for long (parent_map's values are lists), and that scan is wasted.
                far = _ENTRY_END.search(data, batch_start + _BATCH_BYTES, batch_start + 2 * _BATCH_BYTES)
                if far is not None:
                    batch, batch_end = _entries_object(view, batch_start, far.end()), far.end()
                if batch is None:
                    # No candidate, or not an entry's end: near the section's end it was past it,
                    # and the next one would be too. One entry at a time for a batch's length.
                    one_by_one_until = position + _BATCH_BYTES
            if batch is None:
                batch, batch_end = _one_entry(data, view, section, key)
            yield from batch.items()
            separator = _SEPARATOR.match(data, batch_end)
            if separator is None:
                raise _Unsplittable(section)
            position = separator.end()
            if separator.group(1) == b"}":
                bounds[1] = position
                return

    return bounds, entries()


def _section_starts(data: bytes, section: str, read: list[list[int]] | None = None) -> Iterator[re.Match[bytes]]:
    """Each non-overlapping `"<section>": {` in `data`, in order (what _SECTION_START.finditer gives),
    outside the spans of sections already `read` (a key inside one is not top-level).

    The quoted name is found by bytes.find and the pattern matched only there: a regex search
    stops at every `"` of the document, and looking for `"sources"` past the nodes section (each
    node has a `"sources": [...]` key) took more instructions than parsing the manifest."""
    name, pattern = b'"' + section.encode() + b'"', _SECTION_START[section]
    position = 0
    for skipped_start, skipped_end in [*sorted(read or ()), [len(data), len(data)]]:
        while (position := data.find(name, position, skipped_start)) >= 0:
            found = pattern.match(data, position)
            if found is None:
                position += 1
                continue
            yield found
            position = found.end()
        position = max(position, skipped_end)


def _read_split(data: bytes, path: Path, collect: Callable[[str, str, Any], None]) -> dict[str, Any]:
    """Feed every entry of nodes/sources/exposures to `collect`; return the rest of the document.

    The rest (metadata, macros, maps...) is parsed with the sections emptied, which both validates
    the whole file and proves each section found was the top-level one. Raises _Unsplittable for
    anything unusual; the caller then reads the document whole.
    """
    view = memoryview(data)
    spans: list[list[int]] = []
    for section in _SECTIONS:
        found = next(_section_starts(data, section, spans), None)
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
    if not isinstance(document, dict):
        raise _Unsplittable("document")
    for section in _SECTIONS:
        emptied = document.get(section)
        if (emptied is not None or section != "exposures") and (emptied != {} or sum(1 for _ in _section_starts(skeleton, section)) != 1):
            raise _Unsplittable(section)
    return document


#: Resource types privacy-guard understands: lineage nodes, tests, and dbt's nodes that play no part
#: in the checks. Anything else is refused rather than dropped: the check cannot vouch for a node it skipped.
KNOWN_TYPES = LINEAGE_TYPES | {"test", "analysis", "operation", "sql_operation", "rpc"}
_SECTION_DEFAULT_TYPE = {"sources": "source", "exposures": "exposure"}


def _check_parents(nodes: dict[str, Node], path: Path) -> None:
    """A parent id of a lineage type that is not in the manifest: the lineage is cut, refuse it."""
    for unique_id, node in nodes.items():
        for parent in node.parents:
            if parent not in nodes and parent.split(".", 1)[0] in LINEAGE_TYPES:
                raise ArtifactError(f"manifest {path}: key {_section_of(unique_id)}.{unique_id}.depends_on.nodes names {parent}, which is not in the manifest")


def _section_of(unique_id: str) -> str:
    return {"source": "sources", "exposure": "exposures"}.get(unique_id.split(".", 1)[0], "nodes")


def load_manifest(path: Path, *, streaming: bool = True) -> Manifest:
    """Read manifest.json; raises ArtifactError for anything that is not a usable dbt manifest.

    `streaming` reads nodes, sources and exposures in batches of entries (_read_split) and falls back to
    the whole-document parse for anything unusual; False reads the document whole (the same result:
    tests/checks/test_check_loader_streaming.py)."""
    what = "manifest"
    data = _read_bytes(path, what)
    nodes: dict[str, Node] = {}
    tests: list[DataTest] = []

    def collect(section: str, unique_id: str, entry: Any) -> None:
        if not isinstance(entry, dict):
            raise _wrong_type(path, (section, unique_id), entry, "an object")
        resource_type = entry.get("resource_type") or _SECTION_DEFAULT_TYPE.get(section)
        if not isinstance(resource_type, str) or resource_type not in KNOWN_TYPES:
            known = ", ".join(sorted(KNOWN_TYPES))
            raise ArtifactError(f"{what} {path}: key {section}.{unique_id}.resource_type is {resource_type!r}, not a type privacy-guard knows ({known})")
        if resource_type == "test":
            tests.append(_test(unique_id, entry, path))
        elif resource_type in LINEAGE_TYPES:
            nodes[unique_id] = _node(unique_id, entry, path, section)

    try:
        if not streaming:
            raise _Unsplittable("streaming off")
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
    _check_parents(nodes, path)
    return Manifest(
        path=path,
        schema_version=version,
        dbt_version=_typed(metadata, "dbt_version", str, path, ("metadata",)) or "unknown",
        adapter_type=_typed(metadata, "adapter_type", str, path, ("metadata",)),
        project_name=_typed(metadata, "project_name", str, path, ("metadata",)),
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
            if not isinstance(entry, dict):
                raise _wrong_type(path, (section, unique_id), entry, "an object", what)
            columns = _typed(entry, "columns", dict, path, (section, unique_id), what) or {}
            names = set()
            for key, column in columns.items():
                if not isinstance(column, dict):
                    raise _wrong_type(path, (section, unique_id, "columns", key), column, "an object", what)
                names.add((_typed(column, "name", str, path, (section, unique_id, "columns", key), what) or key).lower())
            node = manifest.nodes.get(unique_id)
            if node is not None:
                node.observed_columns = frozenset(names)


#: The status every result of a `dbt build --empty` run gets here: its tests ran on zero rows, so
#: their "pass" proves nothing.
EMPTY_RUN = "empty run"


@dataclass(frozen=True, slots=True)
class RunInfo:
    """Who/when/what tool of the run behind run_results.json (its `metadata` and `args`)."""

    invocation_id: str | None = None
    generated_at: str | None = None
    dbt_version: str | None = None
    command: str | None = None
    target: str | None = None


class RunResults(dict[str, str]):
    """unique_id -> status ('pass', 'fail', 'error', 'skipped', ..., or EMPTY_RUN) of the last run,
    with each test's `failures` (failing rows: classes or cells for privacy tests), the table its
    failures were stored in (`relation_name`, with --store-failures) and the run itself (`run`)."""

    def __init__(self, run: RunInfo | None = None) -> None:
        super().__init__()
        self.failures: dict[str, int] = {}
        self.relations: dict[str, str] = {}
        self.run = run or RunInfo()


def load_run_results(path: Path) -> RunResults:
    """The statuses, failure counts and stored-failure tables of the last run."""
    what = "run_results"
    document = read_json(path, what)
    _schema_version(document, path, what, "run-results")
    results = document.get("results")
    if not isinstance(results, list):
        raise ArtifactError(f"{what} {path}: key results is missing or not a list")
    args = _typed(document, "args", dict, path, (), what) or {}
    empty = bool(args.get("empty"))
    metadata = document["metadata"]  # an object: _schema_version read it
    statuses = RunResults(
        RunInfo(
            invocation_id=_typed(metadata, "invocation_id", str, path, ("metadata",), what),
            generated_at=_typed(metadata, "generated_at", str, path, ("metadata",), what),
            dbt_version=_typed(metadata, "dbt_version", str, path, ("metadata",), what),
            command=_typed(args, "which", str, path, ("args",), what),
            target=_typed(args, "target", str, path, ("args",), what),
        )
    )
    for position, result in enumerate(results):
        where = ("results", str(position))
        if not isinstance(result, dict):
            raise _wrong_type(path, where, result, "an object", what)
        if not isinstance(result.get("unique_id"), str):
            raise _wrong_type(path, (*where, "unique_id"), result.get("unique_id"), "a string", what)
        failures = _typed(result, "failures", int, path, where, what)
        relation = _typed(result, "relation_name", str, path, where, what)
        status = _typed(result, "status", str, path, where, what) or "None"
        statuses[result["unique_id"]] = EMPTY_RUN if empty else status
        if failures is not None:
            statuses.failures[result["unique_id"]] = failures
        if relation:
            statuses.relations[result["unique_id"]] = relation
    return statuses
