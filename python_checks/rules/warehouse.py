"""Read-only queries against a DuckDB file, for the rules that measure the data itself.

Only counts leave the database: the rows of small equivalence classes or of expired records are
exactly what must not be copied into a report.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import duckdb

from python_checks.loader import ArtifactError, Node
from python_checks.relation import connect_read_only
from python_checks.relation import Relation
from python_checks.relation import quote as _quote
from python_checks.risk import RiskReport, measure_risk


#: A stored-failure table's name as dbt writes it in run_results: two or three dotted parts, each a
#: plain or double-quoted identifier -- anything else is not queried.
_RELATION_NAME = re.compile(r'^(?:"[^"]+"|\w+)(?:\.(?:"[^"]+"|\w+)){1,2}$')


def _two_counts(row: tuple[Any, ...] | None) -> tuple[int, int]:
    """The row of an aggregate query (always one row; NULL when nothing matched) as two counts."""
    first, second = row if row is not None else (None, None)
    return int(first or 0), int(second or 0)


class Warehouse:
    """A read-only DuckDB connection; a query it cannot run returns the error text instead of rows."""

    def __init__(self, path: Path) -> None:
        self._path = path
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
            return _two_counts(row)
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

    def grants(self, node: Node) -> dict[str, tuple[str, ...]] | None:
        """privilege -> roles the warehouse grants on the node's relation, for the access_review rule;
        None when the warehouse has no grants to read. DuckDB has no roles: always None. (A
        warehouse with roles, e.g. PostgreSQL's information_schema.role_table_grants, answers here.)"""
        return None

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

    def stored_failures(self, relation: str, size_column: str) -> tuple[int, int] | str:
        """(smallest size, sum of sizes) of a privacy test's stored-failure table, or
        why it could not be read. The table holds aggregates only (sizes, counts): no value leaves."""
        if not _RELATION_NAME.match(relation):
            return f"{relation!r} is not a relation name"
        column = _quote(size_column)
        error = ""
        # relation_name carries the catalog dbt saw; a copied file has another: then schema.table.
        for candidate in (relation, relation.split(".", 1)[1] if relation.count('"."') == 2 else None):
            if candidate is None:
                continue
            try:
                row = self._connection.execute(f"select min({column}), sum({column}) from {candidate}").fetchone()
            except duckdb.Error as failure:
                error = str(failure).splitlines()[0]
                continue
            return _two_counts(row)
        return error

    def risk(self, node: Node, quasi_identifiers: list[str], privacy_unit: str | None, threshold: float) -> RiskReport | str:
        """The combined-QI re-identification risk of the node's relation, measured by `privacy-guard
        risk`'s own code (python_checks/risk.py), or why it could not be measured."""
        if not node.schema or not node.identifier:
            return f"{node.resource_type} {node.name} has no schema/identifier"
        try:
            with Relation(self._path, f"{node.schema}.{node.identifier}", option="database relation") as relation:
                return measure_risk(relation, quasi_identifiers, privacy_unit, threshold)
        except ArtifactError as error:
            return str(error)
