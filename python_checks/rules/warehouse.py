"""Read-only queries against the warehouse (a DuckDB file or a dbt target), for the rules that
measure the data itself.

Only counts leave the database: the rows of small equivalence classes or of expired records are
exactly what must not be copied into a report. The SQL is portable (no FILTER, every subquery
aliased, the cutoff date computed here) so every adapter gives the same numbers.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

from python_checks.connections import QueryError, SqlConnection
from python_checks.loader import ArtifactError, Node
from python_checks.relation import Relation
from python_checks.risk import RiskReport, measure_risk


#: A stored-failure table's name as dbt writes it in run_results: two or three dotted parts, each a
#: plain, double-quoted or backquoted identifier -- anything else is not queried.
_RELATION_NAME = re.compile(r'^(?:"[^"]+"|`[^`]+`|\w+)(?:\.(?:"[^"]+"|`[^`]+`|\w+)){1,2}$')


def _two_counts(row: tuple[Any, ...] | None) -> tuple[int, int]:
    """The row of an aggregate query (always one row; NULL when nothing matched) as two counts."""
    first, second = row if row is not None else (None, None)
    return int(first or 0), int(second or 0)


class Warehouse:
    """A read-only warehouse connection; a query it cannot run returns the error text instead of rows."""

    def __init__(self, connection: SqlConnection) -> None:
        self._connection = connection

    def close(self) -> None:
        """Release the connection (dbt may want to write the DuckDB file next)."""
        self._connection.close()

    def _relations(self, node: Node) -> list[str]:
        # relation_name carries the catalog (the file name dbt saw); a copied file has another one.
        candidates = [node.relation_name] if node.relation_name else []
        if node.schema and node.identifier:
            candidates.append(f"{self._connection.quote(node.schema)}.{self._connection.quote(node.identifier)}")
        return candidates

    def _first(self, node: Node, template: str) -> tuple[int, int] | str:
        error = f"{node.resource_type} {node.name} has no relation name"
        for relation in self._relations(node):
            try:
                [row] = self._connection.rows(template.format(relation=relation))
            except QueryError as failure:
                error = str(failure)
                continue
            return _two_counts(row)
        return error

    def column_names(self, node: Node) -> frozenset[str]:
        """The relation's column names (lower case); empty when it is not in the warehouse."""
        for relation in self._relations(node):
            try:
                return frozenset(name.lower() for name in self._connection.column_names(f"select * from {relation}"))
            except QueryError:
                continue
        return frozenset()

    def grants(self, node: Node) -> dict[str, tuple[str, ...]] | None:
        """privilege -> roles the warehouse grants on the node's relation, for the access_review rule;
        None when the warehouse has no grants to read (DuckDB has no roles)."""
        by_role = self.role_grants(node)
        if by_role is None:
            return None
        by_privilege: dict[str, set[str]] = {}
        for role, privileges in by_role.items():
            for privilege in privileges:
                by_privilege.setdefault(privilege.lower(), set()).add(role)
        return {privilege: tuple(sorted(roles)) for privilege, roles in sorted(by_privilege.items())}

    def role_grants(self, node: Node) -> dict[str, list[str]] | None:
        """role -> privileges (SELECT, INSERT, ...) granted on the node's relation ({} when none, or
        the node has no relation); None when the warehouse has no grants to read."""
        every = self._all_grants()
        if every is None:
            return None
        if not node.relation_name or not node.schema or not node.identifier:
            return {}
        return every.get((node.schema.lower(), node.identifier.lower()), {})

    def node_grants(self, nodes: Iterable[Node]) -> dict[str, dict[str, list[str]]] | None:
        """unique_id -> role -> privileges of every node with a relation (for the report); None when
        the warehouse has no grants to read."""
        if self._all_grants() is None:
            return None
        return {node.unique_id: self.role_grants(node) or {} for node in nodes if node.relation_name}

    def _all_grants(self) -> dict[tuple[str, str], dict[str, list[str]]] | None:
        """(schema, table) -> role -> privileges from information_schema.role_table_grants, read
        once. The owner's own privileges (grantor = grantee) are not grants. The view lists grants
        the connecting role made or received: connect as the role dbt builds with. Names compare in
        lower case (unquoted names fold)."""
        if not hasattr(self, "_grants"):
            try:
                rows = self._connection.rows(
                    "select table_schema, table_name, grantee, privilege_type from information_schema.role_table_grants"
                    " where grantee <> grantor and table_schema not in ('pg_catalog', 'information_schema')"
                )
            except QueryError:
                self._grants: dict[tuple[str, str], dict[str, list[str]]] | None = None
            else:
                found: dict[tuple[str, str], dict[str, set[str]]] = {}
                for schema, table, grantee, privilege in rows:
                    found.setdefault((str(schema).lower(), str(table).lower()), {}).setdefault(str(grantee), set()).add(str(privilege))
                self._grants = {relation: {role: sorted(privileges) for role, privileges in sorted(roles.items())} for relation, roles in found.items()}
        return self._grants

    def expired_rows(self, node: Node, date_column: str, days: int, as_of: dt.date) -> tuple[int, int] | str:
        """(rows older than `days` before as_of, all rows), or why it could not be counted."""
        cutoff = (as_of - dt.timedelta(days=days)).isoformat()
        column = self._connection.quote(date_column)
        return self._first(node, f"select sum(case when cast({column} as date) < cast('{cutoff}' as date) then 1 else 0 end), count(*) from {{relation}}")

    def small_classes(self, node: Node, quasi_identifiers: list[str], k: int, privacy_unit: str | None = None) -> tuple[int, int] | str:
        """(rows in equivalence classes smaller than k, such classes), or why it could not be measured.

        With a privacy unit a class's size is its number of distinct units (people), as in the
        k_anonymity test; the first number still counts the rows of those classes.
        """
        quote = self._connection.quote
        columns = ", ".join(map(quote, quasi_identifiers))
        size = f"count(distinct {quote(privacy_unit)})" if privacy_unit else "count(*)"
        template = (
            "select coalesce(sum(class_rows), 0), count(*) from ("
            f"select {size} as size, count(*) as class_rows from {{relation}} group by {columns}) as classes where size < {int(k)}"
        )
        return self._first(node, template)

    def stored_failures(self, relation: str, size_column: str) -> tuple[int, int] | str:
        """(smallest size, sum of sizes) of a privacy test's stored-failure table, or
        why it could not be read. The table holds aggregates only (sizes, counts): no value leaves."""
        if not _RELATION_NAME.match(relation):
            return f"{relation!r} is not a relation name"
        column = self._connection.quote(size_column)
        error = ""
        # relation_name carries the catalog dbt saw; a copied file has another: then schema.table.
        for candidate in (relation, relation.split(".", 1)[1] if relation.count('"."') == 2 else None):
            if candidate is None:
                continue
            try:
                [row] = self._connection.rows(f"select min({column}), sum({column}) from {candidate}")
            except QueryError as failure:
                error = str(failure)
                continue
            return _two_counts(row)
        return error

    def risk(self, node: Node, quasi_identifiers: list[str], privacy_unit: str | None, threshold: float) -> RiskReport | str:
        """The combined-QI re-identification risk of the node's relation, measured by `privacy-guard
        risk`'s own code (python_checks/risk.py), or why it could not be measured."""
        if not node.schema or not node.identifier:
            return f"{node.resource_type} {node.name} has no schema/identifier"
        try:
            with Relation(self._connection, f"{node.schema}.{node.identifier}", option="database relation") as relation:
                return measure_risk(relation, quasi_identifiers, privacy_unit, threshold)
        except ArtifactError as error:
            return str(error)
