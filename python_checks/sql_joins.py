"""What a model's compiled SQL joins, on which columns, and where its output columns come from.

The analysis works on relation names (`db.schema.table`, or `__dbt__cte__<model>` for an
ephemeral model) and is cached by (SQL, dialect): an unchanged model costs nothing the second
time (e.g. in pull-request mode, where the base manifest is checked too). Mapping relation names
to dbt nodes is the caller's job (`sql_model.RelationIndex`), because it depends on the manifest, not the SQL.

No `sqlglot.optimizer.qualify`: it costs more than parse + walk together (bench/bench_design_choices.py), and
the only thing it would add is the owner of an unqualified column in a multi-table SELECT, which
this module answers conservatively ("any of the selected relations") instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

import sqlglot
from sqlglot import exp
from sqlglot.optimizer.scope import Scope, traverse_scope

from python_checks.sql_model import (
    COUNTED,
    EPHEMERAL_PREFIX,
    PSEUDONYM,
    RAW,
    TESTED,
    UNKEYED_HASH,
    Join,
    Origin,
    SqlAnalysis,
    relation_key,
)

_VIA_RANK = {RAW: 0, UNKEYED_HASH: 1, TESTED: 2, PSEUDONYM: 3, COUNTED: 4}
#: The UDF `privacy_guard.pseudonymize` compiles to (python_checks.duckdb_plugin.HMAC_FUNCTION,
#: not imported: that module loads dbt; tests/checks/test_check_sql_joins.py checks they agree).
PSEUDONYMIZE_FUNCTION = "privacy_guard_hmac_sha256"
#: On PostgreSQL it compiles to pgcrypto's hmac(value, current_setting(<this>), ...): keyed only
#: when the key is that session setting (a key written in the SQL is readable in target/).
POSTGRES_KEY_SETTING = "privacy_guard.key"
_HASH_TYPES = (
    exp.MD5, exp.MD5Digest, exp.MD5NumberLower64, exp.MD5NumberUpper64, exp.SHA, exp.SHA2, exp.SHA1Digest,
    exp.SHA2Digest, exp.StandardHash, exp.CityHash64, exp.FarmFingerprint,
)  # fmt: skip
#: Hash functions sqlglot has no type for (DuckDB's hash/xxhash, murmur, crc32...).
_HASH_NAMES = frozenset(
    {"hash", "hmac", "md5_number", "md5_hex", "sha1", "sha1_hex", "sha2_hex", "sha256", "sha512", "digest", "xxhash32", "xxhash64", "xxh3_64", "murmurhash3_32", "crc32", "fnv_hash"}
)
_COUNT_TYPES = (exp.Count, exp.ApproxDistinct, exp.CountIf)


def _wrapper_via(node: exp.Expr) -> str:
    """What a function call does to the columns inside it (RAW: nothing that matters here)."""
    if isinstance(node, _COUNT_TYPES):
        return COUNTED
    if isinstance(node, exp.Anonymous):
        name = node.name.lower()
        if name == PSEUDONYMIZE_FUNCTION or (name == "hmac" and _keyed_by_session_setting(node)):
            return PSEUDONYM
        return UNKEYED_HASH if name in _HASH_NAMES else RAW
    return UNKEYED_HASH if isinstance(node, _HASH_TYPES) else RAW


def _keyed_by_session_setting(hmac: exp.Anonymous) -> bool:
    """hmac(value, current_setting('privacy_guard.key'), ...): the key lives outside the SQL."""
    key = hmac.expressions[1] if len(hmac.expressions) > 1 else None
    return (
        isinstance(key, exp.Anonymous) and key.name.lower() == "current_setting" and len(key.expressions) == 1
        and isinstance(key.expressions[0], exp.Literal) and key.expressions[0].is_string and key.expressions[0].this == POSTGRES_KEY_SETTING
    )


def _strongest(first: str, second: str) -> str:
    return first if _VIA_RANK[first] >= _VIA_RANK[second] else second


def _via(column: exp.Column, root: exp.Expr, output: bool = False) -> str:
    """The strongest wrapper between a column and the expression it sits in; in an `output`
    expression a test on the column (a predicate) outputs a boolean about it, not its value."""
    via = RAW
    node = column.parent
    while node is not None and node is not root.parent:
        via = _strongest(via, TESTED if output and isinstance(node, exp.Predicate) else _wrapper_via(node))
        node = node.parent
    return via


def _rewrap(origins: Iterable[Origin], via: str) -> set[Origin]:
    """Origins seen through one more wrapper."""
    if via == RAW:
        return set(origins)
    return {(relation, column, _strongest(inner, via)) for relation, column, inner in origins}


#: Relations whose columns pass through a star -> the names `* EXCLUDE`/`* REPLACE` took out.
Passthrough = dict[str, frozenset[str]]
#: Output of a scope: (explicit column -> origins, in projection order; passthrough; whether
#: positions are known, i.e. no star over a relation whose columns the SQL does not name).
ScopeOutputs = tuple[dict[str, set[Origin]], Passthrough, bool]


def _add_passthrough(into: Passthrough, more: Passthrough, excluded: frozenset[str] = frozenset()) -> None:
    """Merge pass-through relations; a name is out only if every path took it out."""
    for relation, names in more.items():
        names |= excluded
        into[relation] = into[relation] & names if relation in into else names


class _Walker:
    """Resolves columns to relation columns through CTEs, subqueries and stars (memoized per scope)."""

    def __init__(self, schema: dict[str, frozenset[str]]) -> None:
        self._outputs: dict[int, ScopeOutputs] = {}
        self._keys: dict[int, str] = {}
        self.schema = schema
        self.blind_spots: list[str] = []
        self.needs_schema = False

    def source_outputs(self, source: exp.Table | Scope) -> ScopeOutputs:
        """(explicit column -> origins, passthrough relations, positional) of a FROM/JOIN source."""
        if isinstance(source, exp.Table):
            key = self.table_key(source)
            if source.args.get("pivots"):
                self.blind_spots.append(f"PIVOT of {key}: its output columns are not resolved, every column of {key} is assumed to pass")
            return {}, {key: frozenset()}, False
        cte = source.expression.parent
        if isinstance(cte, exp.CTE) and cte.alias.lower().startswith(EPHEMERAL_PREFIX):
            # An ephemeral model is a node of its own: stop at it instead of reading its body.
            return {}, {cte.alias.lower(): frozenset()}, False
        return self.scope_outputs(source)

    def table_key(self, table: exp.Table) -> str:
        """relation_key of a table (memoized: a table is met from several scopes)."""
        key = self._keys.get(id(table))
        if key is None:
            key = self._keys[id(table)] = relation_key(part.name for part in table.parts)
        return key

    def scope_outputs(self, scope: Scope) -> ScopeOutputs:
        """What a SELECT (or set operation) scope outputs: explicit columns and star pass-through."""
        cached = self._outputs.get(id(scope))
        if cached is not None:
            return cached
        if scope.set_operation_scopes:
            result = self._set_operation_outputs(scope.set_operation_scopes)
        elif scope.is_udtf and scope.subquery_scopes:
            result = self.scope_outputs(scope.subquery_scopes[0])  # LATERAL (select ...): its SELECT's columns
        else:
            result = self._select_outputs(scope)
        self._outputs[id(scope)] = result
        return result

    def _set_operation_outputs(self, parts: list[Scope]) -> ScopeOutputs:
        """Columns of a set operation: named by its first branch, the others aligned by position."""
        outputs = [self.scope_outputs(part) for part in parts]
        passthrough: Passthrough = {}
        for part in outputs:
            _add_passthrough(passthrough, part[1])
        first = outputs[0][0]
        if all(positional and len(explicit) == len(first) for explicit, _, positional in outputs):
            explicit = {name: set(origins) for name, origins in first.items()}
            for other, _, _ in outputs[1:]:
                for name, origins in zip(first, other.values()):
                    explicit[name] |= origins
            return explicit, passthrough, True
        # A branch with `select *` over a table: positions unknown, so align by name.
        explicit = {}
        for other, _, _ in outputs:
            for name, origins in other.items():
                explicit.setdefault(name, set()).update(origins)
        return explicit, passthrough, False

    def _select_outputs(self, scope: Scope) -> ScopeOutputs:
        explicit: dict[str, set[Origin]] = {}
        passthrough: Passthrough = {}
        positional = True
        if not isinstance(scope.expression, exp.Select):
            return explicit, passthrough, positional
        for projection in scope.expression.expressions:
            # A column's only children are its name parts or a star (`t.*`): no subtree search for it.
            is_column = isinstance(projection, exp.Column)
            star = projection if isinstance(projection, exp.Star) else projection.this if is_column and isinstance(projection.this, exp.Star) else None
            if star is not None:
                table = projection.table if is_column else ""
                # DuckDB's `* exclude (...)` (the suppression macros' helper columns) drops names;
                # `* replace (expr as name)` recomputes them.
                excluded = {column.name.lower() for column in (star.args.get("except_") or [])}
                replaced = {alias.alias_or_name.lower(): alias for alias in (star.args.get("replace") or [])}
                for source in self.selected(scope, table):
                    source_explicit, source_passthrough, source_positional = self.source_outputs(source)
                    positional = positional and source_positional
                    for name, origins in source_explicit.items():
                        if name not in excluded and name not in replaced:
                            explicit.setdefault(name, set()).update(origins)
                    _add_passthrough(passthrough, source_passthrough, frozenset(excluded | replaced.keys()))
                for name, expression in replaced.items():
                    explicit[name] = self.expression_origins(scope, expression)
                continue
            pattern = projection.this if isinstance(projection, exp.Columns) else None
            if isinstance(pattern, exp.Literal) and pattern.is_string:
                # DuckDB's COLUMNS('regex'): the selected columns whose names match.
                try:
                    matcher = re.compile(pattern.this)
                except re.error:
                    matcher = re.compile("")  # a pattern Python cannot read: assume every column
                    self.blind_spots.append(f"COLUMNS({pattern.sql()}): pattern not understood, every selected column is assumed to pass")
                for source in self.selected(scope, ""):
                    source_explicit, source_passthrough, _ = self.source_outputs(source)
                    source_explicit, source_passthrough = self._expand(source_explicit, source_passthrough)
                    for name, origins in source_explicit.items():
                        if matcher.search(name):
                            explicit.setdefault(name, set()).update(origins)
                    _add_passthrough(passthrough, source_passthrough)
                    positional = positional and not source_passthrough
                continue
            if not is_column and (isinstance(projection, exp.Columns) or projection.find(exp.Columns) is not None):
                self.blind_spots.append(f"COLUMNS(...) in {projection.sql()[:80]}: the columns it selects are not resolved, every selected column is assumed to pass")
                for source in self.selected(scope, ""):
                    source_explicit, source_passthrough, _ = self.source_outputs(source)
                    for name, origins in source_explicit.items():
                        explicit.setdefault(name, set()).update(origins)
                    _add_passthrough(passthrough, source_passthrough)
                positional = False
                continue
            explicit.setdefault(projection.alias_or_name.lower(), set()).update(self.expression_origins(scope, projection))
        return explicit, passthrough, positional

    def _expand(self, explicit: dict[str, set[Origin]], passthrough: Passthrough) -> tuple[dict[str, set[Origin]], Passthrough]:
        """Star pass-through turned into named columns where the schema knows them, so that
        `COLUMNS('regex')` can pick names; what stays unknown is a blind spot."""
        expanded = dict(explicit)
        unknown: Passthrough = {}
        for relation, excluded in passthrough.items():
            known = self.schema.get(relation)
            if known is None:
                unknown[relation] = excluded
                continue
            for name in sorted(known - excluded):
                expanded.setdefault(name, set()).add((relation, name, RAW))
        if unknown:
            self.needs_schema = True
            self.blind_spots.append(f"COLUMNS('regex') over {', '.join(sorted(unknown))}, whose columns are not known: every column is assumed to pass")
        return expanded, unknown

    def expression_origins(self, scope: Scope, expression: exp.Expression) -> set[Origin]:
        """Relation columns an expression is computed from, each with the wrapper it went through."""
        origins: set[Origin] = set()
        for column in expression.find_all(exp.Column):
            found = self.column_origins(scope, column.table, column.name)
            origins |= _rewrap(found, _via(column, expression, output=True)) if column is not expression else found
        return origins

    @staticmethod
    def selected(scope: Scope, table: str) -> list[exp.Table | Scope]:
        """The source a qualifier names, or every selected source for an unqualified column.

        sqlglot leaves SEMI/ANTI-joined tables out of `selected_sources` (they add no output
        column), so a qualifier is looked up in all of the scope's sources as well.
        """
        sources = scope.selected_sources
        if table:
            found = sources.get(table) or sources.get(table.lower())
            if found:
                return [found[1]]
            source = scope.sources.get(table) or scope.sources.get(table.lower())
            return [source] if isinstance(source, (exp.Table, Scope)) else []
        return [source for _, source in sources.values()]

    def column_origins(self, scope: Scope, table: str, column: str) -> set[Origin]:
        """Relation columns a (possibly unqualified) column reference can come from."""
        name = column.lower()
        origins: set[Origin] = set()
        for source in self.selected(scope, table):
            explicit, passthrough, _ = self.source_outputs(source)
            if name in explicit:
                origins |= explicit[name]
            else:
                origins |= {(relation, name, RAW) for relation, excluded in passthrough.items() if name not in excluded}
        return origins

    def relations(self, sources: Iterable[exp.Table | Scope]) -> frozenset[str]:
        """Every relation feeding the given sources."""
        found: set[str] = set()
        for source in sources:
            explicit, passthrough, _ = self.source_outputs(source)
            found |= passthrough.keys()
            found |= {relation for origins in explicit.values() for relation, _, _ in origins}
        return frozenset(found)

    def names(self, source: exp.Table | Scope) -> set[str] | None:
        """The column names a source outputs, when the SQL (or the schema) names them all."""
        explicit, passthrough, _ = self.source_outputs(source)
        names = set(explicit)
        for relation, excluded in passthrough.items():
            known = self.schema.get(relation)
            if known is None:
                self.needs_schema = True
                return None
            names |= known - excluded
        return names


def _sides(condition: exp.Expression, right_alias: str) -> tuple[list[exp.Column], list[exp.Column]]:
    """The columns of a condition on the joined (right) table and on the tables before it."""
    left: list[exp.Column] = []
    right: list[exp.Column] = []
    for column in condition.find_all(exp.Column):
        (right if column.table == right_alias else left).append(column)
    return left, right


def _where_equalities(select: exp.Select) -> list[tuple[exp.EQ, set[str]]]:
    """The WHERE equalities whose two sides read different tables, with the tables they read."""
    where = select.args.get("where")
    found = []
    for equality in where.find_all(exp.EQ) if where is not None else ():
        tables = [{column.table for column in side.find_all(exp.Column)} for side in (equality.left, equality.right)]
        if all(tables) and tables[0] != tables[1]:
            found.append((equality, tables[0] | tables[1]))
    return found


def _origins(walker: _Walker, scope: Scope, columns: Iterable[exp.Column], root: exp.Expr) -> set[Origin]:
    """Relation columns of some columns of one condition (`root`), with their wrappers in it."""
    found: set[Origin] = set()
    for column in columns:
        found |= _rewrap(walker.column_origins(scope, column.table, column.name), _via(column, root))
    return found


def _joins(walker: _Walker, scope: Scope) -> list[Join]:
    if scope.set_operation_scopes:
        return _set_operation_joins(walker, scope)
    select = scope.expression
    if not isinstance(select, exp.Select):
        return []
    sources = scope.selected_sources
    from_ = select.args.get("from_")
    left_aliases = [from_.this.alias_or_name] if from_ is not None else []
    found: list[Join] = []
    joins = select.args.get("joins") or []
    where_equalities = _where_equalities(select) if joins else []
    for join in joins:
        right_alias = join.this.alias_or_name
        right = walker.selected(scope, right_alias)
        left = [sources[alias][1] for alias in left_aliases if alias in sources]
        conditions = [join.args["on"]] if join.args.get("on") is not None else []
        using = [identifier.name for identifier in join.args.get("using") or []]
        method = (join.method or "").upper()
        if method == "NATURAL":
            using = _natural_keys(walker, left, right)
        # `from a, b where ...`, `cross join b where ...`, `left join b on true where ...`: the WHERE
        # equalities tying b to the tables before it are join keys as much as an ON.
        conditions += [equality for equality, tables in where_equalities if right_alias in tables]
        left_columns: set[Origin] = set()
        right_columns: set[Origin] = set()
        for condition in conditions:
            left_side, right_side = _sides(condition, right_alias)
            left_columns |= _origins(walker, scope, left_side, condition)
            right_columns |= _origins(walker, scope, right_side, condition)
        for name in using:
            right_columns |= walker.column_origins(scope, right_alias, name)
            for alias in left_aliases:
                left_columns |= walker.column_origins(scope, alias, name)
        has_condition = bool(conditions) or bool(using) or method == "NATURAL"
        kind = (join.kind or join.side or method or ("inner" if has_condition else "cross")).lower()
        found.append(Join(kind, walker.relations(left), walker.relations(right), frozenset(left_columns), frozenset(right_columns), has_condition))
        left_aliases.append(right_alias)
    found.extend(_subquery_joins(walker, scope))
    return found


def _natural_keys(walker: _Walker, left: list[exp.Table | Scope], right: list[exp.Table | Scope]) -> list[str]:
    """The column names both sides of a NATURAL JOIN have (its implicit USING)."""
    left_names: set[str] = set()
    for source in left:
        names = walker.names(source)
        if names is None:
            return []
        left_names |= names
    right_names = walker.names(right[0]) if right else None
    return sorted(left_names & right_names) if right_names is not None else []


def _subquery_joins(walker: _Walker, scope: Scope) -> list[Join]:
    """`x IN (select ...)`, `EXISTS (select ... where inner.k = outer.k)` and correlated scalar
    subqueries: joins of the subquery's relations to the outer query's."""
    found: list[Join] = []
    # A LATERAL subquery is a source of its own (a UDTF scope) around the correlated SELECT.
    laterals = [child for _, source in scope.selected_sources.values() if isinstance(source, Scope) and source.is_udtf for child in source.subquery_scopes]
    for child in [*scope.subquery_scopes, *laterals]:
        holder = child.expression.parent
        if isinstance(holder, exp.Subquery):
            holder = holder.parent
        inner = walker.relations(source for _, source in child.selected_sources.values())
        probe = None
        if isinstance(holder, exp.In) and holder.args.get("query") is not None:
            probe, kind = holder.this, "not_in" if isinstance(holder.parent, exp.Not) else "in"
        elif isinstance(holder, (exp.Any, exp.All)) and isinstance(holder.parent, exp.Binary):
            # `x = any (select ...)`: an IN by another name.
            comparison = holder.parent
            probe, kind = comparison.left if comparison.right is holder else comparison.right, type(holder).__name__.lower()
        if probe is not None:
            columns = list(probe.find_all(exp.Column))
            left_columns = _origins(walker, scope, columns, probe)
            explicit, passthrough, _ = walker.scope_outputs(child)
            right_columns = set().union(*explicit.values()) if explicit else {(relation, "*", RAW) for relation in passthrough}
            outer = {source for column in columns for source in walker.selected(scope, column.table)}
            found.append(Join(kind, walker.relations(outer), inner, frozenset(left_columns), frozenset(right_columns), True))
            continue
        # Correlated: the subquery's conditions compare its own columns with the outer query's.
        inner_aliases = set(child.selected_sources)
        left_columns = set()
        right_columns = set()
        outer_sources = set()
        for equality in _conditions(child):
            columns = list(equality.find_all(exp.Column))
            outer_columns = [column for column in columns if column.table and column.table not in inner_aliases and column.table in scope.selected_sources]
            if not outer_columns or len(outer_columns) == len(columns):
                continue
            own = [column for column in columns if column not in outer_columns]
            left_columns |= _origins(walker, scope, outer_columns, equality)
            right_columns |= _origins(walker, child, own, equality)
            outer_sources |= {source for column in outer_columns for source in walker.selected(scope, column.table)}
        if not outer_sources:
            continue  # uncorrelated: one value for every row, not a row-by-row match
        if isinstance(holder, exp.Exists):
            kind = "not_exists" if isinstance(holder.parent, exp.Not) else "exists"
        else:
            kind = "lateral" if isinstance(holder, exp.Lateral) else "scalar"
        found.append(Join(kind, walker.relations(outer_sources), inner, frozenset(left_columns), frozenset(right_columns), True))
    return found


def _conditions(scope: Scope) -> Iterable[exp.Expr]:
    """The equalities of a scope's WHERE and JOIN conditions."""
    select = scope.expression
    roots: list[exp.Expr | None] = [select.args.get("where")] + [join.args.get("on") for join in select.args.get("joins") or []]
    for root in filter(None, roots):
        yield from root.find_all(exp.EQ, exp.NullSafeEQ)


