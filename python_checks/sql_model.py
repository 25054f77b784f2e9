"""What the SQL analysis finds, as data: relation-level (`SqlAnalysis`) and node-level (`ModelSql`),
the dialect of an adapter, and the mapping of relation names to a model's parents (`RelationIndex`).

Apart from the analyser (`sql_joins`, which needs sqlglot) so that the rules, the policy
propagation and the on-disk cache use these types without importing sqlglot.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

#: dbt adapter_type -> sqlglot dialect; an adapter not listed parses with sqlglot's generic dialect.
DIALECTS = {
    "duckdb": "duckdb",
    "postgres": "postgres",
    "redshift": "redshift",
    "snowflake": "snowflake",
    "bigquery": "bigquery",
    "databricks": "databricks",
    "spark": "spark",
    "trino": "trino",
    "athena": "athena",
    "clickhouse": "clickhouse",
    "sqlserver": "tsql",
    "synapse": "tsql",
    "fabric": "fabric",
    "oracle": "oracle",
    "mysql": "mysql",
    "sqlite": "sqlite",
}
EPHEMERAL_PREFIX = "__dbt__cte__"

#: How a column reaches an output or a join condition, weakest protection first. Inside a test in
#: an output (`email is not null as has_email`) the output is a boolean about the column: not the
#: identifier, though a test of a quasi-identifier or a sensitive value still tells about it; inside
#: the pseudonymize UDF a keyed pseudonym; inside `count(...)` a count, no class at all; inside
#: md5/sha*/hash an unkeyed hash (dictionary-reversible: still the identifier). Along a path the
#: strongest wrapper wins.
RAW, UNKEYED_HASH, TESTED, PSEUDONYM, COUNTED = "", "unkeyed_hash", "tested", "pseudonym", "counted"

#: (relation key, column name, via), relation and column lower case.
Origin = tuple[str, str, str]


@dataclass(frozen=True, slots=True)
class Join:
    """One way two row sets are combined: the relations on each side and the columns it compares.

    `kind` is the JOIN kind (inner, left, semi, anti, cross, natural, positional...), `in`/`exists`/
    `scalar` for a correlated or IN subquery, or the set operation (union, intersect, except), whose
    compared columns are the branches' columns aligned by position.
    """

    kind: str
    left_relations: frozenset[str]
    right_relations: frozenset[str]
    left_columns: frozenset[Origin]
    right_columns: frozenset[Origin]
    has_condition: bool


@dataclass(frozen=True, slots=True)
class SqlAnalysis:
    """Joins and output-column lineage of one statement; `note` says why it is empty."""

    joins: tuple[Join, ...] = ()
    #: output column -> the relation columns it is computed from.
    outputs: tuple[tuple[str, frozenset[Origin]], ...] = ()
    #: relations whose every column reaches the output (`select *`, `t.*`)...
    passthrough: frozenset[str] = frozenset()
    #: ...but these (`* EXCLUDE (...)`, `* REPLACE (... as name)`: then an explicit output).
    passthrough_excluded: tuple[tuple[str, frozenset[str]], ...] = ()
    note: str | None = None
    #: Every table the SQL reads (CTE names excluded): hard-coded names are found from these.
    relations: frozenset[str] = frozenset()
    #: Constructs read only in part (PIVOT, COLUMNS(...)): the analysis stands, with these caveats.
    blind_spots: tuple[str, ...] = ()
    #: NATURAL JOINs over tables whose columns the SQL does not name: resolved with `schema`.
    needs_schema: bool = False


def dialect_for(adapter_type: str | None) -> str | None:
    """The sqlglot dialect of a dbt adapter; None (generic SQL) when unknown."""
    return DIALECTS.get((adapter_type or "").lower())


def relation_key(parts: Iterable[str | None]) -> str:
    """`db.schema.table` in lower case without quotes; the key both sides of the mapping use."""
    return ".".join(part.strip('"`[]').lower() for part in parts if part)


#: (dbt unique_id, column name, via); column `*` (a set operation over `select *`) means all of them.
NodeColumn = tuple[str, str, str]


@dataclass(frozen=True, slots=True)
class NodeJoin:
    """A Join with relations mapped to the model's parent nodes."""

    kind: str
    left_nodes: frozenset[str]
    right_nodes: frozenset[str]
    left_columns: frozenset[NodeColumn]
    right_columns: frozenset[NodeColumn]
    has_condition: bool

    @property
    def columns(self) -> frozenset[NodeColumn]:
        """Every parent column the join condition compares."""
        return self.left_columns | self.right_columns


