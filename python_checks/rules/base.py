"""What a rule is, what it sees (`Context`), and how rule families register their rules."""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Annotated, Any, NamedTuple, get_args, get_origin, get_type_hints

from python_checks.graph import Lineage
from python_checks.loader import DataTest, Manifest, Node, RunResults
from python_checks.policy import NodePolicy, meeting_departments
from python_checks.settings import RuleParameter, Settings
from python_checks.sql_model import ModelSql, NodeColumn

if TYPE_CHECKING:  # duckdb: only loaded with --database
    from python_checks.rules.warehouse import Warehouse

#: The package whose generic tests count as privacy tests.
PACKAGE = "privacy_guard"
#: The generic test that enforces k on a model's quasi-identifiers.
K_ANONYMITY = "k_anonymity"
#: The generic tests that enforce a minimum group size: k_anonymity on record-level models,
#: min_cell_size on aggregates (each published count is a group of at least k people).
GROUP_SIZE_TESTS = frozenset({K_ANONYMITY, "min_cell_size"})
#: The generic tests that protect a sensitive column within each class of the quasi-identifiers.
L_DIVERSITY, T_CLOSENESS = "l_diversity", "t_closeness"
#: The generic test that bounds the prosecutor re-identification risk (1 / class size) of the records.
REIDENTIFICATION_RISK = "reidentification_risk"
#: Resource types a model-level rule looks at (where SQL combines data).
MODEL_TYPES = frozenset({"model", "snapshot"})
#: Materializations that keep rows (a view or ephemeral model keeps nothing of its own).
PERSISTED = frozenset({"table", "incremental", "snapshot"})


def stores_data(node: Node) -> bool:
    """Materialized as table, incremental, snapshot or seed (views and ephemeral models store nothing)."""
    return node.resource_type in ("seed", "snapshot") or (node.materialized or "") in PERSISTED


class Issue(NamedTuple):
    """What a rule reports; the engine adds id, category, severity and hint."""

    node: str
    message: str
    evidence: dict[str, Any]


@dataclass(slots=True)
class Note:
    """Something the check could not see: on one node (SQL it cannot parse, a table it cannot query)
    or, with `node` None, on the whole run (no compiled SQL at all, an `--empty` build)."""

    node: str | None
    message: str


@dataclass
class Context:
    """Everything a rule may read; computed once per check and shared by all rules."""

    manifest: Manifest
    lineage: Lineage
    policies: dict[str, NodePolicy]
    sql: dict[str, ModelSql]
    settings: Settings
    as_of: dt.date
    run_results: RunResults | None = None
    warehouse: Warehouse | None = None
    notes: list[Note] = field(default_factory=list)

    def node(self, unique_id: str) -> Node:
        """The manifest node."""
        return self.manifest.nodes[unique_id]

    def parents(self, unique_id: str) -> list[NodePolicy]:
        """Effective policies of the direct parents."""
        return self._parents[unique_id]

    @cached_property
    def _parents(self) -> dict[str, list[NodePolicy]]:
        # Several rules ask for the parents of every node: build each list once.
        policies = self.policies
        return {unique_id: [policies[parent] for parent in parents] for unique_id, parents in self.lineage.parents.items()}

    def models(self) -> list[tuple[Node, NodePolicy]]:
        """Models and snapshots with their effective policy, parents first."""
        return self._models

    @cached_property
    def _models(self) -> list[tuple[Node, NodePolicy]]:
        # Most rules walk the models; collect them once.
        nodes = self.manifest.nodes
        return [(nodes[unique_id], self.policies[unique_id]) for unique_id in self.lineage.order if nodes[unique_id].resource_type in MODEL_TYPES]

    def exposures(self) -> list[tuple[Node, NodePolicy]]:
        """Exposures (dashboards, notebooks, apps: consumers of the models they depend on) with their effective policy."""
        return self._exposures

    @cached_property
    def _exposures(self) -> list[tuple[Node, NodePolicy]]:
        nodes = self.manifest.nodes
        return [(nodes[unique_id], self.policies[unique_id]) for unique_id in self.lineage.order if nodes[unique_id].resource_type == "exposure"]

    @cached_property
    def meetings(self) -> dict[str, frozenset[str]]:
        """unique_id -> departments that meet there, for the models and exposures where departments are combined."""
        found = {}
        for node, policy in self.models() + self.exposures():
            departments = meeting_departments(policy, self.parents(node.unique_id))
            if departments:
                found[node.unique_id] = departments
        return found

    def join_columns(self, columns: Iterable[NodeColumn]) -> set[NodeColumn]:
        """A join's compared columns, `*` (a set operation over `select *`) expanded to the node's
        classed columns."""
        found: set[NodeColumn] = set()
        for node, name, via in columns:
            if name == "*":
                found.update((node, column, via) for column in self.policies[node].columns)
            else:
                found.add((node, name, via))
        return found

    @cached_property
    def tests_by_node(self) -> dict[str, list[DataTest]]:
        """The privacy_guard generic tests attached to each node."""
        attached: dict[str, list[DataTest]] = {}
        for test in self.manifest.tests:
            if test.namespace == PACKAGE and test.attached_node:
                attached.setdefault(test.attached_node, []).append(test)
        return attached


