"""Incremental SQL analysis: each model's `SqlAnalysis` kept on disk between runs, and the
uncached ones analysed on every core.

One file, `<cache dir>/sql_analyses.v1` (by default under the manifest's `target/`): a header line
(format, analyser version, payload length and SHA-256) and the payload, a JSON object from
sha256(dialect, compiled SQL) to the encoded analysis. The analyser version covers this package,
sqlglot and the analyser's own source, so any change to either re-analyses everything. A file whose
header, length or checksum does not check out is ignored (and replaced on the next write), an entry
that is not what `encode` writes is analysed again (found when it is decoded, CachedAnalysis): it
can cost time, never a wrong answer. Writes are atomic (temporary file + rename).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from functools import cache, partial
from itertools import chain, repeat
from pathlib import Path
from typing import Any, cast

import orjson

from python_checks import __version__
from python_checks.sql_model import ModelSql, NodeColumn, NodeJoin, Origin, RelationIndex, SqlAnalysis

FORMAT = "privacy_guard_sql_cache"
FILE_NAME = "sql_analyses.v1"
DEFAULT_DIR_NAME = "privacy_guard_cache"
#: Below this many uncached models one core is faster than starting a pool.
PARALLEL_THRESHOLD = 400

Encoded = list[Any]


@cache
def analyser_version() -> str:
    """This package, sqlglot and the source of the analyser and its types: any change to them invalidates every entry."""
    from importlib import metadata

    source = hashlib.sha256()
    for module in ("sql_joins.py", "sql_model.py"):  # read, not imported: a warm run never loads sqlglot
        source.update(Path(__file__).with_name(module).read_bytes())
    return f"{__version__}+sqlglot{metadata.version('sqlglot')}+{source.hexdigest()[:16]}"


def cache_key(sql: str, dialect: str | None) -> str:
    return hashlib.sha256(f"{dialect or ''}\0{sql}".encode()).hexdigest()


def _origins(origins: frozenset[Origin]) -> list[list[str]]:
    return sorted(list(origin) for origin in origins)


def encode(analysis: SqlAnalysis) -> Encoded:
    """A SqlAnalysis as JSON-able lists, sets sorted (so equal analyses encode equally)."""
    return [
        [[j.kind, sorted(j.left_relations), sorted(j.right_relations), _origins(j.left_columns), _origins(j.right_columns), j.has_condition] for j in analysis.joins],
        [[name, _origins(origins)] for name, origins in analysis.outputs],
        sorted(analysis.passthrough),
        [[relation, sorted(names)] for relation, names in analysis.passthrough_excluded],
        analysis.note,
        sorted(analysis.relations),
        list(analysis.blind_spots),
        analysis.needs_schema,
    ]


def _strings(items: Iterable[str]) -> None:
    if not all(map(isinstance, items, repeat(str))):  # C-level loop: every model is decoded on a warm run
        raise TypeError("not strings")


def _node_columns(index: RelationIndex, origins: list[list[str]], strings: list[Iterable[Any]]) -> frozenset[NodeColumn]:
    """Encoded origins [[relation, column, via], ...] as (parent, column, via), those of a parent
    only; their strings are added to `strings`, checked once for the whole entry."""
    if origins.__class__ is not list:
        raise TypeError("origins are not a list")
    if not origins:
        return frozenset()
    relations, columns, vias = zip(*origins, strict=True)  # not three parts each: ValueError
    strings += (relations, columns, vias)
    return cast(frozenset[NodeColumn], frozenset(column for column in zip(index.nodes_of(relations), columns, vias) if column[0] is not None))


class CachedAnalysis:
    """A cache entry, decoded only as far as the check needs it when it needs it: the relations
    when read (to find the model's parents), the joins and the output lineage once the parents are
    known, straight into their terms. Decoding every entry into a SqlAnalysis first and resolving
    that after built every origin twice, a Python step at a time.

    A part that is not what `encode` gives is found when it is decoded: then the SQL is analysed
    again (`redo`), as for a cache miss."""

    __slots__ = ("relations", "needs_schema", "_encoded", "_redo")

    def __init__(self, encoded: Encoded, redo: Callable[[], SqlAnalysis]) -> None:
        """Raises (TypeError/ValueError) when the entry's shape, relations, note or flag are not `encode`'s."""
        _, _, _, _, note, relations, _, needs_schema = encoded
        if not (note is None or isinstance(note, str)) or not isinstance(needs_schema, bool):
            raise TypeError("note/needs_schema")
        _strings(relations)
        self.relations: frozenset[str] = frozenset(relations)
        self.needs_schema: bool = needs_schema
        self._encoded = encoded
        self._redo = redo

    def resolve(self, index: RelationIndex) -> ModelSql:
        """The analysis with relation names replaced by parent unique_ids (what RelationIndex.resolve makes of the SqlAnalysis)."""
        try:
            return self._resolve(index)
        except (TypeError, ValueError):  # a well-formed file holding something else
            return index.resolve(self._redo())

    def _resolve(self, index: RelationIndex) -> ModelSql:
        joins, outputs, passthrough, excluded, note, _, blind_spots, _ = self._encoded
        names, origins = zip(*outputs, strict=True) if outputs else ((), ())  # not [name, origins] pairs: ValueError
        # Every string of the entry, checked in one C-level pass at the end (nothing is returned before).
        strings: list[Iterable[Any]] = [names, passthrough, blind_spots]
        resolved: dict[str, frozenset[NodeColumn]] | None = None
        if set(map(len, origins)) == {1}:  # one origin per output, the common case: no Python step per output
            relations, columns, vias = zip(*chain.from_iterable(origins), strict=True)
            nodes = index.nodes_of(relations)
            if None not in nodes:  # every relation found: strings
                strings += (columns, vias)
                # zip(zip(...)): each (parent, column, via) alone in a 1-tuple, its output's frozenset.
                resolved = cast(dict[str, frozenset[NodeColumn]], dict(zip(names, map(frozenset, zip(zip(nodes, columns, vias))))))
        if resolved is None:
            resolved = dict(zip(names, [_node_columns(index, items, strings) for items in origins]))
        node_joins = []
        for kind, left, right, left_columns, right_columns, condition in joins:
            strings += (left, right)
            node_joins.append(
                NodeJoin(str(kind), index.nodes(left), index.nodes(right), _node_columns(index, left_columns, strings), _node_columns(index, right_columns, strings), bool(condition))
            )
        excluded_by_node = {}
        for relation, excluded_names in excluded:  # `* EXCLUDE (...)`: rare
            strings += ((relation,), excluded_names)
            if (node := index.node(relation)) is not None:
                excluded_by_node[node] = frozenset(excluded_names)
        _strings(chain.from_iterable(strings))
        return ModelSql(tuple(node_joins), resolved, index.nodes(passthrough), note, tuple(blind_spots), excluded_by_node)


class SqlCache:
    """The entries of one cache file; `path` None: an empty cache that is never written."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.entries: dict[str, Encoded] = self._read() if path is not None else {}
        self.changed = False
        #: Models analysed in this run (not found in the cache): what a warm re-run should keep small.
        self.analysed = 0

    def _read(self) -> dict[str, Encoded]:
        assert self.path is not None
        try:
            raw = self.path.read_bytes()
            header_line, _, payload = raw.partition(b"\n")
            header = orjson.loads(header_line)
            if (
                not isinstance(header, dict)
                or header.get("format") != FORMAT
                or header.get("analyser") != analyser_version()
                or header.get("bytes") != len(payload)
                or header.get("sha256") != hashlib.sha256(payload).hexdigest()
            ):
                return {}
            entries = orjson.loads(payload)
        except (OSError, orjson.JSONDecodeError):
            return {}
        return entries if isinstance(entries, dict) else {}

    def get(self, key: str, sql: str, dialect: str | None) -> CachedAnalysis | None:
        """The entry of `key`, the cache key of `sql`; None when there is none or it is malformed (a miss)."""
        encoded = self.entries.get(key)
        if encoded is None:
            return None
        try:
            return CachedAnalysis(encoded, partial(self.analyse, key, sql, dialect))
        except (TypeError, ValueError):  # a well-formed file holding something else: a miss
            del self.entries[key]
            return None

    def analyse(self, key: str, sql: str, dialect: str | None) -> SqlAnalysis:
        """Analyse `sql` (a miss) and keep its entry when the cache has a file."""
        from python_checks.sql_joins import analyze  # sqlglot: only when something is analysed

        analysis = analyze(sql, dialect)
        self.analysed += 1
        if self.path is not None:
            self.put(key, encode(analysis))
        return analysis

    def put(self, key: str, encoded: Encoded) -> None:
        self.entries[key] = encoded
        self.changed = True

    def write(self) -> None:
        """Replace the file atomically when this run added entries; a folder that cannot be written only costs the cache."""
        if self.path is None or not self.changed:
            return
        payload = orjson.dumps(self.entries)
        header = orjson.dumps({"format": FORMAT, "analyser": analyser_version(), "bytes": len(payload), "sha256": hashlib.sha256(payload).hexdigest()})
        temporary = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp")
            with os.fdopen(handle, "wb") as file:
                file.write(header + b"\n" + payload)
            os.replace(temporary, self.path)
            temporary = None
        except OSError:
            pass
        finally:
            if temporary is not None:
                Path(temporary).unlink(missing_ok=True)


def _analyse_encoded(dialect: str | None, sql: str) -> Encoded:
    from python_checks.sql_joins import analyze

    return encode(analyze(sql, dialect))


def available_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def analyse_all(sqls: Sequence[str], dialect: str | None, sql_cache: SqlCache, jobs: int | None = None) -> list[SqlAnalysis | CachedAnalysis]:
    """Each SQL's analysis, from the cache or analysed (in a process pool when `jobs` > 1, or
    when `jobs` is None and at least PARALLEL_THRESHOLD models miss the cache)."""
    keys = [cache_key(sql, dialect) for sql in sqls]
    results: list[SqlAnalysis | CachedAnalysis | None] = [sql_cache.get(key, sql, dialect) for key, sql in zip(keys, sqls)]
    missing = [i for i, result in enumerate(results) if result is None]
    workers = jobs if jobs is not None else (available_cores() if len(missing) >= PARALLEL_THRESHOLD else 1)
    if workers > 1 and len(missing) > 1:
        from concurrent.futures import ProcessPoolExecutor

        sql_cache.analysed += len(missing)
        work: Callable[[str], Encoded] = partial(_analyse_encoded, dialect)
        with ProcessPoolExecutor(max_workers=workers) as pool:
            chunk = max(1, len(missing) // (workers * 8))
            for i, encoded in zip(missing, pool.map(work, [sqls[i] for i in missing], chunksize=chunk)):
                sql_cache.put(keys[i], encoded)
                results[i] = sql_cache.get(keys[i], sqls[i], dialect)
    else:
        for i in missing:
            results[i] = sql_cache.analyse(keys[i], sqls[i], dialect)
    return cast(list[SqlAnalysis | CachedAnalysis], results)  # every miss was filled above