@dataclass(frozen=True, slots=True)
class ModelSql:
    """SqlAnalysis of one model in terms of its parent nodes."""

    joins: tuple[NodeJoin, ...]
    outputs: dict[str, frozenset[NodeColumn]]
    passthrough: frozenset[str]
    note: str | None
    #: What the analysis read only in part (SqlAnalysis.blind_spots).
    blind_spots: tuple[str, ...] = ()
    #: parent -> names `* EXCLUDE`/`* REPLACE` took out of its pass-through.
    passthrough_excluded: dict[str, frozenset[str]] = field(default_factory=dict)


def relation_keys(relation_name: str | None, parts: tuple[str | None, ...], ephemeral: bool, name: str) -> tuple[str, ...]:
    """The keys a node's relation goes by in SQL: the full `db.schema.identifier` and its shorter
    suffixes (SQL may omit the database or schema); an ephemeral model's CTE name."""
    if ephemeral:
        return (EPHEMERAL_PREFIX + name.lower(),)
    pieces = (relation_key(relation_name.split(".")) if relation_name else relation_key(parts)).split(".")
    return tuple(".".join(pieces[start:]) for start in range(len(pieces)))


class RelationIndex:
    """Maps the relation names a model's SQL mentions to the model's parents.

    Built from each parent's relation_keys (computed once per node: a node is the parent of
    several models); a key two parents share maps to nobody rather than to the wrong one.
    """

    __slots__ = ("_keys",)

    def __init__(self, parents: Iterable[tuple[str, tuple[str, ...]]]) -> None:
        self._keys: dict[str, str | None] = {}
        for unique_id, keys in parents:
            for key in keys:
                self._keys[key] = unique_id if self._keys.get(key, unique_id) == unique_id else None

    def node(self, key: str) -> str | None:
        """The parent a relation key names (None: not a parent, or ambiguous)."""
        return self._keys.get(key)

    def nodes_of(self, keys: Iterable[str]) -> list[str | None]:
        """The parent of each key, in order: one C-level pass (the cache decodes origins this way)."""
        return list(map(self._keys.get, keys))

    def nodes(self, keys: Iterable[str]) -> frozenset[str]:
        """The parents among many relation keys."""
        return frozenset(filter(None, map(self.node, keys)))

    def columns(self, origins: Iterable[Origin]) -> frozenset[NodeColumn]:
        """(parent, column, via) for the origins that belong to a parent."""
        found = ((self.node(key), column, via) for key, column, via in origins)
        return frozenset((node, column, via) for node, column, via in found if node is not None)

    def schema(self, known: dict[str, frozenset[str]]) -> tuple[tuple[str, frozenset[str]], ...]:
        """relation key -> column names, for the parents whose columns are known (NATURAL JOIN keys)."""
        return tuple(sorted((key, known[node]) for key, node in self._keys.items() if node in known))

    def resolve(self, analysis: SqlAnalysis) -> ModelSql:
        """The analysis with relation names replaced by parent unique_ids."""
        joins = tuple(
            NodeJoin(
                join.kind,
                self.nodes(join.left_relations),
                self.nodes(join.right_relations),
                self.columns(join.left_columns),
                self.columns(join.right_columns),
                join.has_condition,
            )
            for join in analysis.joins
        )
        outputs = {name: self.columns(origins) for name, origins in analysis.outputs}
        excluded = {node: names for relation, names in analysis.passthrough_excluded if (node := self.node(relation)) is not None}
        return ModelSql(joins, outputs, self.nodes(analysis.passthrough), analysis.note, analysis.blind_spots, excluded)
