"""Read-only queries against a DuckDB file, for the rules that measure the data itself.

Only counts leave the database: the rows of small equivalence classes or of expired records are
exactly what must not be copied into a report.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from python_checks.loader import Node
from python_checks.relation import connect_read_only
from python_checks.relation import quote as _quote


class Warehouse:
    """A read-only DuckDB connection; a query it cannot run returns the error text instead of rows."""

    def __init__(self, path: Path) -> None:
        self._connection = connect_read_only(path, "database")

    def close(self) -> None:
        """Release the file (dbt may want to write it next)."""
        self._connection.close()

    def _relations(self, node: Node) -> list[str]:
        # relation_name carries the catalog (the file name dbt saw); a copied file has another one.
        candidates = [node.relation_name] if node.relation_name else []
        if node.schema and node.identifier:
            candidates.append(f"{_quote(node.schema)}.{_quote(node.identifier)}")
        return candidates

    def _count(self, node: Node, template: str, parameters: list[object]) -> tuple[int, int] | str:
        error = f"{node.resource_type} {node.name} has no relation name"
        for relation in self._relations(node):
            try:
                row = self._connection.execute(template.format(relation=relation), parameters).fetchone()
            except duckdb.Error as failure:
                error = str(failure).splitlines()[0]
                continue
            return int(row[0] or 0), int(row[1] or 0)
        return error

    def column_names(self, node: Node) -> frozenset[str]:
        """The relation's column names (lower case); empty when it is not in the file."""
        for relation in self._relations(node):
            try:
                described = self._connection.execute(f"select * from {relation} limit 0").description or []
            except duckdb.Error:
                continue
            return frozenset(str(column[0]).lower() for column in described)
        return frozenset()

    def expired_rows(self, node: Node, date_column: str, days: int, as_of: dt.date) -> tuple[int, int] | str:
        """(rows older than `days` before as_of, all rows), or why it could not be counted."""
        template = (
            f"select count(*) filter (where cast({_quote(date_column)} as date) < cast(? as date) - cast(? as integer)),"
            " count(*) from {relation}"
        )
        return self._count(node, template, [as_of, days])

    def small_classes(self, node: Node, quasi_identifiers: list[str], k: int, privacy_unit: str | None = None) -> tuple[int, int] | str:
        """(rows in equivalence classes smaller than k, such classes), or why it could not be measured.

        With a privacy unit a class's size is its number of distinct units (people), as in the
        k_anonymity test; the first number still counts the rows of those classes.
        """
        columns = ", ".join(map(_quote, quasi_identifiers))
        size = f"count(distinct {_quote(privacy_unit)})" if privacy_unit else "count(*)"
        template = (
            "select coalesce(sum(class_rows), 0), count(*) from ("
            f"select {size} as size, count(*) as class_rows from {{relation}} group by {columns}) where size < ?"
        )
        return self._count(node, template, [k])