#: A rule's check: `check(context, **parameters)`; its keyword-only parameters (typed, with defaults)
#: are what `vars.privacy_guard.rules.<id>` may set.
Check = Callable[..., Iterable[Issue]]


@dataclass(frozen=True, slots=True)
class AtLeast:
    """`Annotated[int, AtLeast(1)]`: the smallest value a rule parameter accepts."""

    minimum: float


def declared_parameters(check: Check) -> tuple[RuleParameter, ...]:
    """The parameters of a check function after `context`: keyword-only, annotated int/float/bool/str
    (optionally `Annotated[..., AtLeast(n)]`), with a default. TypeError for anything else: a
    parameter users cannot set safely is a bug of the rule, found when it is registered."""
    hints = get_type_hints(check, include_extras=True)
    found = []
    for position, parameter in enumerate(inspect.signature(check).parameters.values()):
        if position == 0:
            continue  # the context
        hint, minimum = hints.get(parameter.name), None
        if get_origin(hint) is Annotated:
            hint, *extras = get_args(hint)
            minimum = next((extra.minimum for extra in extras if isinstance(extra, AtLeast)), None)
        if parameter.kind is not inspect.Parameter.KEYWORD_ONLY or parameter.default is inspect.Parameter.empty or hint not in (int, float, bool, str):
            raise TypeError(f"rule {check.__name__}: parameter {parameter.name} must be keyword-only, typed int/float/bool/str, with a default")
        found.append(RuleParameter(parameter.name, hint, parameter.default, minimum))
    return tuple(found)


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule: its id is also its category (the snake_case name users filter on)."""

    id: str
    severity: str
    summary: str
    hint: str
    check: Check
    #: The input it needs beyond the manifest: "run_results", "database" or None.
    requires: str | None = None
    #: Severity under `vars.privacy_guard.enforce: true` (None: the same as without).
    enforce_severity: str | None = None
    #: A rule about combining departments: its findings flag the lineage edges into their node.
    join_rule: bool = False
    #: What `vars.privacy_guard.rules.<id>` may set besides enabled and severity (from the check's signature).
    parameters: tuple[RuleParameter, ...] = ()

    def severity_in(self, settings: Settings) -> str:
        """The severity this rule reports at under `settings`: the user's override, else enforce mode's, else its own."""
        return settings.rule(self.id).severity or (self.enforce_severity if settings.enforce and self.enforce_severity else self.severity)

    def run(self, context: Context) -> Iterable[Issue]:
        """The rule's issues, with the parameters the project set (validated by settings) over the signature's defaults."""
        return self.check(context, **context.settings.rule(self.id).parameters)

    @property
    def category(self) -> str:
        """Categories and ids are one vocabulary, so a finding's category names the rule that made it."""
        return self.id


REGISTRY: dict[str, Rule] = {}


def rule(
    rule_id: str,
    *,
    severity: str = "error",
    summary: str,
    hint: str,
    requires: str | None = None,
    enforce_severity: str | None = None,
    join_rule: bool = False,
) -> Callable[[Check], Check]:
    """Register the decorated check function as rule `rule_id`."""

    def register(check: Check) -> Check:
        if rule_id in REGISTRY:
            raise ValueError(f"rule {rule_id} registered twice")
        REGISTRY[rule_id] = Rule(rule_id, severity, summary, hint, check, requires, enforce_severity, join_rule, declared_parameters(check))
        return check

    return register


def node_label(context: Context, unique_id: str) -> str:
    """`resource_type name` for messages (the unique_id is in the finding's node field)."""
    node = context.node(unique_id)
    return f"{node.resource_type} {node.name}"
