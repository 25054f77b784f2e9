"""Effective policy of every node: what it declares, combined with what flows in from upstream.

The "most protective standard at the intersection": a key a node does not declare is inherited;
consent is the intersection of the consents *declared* upstream (a node that declares none adds
no constraint -- missing consent never means "no purposes"); retention is the minimum, k and
sensitivity the maximum, departments the union. Column classes travel with the columns: through
the SQL's output lineage when the model's SQL was analysed, else by column name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import compress, repeat
from operator import attrgetter, eq, is_not
from typing import Any

import orjson

from python_checks import contract
from python_checks.graph import Lineage
from python_checks.loader import Manifest, Node
from python_checks.settings import Settings
from python_checks.sql_model import COUNTED, PSEUDONYM, TESTED, ModelSql

COLUMN_CLASSES = tuple(contract.enum_values("column_class"))
#: Rank of each class, most identifying first (an unclassed column ranks last).
_CLASS_RANK = {value: rank for rank, value in enumerate(COLUMN_CLASSES)}
#: Classes that make data personal; the contract orders them most identifying first.
PERSONAL_CLASSES = frozenset(COLUMN_CLASSES) - {"none"}
DIRECT_IDENTIFIER, QUASI_IDENTIFIER, SENSITIVE = "direct_identifier", "quasi_identifier", "sensitive"
PSEUDONYMIZED = "pseudonymized"
#: A direct identifier with one of these protections is a pseudonym (or gone), not a raw identifier.
IDENTIFIER_PROTECTIONS = frozenset({PSEUDONYMIZED, "suppressed"})
SENSITIVITY_ORDER = tuple(contract.enum_values("sensitivity"))
POLICY_TYPES = frozenset({"source", "seed", "model", "snapshot"})


@dataclass(frozen=True, slots=True)
class ColumnPolicy:
    """Effective class of one column and the departments whose data it carries.

    Frozen, so a column that flows unchanged into a child is the same object (no copy per node).
    """

    name: str
    column_class: str | None = None
    protection: str | None = None
    hierarchy: str | None = None
    departments: frozenset[str] = frozenset()
    #: A direct identifier that is not pseudonymized or suppressed. Stored, not a property: rules ask
    #: it of every column of every model (~600,000 times on 20,000 models).
    raw_identifier: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        raw = self.column_class == DIRECT_IDENTIFIER and self.protection not in IDENTIFIER_PROTECTIONS
        object.__setattr__(self, "raw_identifier", raw)  # frozen: set once, here


#: Column attributes read for every column of every node: C-level getters, no Python step per column.
_CLASS_OF, _RAW_IDENTIFIER = attrgetter("column_class"), attrgetter("raw_identifier")


@dataclass(slots=True)
class NodePolicy:
    """The effective policy of one node (what the JSON document's `nodes` entry shows)."""

    unique_id: str
    #: The valid keys of the node's privacy block (invalid ones are reported, then ignored).
    declared: dict[str, Any]
    #: Contract violations of the node's and its columns' privacy blocks, as "key: message".
    errors: list[str]
    departments: frozenset[str] = frozenset()
    consent: frozenset[str] | None = None
    purpose: str | None = None
    retention_days: int | None = None
    k: int | None = None
    #: Column naming the person a row is about: privacy measurements count its distinct values.
    privacy_unit: str | None = None
    sensitivity: str | None = None
    personal: bool = False
    columns: dict[str, ColumnPolicy] = field(default_factory=dict)
    #: Answers of columns_of/raw_identifiers: several rules and the document ask the same node.
    _names: dict[str | None, list[str]] = field(default_factory=dict, repr=False)

    @property
    def declared_retention_days(self) -> int | None:
        """Retention the node states itself (not inherited)."""
        retention = self.declared.get("retention")
        return retention["days"] if retention else None

    def columns_of(self, column_class: str) -> list[str]:
        """Names of the effective columns of one class, sorted (computed once; columns are final after propagate)."""
        if column_class not in self._names:
            classes = map(_CLASS_OF, self.columns.values())
            self._names[column_class] = sorted(compress(self.columns, map(eq, classes, repeat(column_class))))
        return self._names[column_class]

    def raw_identifiers(self) -> list[str]:
        """Direct identifiers that reach this node unprotected, sorted."""
        if None not in self._names:
            self._names[None] = sorted(compress(self.columns, map(_RAW_IDENTIFIER, self.columns.values())))
        return self._names[None]


@lru_cache(maxsize=4096)
def _violations(kind: contract.PolicyKind, serialized: bytes) -> tuple[str, ...]:
    # Projects repeat the same few blocks ({class: quasi_identifier}...) thousands of times, and a
    # JSON Schema validation costs far more than a cache lookup (bench/bench_design_choices.py):
    # validate each distinct block once.
    return tuple(map(str, contract.validate(kind, orjson.loads(serialized))))


def _valid_part(kind: contract.PolicyKind, block: Any, where: str, errors: list[str]) -> dict[str, Any]:
    """The keys of a privacy block that satisfy the contract; the others land in `errors`."""
    if block is None:
        return {}
    if not isinstance(block, dict):
        errors.append(f"{where}: expected a mapping, got {type(block).__name__}")
        return {}
    try:
        problems = _violations(kind, orjson.dumps(block, option=orjson.OPT_SORT_KEYS))
    except TypeError:  # keys orjson cannot sort (YAML may give non-string keys): validate uncached
        problems = tuple(map(str, contract.validate(kind, block)))
    if not problems:
        return dict(block)
    errors.extend(f"{where}{'.' if where else ''}{problem}" for problem in problems)
    return {key: value for key, value in block.items() if not contract.validate(kind, {key: value})}


def declared_policy(node: Node) -> NodePolicy:
    """A node's own policy, before inheritance (column blocks validated too)."""
    errors: list[str] = []
    declared = _valid_part("node", node.privacy, "", errors)
    policy = NodePolicy(node.unique_id, declared, errors)
    for name, column in node.columns.items():
        if column.privacy is None:
            continue  # most columns: no block to validate (and no location string to build)
        block = _valid_part("column", column.privacy, f"columns.{name}", errors)
        if block:
            policy.columns[name] = ColumnPolicy(
                name, block.get("class"), block.get("protection"), block.get("hierarchy")
            )
    return policy


def _merge(into: dict[str, ColumnPolicy], column: ColumnPolicy, name: str) -> None:
    """Combine two columns that feed one output column: the more identifying class wins."""
    current = into.get(name)
    if current is None:
        into[name] = column if column.name == name else _column(name, column.column_class, column.protection, column.hierarchy, column.departments)
        return
    if current is column:
        return  # the same column reached us through two paths
    if (
        column.column_class == current.column_class
        and column.hierarchy == current.hierarchy
        and column.protection == current.protection
        and column.departments <= current.departments
    ):
        return  # an equal column through another path (most merges): nothing new, below's answer without its steps
    stronger = column.column_class != current.column_class and (
        _CLASS_RANK.get(column.column_class or "none", len(_CLASS_RANK)) < _CLASS_RANK.get(current.column_class or "none", len(_CLASS_RANK))
    )
    if stronger:
        hierarchy = column.hierarchy
    elif column.column_class == current.column_class:
        # Same class from two origins: the result must not depend on the (unordered) order in
        # which origins arrive, so take the smallest declared hierarchy name.
        hierarchy = min(filter(None, (current.hierarchy, column.hierarchy)), default=None)
    else:
        hierarchy = current.hierarchy
    if not stronger and current.protection == column.protection and hierarchy == current.hierarchy and column.departments <= current.departments:
        return  # nothing new: keep the (shared) object
    into[name] = _column(
        name,
        column.column_class if stronger else current.column_class,
        # Protected only when every contributing column is.
        current.protection if current.protection == column.protection else None,
        hierarchy,
        current.departments | column.departments,
    )


@lru_cache(maxsize=65536)
def _column(name: str, column_class: str | None, protection: str | None, hierarchy: str | None, departments: frozenset[str]) -> ColumnPolicy:
    # Interned: columns merged the same way on different paths become one object, so the next
    # merge recognises them by identity instead of comparing fields.
    return ColumnPolicy(name, column_class, protection, hierarchy, departments)


def _carried_columns(node: Node, parents: list[NodePolicy], sql: ModelSql | None) -> dict[str, ColumnPolicy]:
    """The parents' classed columns that reach this node (through SQL lineage, else by name)."""
    carried: dict[str, ColumnPolicy] = {}
    by_id = {parent.unique_id: parent for parent in parents}
    if sql is not None and sql.note is None:
        for output, origins in sql.outputs.items():
            for parent_id, column_name, via in origins:
                column = by_id[parent_id].columns.get(column_name) if parent_id in by_id else None
                if column is None or via == COUNTED or (via == TESTED and column.column_class == DIRECT_IDENTIFIER):
                    continue  # count(distinct email) and `email is not null` are not the identifier
                if via == PSEUDONYM and column.protection != PSEUDONYMIZED:
                    column = _column(output, column.column_class, PSEUDONYMIZED, column.hierarchy, column.departments)
                # An unkeyed hash stays what it hashes (rules/identifiers.py reports it).
                _merge(carried, column, output)
        for parent_id in sql.passthrough:
            if parent_id in by_id:
                excluded = sql.passthrough_excluded.get(parent_id, frozenset())
                for name, column in by_id[parent_id].columns.items():
                    if name not in excluded:
                        _merge(carried, column, name)
        return carried
    # YAML documents some columns, the catalog lists all: without a catalog assume everything passes,
    # except where the SQL was there but could not be read (a Python model, a parse error): then
    # the YAML's columns, rather than inventing every parent column.
    known = node.known_columns() if sql is not None else node.observed_columns
    widest: dict[str, ColumnPolicy] | None = None
    if known is None and parents:
        # Start from the widest parent's columns (one parent: share its dict; the caller copies
        # before changing it) -- on a 20,000-model project this halves the propagation time.
        widest = max((parent.columns for parent in parents), key=len)
        # Siblings often share one ancestor's (unchanged) dict: nothing to add from those.
        parents = [parent for parent in parents if parent.columns is not widest]
        if not parents:
            return widest
        carried = dict(widest)
    present = carried.get
    changed = False
    for parent in parents:
        columns = parent.columns
        # Only the columns that are not already carried as the same object (most of them, on a
        # large project), filtered without a Python-level step per column.
        for name, column in compress(columns.items(), map(is_not, map(present, columns), columns.values())):
            if known is not None and name not in known:
                continue
            current = present(name)
            if current is None and column.name == name:
                carried[name] = column  # _merge's first case, inlined: the bulk of ~300,000 calls on 20,000 models
            else:
                _merge(carried, column, name)
            changed = changed or present(name) is not current
    # Nothing the widest parent lacked: share its dict, so that its children's merges see the same
    # (interned) objects and skip them by identity.
    return widest if widest is not None and not changed else carried


def _max_sensitivity(values: list[str]) -> str | None:
    return max(values, key=SENSITIVITY_ORDER.index) if values else None


def _inherit(policy: NodePolicy, parents: list[NodePolicy]) -> None:
    declared = policy.declared
    own_department = {declared["department"]} if "department" in declared else set()
    policy.departments = frozenset(own_department.union(*(p.departments for p in parents)))
    consents = [p.consent for p in parents if p.consent is not None]
    if "consent" in declared:
        consents.append(frozenset(declared["consent"]))
    policy.consent = frozenset.intersection(*consents) if consents else None
    upstream_purposes = {p.purpose for p in parents if p.purpose}
    policy.purpose = declared.get("purpose") or (upstream_purposes.pop() if len(upstream_purposes) == 1 else None)
    upstream_units = {p.privacy_unit for p in parents if p.privacy_unit}
    policy.privacy_unit = declared.get("privacy_unit") or (upstream_units.pop() if len(upstream_units) == 1 else None)
    retentions = [p.retention_days for p in parents if p.retention_days is not None]
    if policy.declared_retention_days is not None:
        retentions.append(policy.declared_retention_days)
    policy.retention_days = min(retentions) if retentions else None
    ks = [p.k for p in parents if p.k is not None] + ([declared["k"]] if "k" in declared else [])
    policy.k = max(ks) if ks else None
    policy.sensitivity = _max_sensitivity(
        [p.sensitivity for p in parents if p.sensitivity] + ([declared["sensitivity"]] if "sensitivity" in declared else [])
    )


#: Redoes a model's SQL analysis once its parents' effective policies (hence columns) are known.
Refine = Callable[[list["NodePolicy"]], ModelSql]


def propagate(
    manifest: Manifest, lineage: Lineage, settings: Settings, sql: dict[str, ModelSql], refine: dict[str, Refine] | None = None
) -> dict[str, NodePolicy]:
    """Effective policy of every lineage node, computed parents-first in one pass.

    A model in `refine` gets its analysis redone when its parents are final; the new one replaces
    its entry in `sql`, so the rules read the same analysis propagation used."""
    policies: dict[str, NodePolicy] = {}
    refine = refine or {}
    for unique_id in lineage.order:
        node = manifest.nodes[unique_id]
        policy = declared_policy(node)
        parents = [policies[parent] for parent in lineage.parents[unique_id]]
        _inherit(policy, parents)
        if unique_id in refine:
            sql[unique_id] = refine[unique_id](parents)
        columns = _carried_columns(node, parents, sql.get(unique_id))
        # The node's own column meta overrides what flows in (e.g. `protection: pseudonymized`);
        # interned, so an override that changes nothing leaves the carried (maybe shared) dict as is.
        overrides: dict[str, ColumnPolicy] = {}
        for name, column in policy.columns.items():
            carried = columns.get(name)
            overridden = _column(
                name,
                column.column_class or (carried.column_class if carried else None),
                column.protection or (carried.protection if carried else None),
                column.hierarchy or (carried.hierarchy if carried else None),
                carried.departments if carried and carried.departments else policy.departments,
            )
            if overridden is not carried:
                overrides[name] = overridden
        if overrides:
            columns = {**columns, **overrides}  # never change a parent's (shared) dict
        elif (source := next((parent for parent in parents if parent.columns is columns), None)) is not None:
            # Same (final) columns as a parent: share its answers of columns_of/raw_identifiers too,
            # so a chain of models without own column meta computes them once, not once per model.
            policy._names = source._names
        policy.columns = columns
        policy.personal = (
            any(parent.personal for parent in parents)
            or not PERSONAL_CLASSES.isdisjoint(map(_CLASS_OF, policy.columns.values()))
            or "consent" in policy.declared
        )
        if policy.personal and policy.k is None:
            policy.k = settings.default_k
        policies[unique_id] = policy
    return policies


def meeting_departments(policy: NodePolicy, parents: list[NodePolicy]) -> frozenset[str]:
    """The departments that meet at this node: empty unless it is where their data is combined.

    A node is a meeting point when its personal parents bring two or more departments and no
    single parent already brought them all (downstream of the meeting point nothing new meets).
    """
    if not policy.personal or len(parents) < 2:
        return frozenset()  # a single parent brings nothing that had not met before
    brought = [parent.departments for parent in parents if parent.personal and parent.departments]
    union = frozenset().union(*brought)
    if len(union) < 2 or any(departments == union for departments in brought):
        return frozenset()
    return union
