"""Join-risk simulation (`privacy-guard simulate-join`): how identifying the quasi-identifiers of two
relations become once joined, before anyone builds the join.

Each side is reduced in the warehouse to its histogram of (join key, quasi-identifiers) -> rows.
A combined class (left QIs, right QIs) of the inner join has sum over keys of a * b rows, with a
and b the two sides' counts for that key: the database joins the two histograms (never the raw
rows) and returns only how many combined classes have each size. The numbers are those of the
real inner join, not an approximation. For every quasi-identifier with a hierarchy the same is
computed with that column generalized one level, to show which single generalization helps most.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path


from python_checks.hierarchy import HierarchyError, read_arx_hierarchy
from python_checks.loader import ArtifactError
from python_checks.relation import Relation, quote


@dataclass(frozen=True)
class JoinRisk:
    """Classes of the combined quasi-identifiers in the joined rows."""

    rows: int
    classes: int
    uniques: int  # rows alone in their class
    smallest_class: int
    rows_below_k: int  # rows in classes smaller than k

    @classmethod
    def from_sizes(cls, sizes: Mapping[int, int], k: int) -> JoinRisk:
        return cls(
            rows=sum(size * count for size, count in sizes.items()),
            classes=sum(sizes.values()),
            uniques=sizes.get(1, 0),
            smallest_class=min(sizes, default=0),
            rows_below_k=sum(size * count for size, count in sizes.items() if size < k),
        )


@dataclass(frozen=True)
class Side:
    """One relation of the join: its key columns and quasi-identifiers."""

    relation: str
    keys: list[str]
    quasi_identifiers: list[str]
    label: str  # "left" | "right"

    def qualified(self, column: str) -> str:
        return f"{self.label}.{column}"


@dataclass
class Simulation:
    left: str
    right: str
    on: list[str]
    quasi_identifiers: list[str]
    k: int
    joined: JoinRisk
    generalized: dict[str, JoinRisk] = field(default_factory=dict)
    best: str | None = None

    def to_document(self) -> dict[str, object]:
        return asdict(self)


def _hierarchy_values(path: Path, column: str) -> str:
    """The (value, level-1 ancestor) pairs of an ARX hierarchy as a SQL VALUES list."""
    try:
        rows = read_arx_hierarchy(path)
    except HierarchyError as error:
        raise ArtifactError(f"--hierarchy {column}: {error}") from None
    if len(rows[0]) < 2:
        raise ArtifactError(f"--hierarchy {column}: {path} has a single level, nothing to generalize to")

    def literal(text: str) -> str:
        return "'" + text.replace("'", "''") + "'"

    return ", ".join(f"({literal(row[0])}, {literal(row[1])})" for row in rows)


def _side_sql(side: Side, source_sql: str, generalize: str | None, hierarchy_values: str | None) -> str:
    """Histogram of (keys, QIs) of one side; `generalize` (a QI) replaced by its level-1 ancestor."""
    keys = [f"{quote(key)} as k{index}" for index, key in enumerate(side.keys)]
    qis = []
    join = ""
    for index, column in enumerate(side.quasi_identifiers):
        if column == generalize:
            qis.append(f"privacy_guard_hierarchy.coarse as q{index}")
            join = (
                f" left join (values {hierarchy_values}) as privacy_guard_hierarchy(original, coarse)"
                f" on cast({quote(column)} as varchar) = privacy_guard_hierarchy.original"
            )
        else:
            qis.append(f"cast({quote(column)} as varchar) as q{index}")
    return f"select {', '.join(keys + qis)}, count(*) as n from {source_sql}{join} group by all"


def _combined_sizes(relation: Relation, left: tuple[Side, str], right: tuple[Side, str]) -> dict[int, int]:
    (left_side, left_sql), (right_side, right_sql) = left, right
    condition = " and ".join(f"l.k{index} = r.k{index}" for index in range(len(left_side.keys)))
    groups = [f"l.q{index}" for index in range(len(left_side.quasi_identifiers))]
    groups += [f"r.q{index}" for index in range(len(right_side.quasi_identifiers))]
    sql = (
        f"select size, count(*) from (select sum(l.n * r.n) as size from ({left_sql}) as l"
        f" join ({right_sql}) as r on {condition} group by {', '.join(groups)}) group by size"
    )
    return {int(size): int(count) for size, count in relation.rows(sql)}


def _check_coverage(relation: Relation, column: str, values: str, option: str) -> None:
    [(missing,)] = relation.rows(
        f"select count(distinct cast({quote(column)} as varchar)) from {relation.sql}"
        f" where cast({quote(column)} as varchar) not in (select original from (values {values}) as h(original, coarse))"
    )
    if missing:
        raise ArtifactError(f"--hierarchy {option}: {missing} value(s) of {relation.name}.{column} are not in the hierarchy")


def simulate_join(
    database: Path,
    left: Side,
    right: Side,
    hierarchy_files: Mapping[str, Path],
    k: int,
) -> Simulation:
    """Risk of the joined quasi-identifiers, and of each single one-level generalization."""
    if k < 1:
        raise ArtifactError(f"--k {k}: must be at least 1")
    if len(left.keys) != len(right.keys) or not left.keys:
        raise ArtifactError("--on: give at least one LEFT_COLUMN=RIGHT_COLUMN pair")
    if not left.quasi_identifiers and not right.quasi_identifiers:
        raise ArtifactError("--left-qi/--right-qi: give at least one quasi-identifier")
    with Relation(database, left.relation, option="--left") as left_table, Relation(database, right.relation, option="--right") as right_table:
        tables = {"left": left_table, "right": right_table}
        for side in (left, right):
            tables[side.label].require(f"--on ({side.label})", side.keys)
            tables[side.label].require(f"--{side.label}-qi", side.quasi_identifiers)
        qualified = [left.qualified(column) for column in left.quasi_identifiers] + [right.qualified(column) for column in right.quasi_identifiers]
        for name in hierarchy_files:
            if name not in qualified:
                raise ArtifactError(f"--hierarchy {name}=...: expected one of {', '.join(qualified)} (left.COLUMN or right.COLUMN)")

        def sizes(generalized_side: Side | None = None, column: str | None = None, values: str | None = None) -> dict[int, int]:
            parts = []
            for side in (left, right):
                chosen = column if side is generalized_side else None
                parts.append((side, _side_sql(side, tables[side.label].sql, chosen, values if chosen else None)))
            return _combined_sizes(left_table, parts[0], parts[1])

        simulation = Simulation(
            left=left.relation,
            right=right.relation,
            on=[f"{a}={b}" for a, b in zip(left.keys, right.keys, strict=True)],
            quasi_identifiers=qualified,
            k=k,
            joined=JoinRisk.from_sizes(sizes(), k),
        )
        for name, path in hierarchy_files.items():
            side = left if name.startswith("left.") else right
            column = name.split(".", 1)[1]
            values = _hierarchy_values(path, name)
            _check_coverage(tables[side.label], column, values, name)
            simulation.generalized[name] = JoinRisk.from_sizes(sizes(side, column, values), k)
    if simulation.generalized:
        # most rows lifted out of classes below k; then the largest smallest class; then fewest uniques
        simulation.best = min(
            simulation.generalized,
            key=lambda name: (simulation.generalized[name].rows_below_k, -simulation.generalized[name].smallest_class, simulation.generalized[name].uniques, name),
        )
    return simulation


def render_text(simulation: Simulation) -> str:
    joined = simulation.joined
    lines = [
        f"{simulation.left} JOIN {simulation.right} ON {', '.join(simulation.on)}: {joined.rows} rows",
        f"  combined quasi-identifiers: {', '.join(simulation.quasi_identifiers)}",
        f"  classes: {joined.classes}; smallest: {joined.smallest_class}; uniques: {joined.uniques}; rows in classes below k={simulation.k}: {joined.rows_below_k}",
    ]
    if simulation.generalized:
        lines.append("  one level more general:")
        for name, risk in sorted(simulation.generalized.items(), key=lambda item: item[1].rows_below_k):
            marker = "  <- gains most" if name == simulation.best else ""
            lines.append(f"    {name}: classes {risk.classes}, smallest {risk.smallest_class}, uniques {risk.uniques}, below k {risk.rows_below_k}{marker}")
    return "\n".join(lines) + "\n"
