"""One relation of a DuckDB file (or of a warehouse connection), read for the measuring commands (`anonymize`, `risk`,
`simulate-join`): resolves the name, checks the columns, and runs grouped queries.

Only aggregates leave the database: histograms of distinct value combinations with their counts,
never row-level data. Every problem is an `ArtifactError` naming the file, relation or column, so
the CLI prints one line and exits 2.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from python_checks.connections import DuckDBFile, QueryError, SqlConnection, ansi_quote
from python_checks.loader import ArtifactError


def quote(identifier: str) -> str:
    """A DuckDB identifier, quoted (column names like `marital-status` need it)."""
    return ansi_quote(identifier)


def connect_read_only(database: Path, label: str) -> DuckDBFile:
    """A read-only connection to a DuckDB file; `label` names it in the error (`--database`, `database`)."""
    return DuckDBFile(database, label)


class Relation:
    """`name` (`table`, `schema.table` or `catalog.schema.table`) in a DuckDB file or an open
    warehouse connection (borrowed: closing the relation leaves it open)."""

    def __init__(self, source: Path | SqlConnection, name: str, option: str = "--relation") -> None:
        self._owned = isinstance(source, Path)
        self.connection: SqlConnection = connect_read_only(source, "--database") if isinstance(source, Path) else source
        self.name = name
        self.sql = ".".join(self.quote(part) for part in name.split("."))
        try:
            self.columns = self.connection.column_names(f"select * from {self.sql}")
        except QueryError:
            self.close()
            raise ArtifactError(f"{option} {name}: no such table or view in {self.connection.label}") from None

    def __enter__(self) -> Relation:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        if self._owned:
            self.connection.close()

    def quote(self, identifier: str) -> str:
        return self.connection.quote(identifier)

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        """Rows of an aggregate query over this relation; a refused query is bad input (exit 2)."""
        try:
            return self.connection.rows(sql)
        except QueryError as error:
            raise ArtifactError(f"relation {self.name} in {self.connection.label}: {error}") from None

    def require(self, option: str, names: Sequence[str]) -> None:
        """Fail naming `option` and the first column the relation does not have."""
        for name in names:
            if name not in self.columns:
                raise ArtifactError(f"{option} {name}: relation {self.name} has no such column (it has {', '.join(self.columns)})")
        duplicates = sorted({name for name in names if list(names).count(name) > 1})
        if duplicates:
            raise ArtifactError(f"{option} {duplicates[0]}: named twice")

    def histogram(self, columns: Sequence[str], privacy_unit: str | None = None) -> list[tuple[Any, ...]]:
        """Rows `(*values as text, count)` of the distinct combinations of `columns`.

        With `privacy_unit`, the count is of distinct units (people), not of rows.
        """
        return self.grouped(self.sql, columns, privacy_unit)

    def grouped(self, source_sql: str, columns: Sequence[str], privacy_unit: str | None = None) -> list[tuple[Any, ...]]:
        """`histogram` over any SQL source (a relation or a subquery) with these column names."""
        selected = ", ".join(f"cast({self.quote(column)} as varchar)" for column in columns)
        counted = f"count(distinct {self.quote(privacy_unit)})" if privacy_unit else "count(*)"
        if not columns:
            return self.rows(f"select {counted} from {source_sql}")
        return self.rows(f"select {selected}, {counted} from {source_sql} group by {', '.join(str(i + 1) for i in range(len(columns)))}")