def _set_operation_joins(walker: _Walker, scope: Scope) -> list[Join]:
    """UNION/INTERSECT/EXCEPT: the first branch combined with each other, columns aligned by position."""
    kind = type(scope.expression).__name__.lower()
    parts = scope.set_operation_scopes
    first, first_passthrough, _ = walker.scope_outputs(parts[0])
    found = []
    for part in parts[1:]:
        other, other_passthrough, _ = walker.scope_outputs(part)
        left_columns = set().union(*first.values()) if first else set()
        right_columns = set().union(*other.values()) if other else set()
        left_columns |= {(relation, "*", RAW) for relation in first_passthrough}
        right_columns |= {(relation, "*", RAW) for relation in other_passthrough}
        found.append(Join(kind, walker.relations([parts[0]]), walker.relations([part]), frozenset(left_columns), frozenset(right_columns), True))
    return found


def _in_ephemeral(scope: Scope) -> bool:
    node: exp.Expr | None = scope.expression
    while node is not None:
        if isinstance(node, exp.CTE) and node.alias.lower().startswith(EPHEMERAL_PREFIX):
            return True
        node = node.parent
    return False


def _read_relations(walker: _Walker, scopes: list[Scope]) -> frozenset[str]:
    return frozenset(key for scope in scopes for source in scope.sources.values() if isinstance(source, exp.Table) and (key := walker.table_key(source)))


