"""One relation of a DuckDB file, opened read-only for the measuring commands (`anonymize`, `risk`,
`simulate-join`): resolves the name, checks the columns, and runs grouped queries.

Only aggregates leave the database: histograms of distinct value combinations with their counts,
never row-level data. Every problem is an `ArtifactError` naming the file, relation or column, so
the CLI prints one line and exits 2.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb

from python_checks.loader import ArtifactError


def quote(identifier: str) -> str:
    """A DuckDB identifier, quoted (column names like `marital-status` need it)."""
    return '"' + identifier.replace('"', '""') + '"'


def connect_read_only(database: Path, label: str) -> duckdb.DuckDBPyConnection:
    """A read-only connection to a DuckDB file; `label` names it in the error (`--database`, `database`)."""
    if not database.is_file():
        raise ArtifactError(f"{label} {database}: no such file")
    try:
        return duckdb.connect(str(database), read_only=True)
    except duckdb.Error as error:
        raise ArtifactError(f"{label} {database}: cannot open read-only: {str(error).splitlines()[0]}") from None


class Relation:
    """`name` (`table`, `schema.table` or `catalog.schema.table`) in the DuckDB file `database`."""

    def __init__(self, database: Path, name: str, option: str = "--relation") -> None:
        self.connection = connect_read_only(database, "--database")
        self.database = database
        self.name = name
        self.sql = ".".join(quote(part) for part in name.split("."))
        try:
            described = self.connection.execute(f"select * from {self.sql} limit 0").description
        except duckdb.Error:
            self.connection.close()
            raise ArtifactError(f"{option} {name}: no such table or view in {database}") from None
        self.columns = [column[0] for column in described]

    def __enter__(self) -> Relation:
        return self

    def __exit__(self, *_: object) -> None:
        self.connection.close()

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
        selected = ", ".join(f"cast({quote(column)} as varchar)" for column in columns)
        counted = f"count(distinct {quote(privacy_unit)})" if privacy_unit else "count(*)"
        if not columns:
            return self.connection.execute(f"select {counted} from {source_sql}").fetchall()
        return self.connection.execute(f"select {selected}, {counted} from {source_sql} group by all").fetchall()
