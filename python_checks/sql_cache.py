"""Incremental SQL analysis: each model's `SqlAnalysis` kept on disk between runs, and the
uncached ones analysed on every core.

One file, `<cache dir>/sql_analyses.v1` (by default under the manifest's `target/`): a header line
(format, analyser version, payload length and SHA-256) and the payload, a JSON object from
sha256(dialect, compiled SQL) to the encoded analysis. The analyser version covers this package,
sqlglot and the analyser's own source, so any change to either re-analyses everything. A file whose
header, length, checksum or entries do not check out is ignored (and replaced on the next write):
it can cost time, never a wrong answer. Writes are atomic (temporary file + rename).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Sequence
from functools import cache, partial
from itertools import repeat
from pathlib import Path
from typing import Any, cast

import orjson

from python_checks import __version__
from python_checks.sql_model import Join, Origin, SqlAnalysis

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


def decode(encoded: Encoded) -> SqlAnalysis:
    """The SqlAnalysis `encode` was given; raises (TypeError/ValueError) on anything else."""
    joins, outputs, passthrough, excluded, note, relations, blind_spots, needs_schema = encoded

    def origins(items: list[list[str]]) -> frozenset[Origin]:
        found: frozenset[Origin] = frozenset(map(tuple, items))  # type: ignore[arg-type]  # checked below
        for relation, column, via in found:  # not three parts: ValueError
            if relation.__class__ is not str or column.__class__ is not str or via.__class__ is not str:
                raise TypeError("origin is not three strings")
        return found

    def strings(items: list[str]) -> frozenset[str]:
        found = frozenset(items)
        if not all(map(isinstance, found, repeat(str))):  # C-level loop: every model is decoded on a warm run
            raise TypeError("not a list of strings")
        return found

    if not (note is None or isinstance(note, str)) or not isinstance(needs_schema, bool):
        raise TypeError("note/needs_schema")
    return SqlAnalysis(
        joins=tuple(
            Join(str(kind), strings(left), strings(right), origins(left_columns), origins(right_columns), bool(condition))
            for kind, left, right, left_columns, right_columns, condition in joins
        ),
        outputs=tuple((str(name), origins(items)) for name, items in outputs),
        passthrough=strings(passthrough),
        passthrough_excluded=tuple((str(relation), strings(names)) for relation, names in excluded),
        note=note,
        relations=strings(relations),
        blind_spots=tuple(str(spot) for spot in blind_spots),
        needs_schema=needs_schema,
    )


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

    def get(self, key: str) -> SqlAnalysis | None:
        encoded = self.entries.get(key)
        if encoded is None:
            return None
        try:
            return decode(encoded)
        except (TypeError, ValueError):  # a well-formed file holding something else: a miss
            del self.entries[key]
            return None

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


def analyse_all(sqls: Sequence[str], dialect: str | None, sql_cache: SqlCache, jobs: int | None = None) -> list[SqlAnalysis]:
    """Each SQL's SqlAnalysis, from the cache or analysed (in a process pool when `jobs` > 1, or
    when `jobs` is None and at least PARALLEL_THRESHOLD models miss the cache)."""
    keys = [cache_key(sql, dialect) for sql in sqls]
    results = [sql_cache.get(key) for key in keys]
    missing = [i for i, result in enumerate(results) if result is None]
    workers = jobs if jobs is not None else (available_cores() if len(missing) >= PARALLEL_THRESHOLD else 1)
    sql_cache.analysed += len(missing)
    if workers > 1 and len(missing) > 1:
        from concurrent.futures import ProcessPoolExecutor

        work: Callable[[str], Encoded] = partial(_analyse_encoded, dialect)
        with ProcessPoolExecutor(max_workers=workers) as pool:
            chunk = max(1, len(missing) // (workers * 8))
            for i, encoded in zip(missing, pool.map(work, [sqls[i] for i in missing], chunksize=chunk)):
                results[i] = decode(encoded)
                sql_cache.put(keys[i], encoded)
    elif missing:
        from python_checks.sql_joins import analyze  # sqlglot: only when something is analysed

        for i in missing:
            analysis = results[i] = analyze(sqls[i], dialect)
            if sql_cache.path is not None:
                sql_cache.put(keys[i], encode(analysis))
    return cast(list[SqlAnalysis], results)  # every miss was filled above