@lru_cache(maxsize=65536)
def analyze(sql: str, dialect: str | None, schema: tuple[tuple[str, frozenset[str]], ...] = ()) -> SqlAnalysis:
    """Joins and output lineage of the last statement of `sql`; a note instead when it cannot be read.

    `schema` (relation key -> column names) is only needed where the SQL does not name a table's
    columns but must pick some (NATURAL JOIN keys, `* EXCLUDE`, `COLUMNS('regex')`): call without
    it first and again with it when the result `needs_schema`.
    """
    try:
        statements = [statement for statement in sqlglot.parse(sql, read=dialect) if statement is not None]
        if not statements:
            return SqlAnalysis(note="no SQL statement")
        scopes = traverse_scope(statements[-1])
        if not scopes:
            return SqlAnalysis(note=f"not a query: {statements[-1].key}")
        walker = _Walker(dict(schema))
        # An ephemeral model's body (inlined as a CTE) is that model's own SQL, analysed on its node.
        own = [scope for scope in scopes if not _in_ephemeral(scope)] if EPHEMERAL_PREFIX in sql else scopes
        joins = [join for scope in own for join in _joins(walker, scope)]
        explicit, passthrough, _ = walker.scope_outputs(scopes[-1])
    # sqlglot raises more than its own error types on SQL it does not understand (and recursion
    # on very deep expressions); any of them means "could not analyse this model", not "crash".
    except Exception as error:  # noqa: BLE001
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return SqlAnalysis(note=f"SQL not analysed ({dialect or 'generic'} dialect): {first_line[:200]}")
    return SqlAnalysis(
        joins=tuple(joins),
        outputs=tuple((name, frozenset(origins)) for name, origins in explicit.items()),
        passthrough=frozenset(passthrough),
        passthrough_excluded=tuple(sorted((relation, names) for relation, names in passthrough.items() if names)),
        relations=_read_relations(walker, own),
        blind_spots=tuple(dict.fromkeys(walker.blind_spots)),
        needs_schema=walker.needs_schema,
    )
