"""Rules about privacy tests: present where QIs are exposed, strong enough to fail, and passing before data is combined.

A privacy test counts for a verdict only when it could have failed: `strength_of` resolves a
test's k, l, t or risk bounds, quasi-identifiers and sensitive columns the way the Jinja helpers do
(`macros/_internal/_arguments.sql`: argument, else the tested node's policy -- k and the columns
inherited through the lineage, l and t its own meta --, else vars.privacy_guard) and lists why it
proves less than the checker needs. `weaknesses` are configurations under which the test cannot fail at all
(reported as weak_privacy_test); `limits` only keep it from clearing a finding.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache

from python_checks.loader import DataTest
from python_checks.policy import DIRECT_IDENTIFIER, QUASI_IDENTIFIER, SENSITIVE, NodePolicy
from python_checks.rules.base import GROUP_SIZE_TESTS, K_ANONYMITY, L_DIVERSITY, REIDENTIFICATION_RISK, T_CLOSENESS, Context, Issue, node_label, rule

_CONDITION = re.compile(r"^\s*(==|=|!=|<>|>=|<=|>|<)\s*(-?\d+(?:\.\d+)?)\s*$")
_COMPARE = {"==": operator.eq, "=": operator.eq, "!=": operator.ne, "<>": operator.ne, ">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt}
#: What dbt counts by default; any other fail_calc replaces the number of failing rows.
DEFAULT_FAIL_CALC = "count(*)"


@dataclass(slots=True)
class Strength:
    """What one privacy test proves about its node."""

    test: DataTest
    k: int | None = None
    quasi_identifiers: list[str] | None = None
    #: Why the test cannot fail (it is reported as weak_privacy_test and clears nothing).
    weaknesses: list[str] = field(default_factory=list)
    #: Why it proves less than the verdict needs (it clears nothing, but may be a fine test).
    limits: list[str] = field(default_factory=list)

    @property
    def reasons(self) -> list[str]:
        """Everything that keeps it from clearing a finding."""
        return self.weaknesses + self.limits


@lru_cache(maxsize=256)
def _triggers_on_one(condition: str) -> bool | None:
    """Whether dbt's warn_if/error_if condition is true for one failing row; None when it cannot be read."""
    match = _CONDITION.match(condition)
    if match is None:
        return None
    return bool(_COMPARE[match.group(1)](1, float(match.group(2))))


@lru_cache(maxsize=1024)
def _where_keeps(where: str) -> bool | None:
    """What a `where:` condition keeps: True every row, False none (false or NULL), None some or unknown."""
    import sqlglot  # only for privacy tests with a `where:`
    from sqlglot import exp
    from sqlglot.optimizer.simplify import simplify

    try:
        condition = sqlglot.parse_one(f"select 1 where {where}").args["where"].this
    except (sqlglot.errors.ParseError, sqlglot.errors.TokenError, KeyError, AttributeError):
        return None
    simplified = simplify(condition)
    if isinstance(simplified, exp.Null):
        return False
    return bool(simplified.this) if isinstance(simplified, exp.Boolean) else None


def is_release(context: Context, unique_id: str) -> bool:
    """Departments meet here, or an exposure reads it: a test here must stop the build, not warn."""
    nodes = context.manifest.nodes
    return unique_id in context.meetings or any(nodes[child].resource_type == "exposure" for child in context.lineage.children[unique_id])


def resolved_k(context: Context, test: DataTest, policy: NodePolicy) -> int | None:
    # As _resolve_threshold: the argument, else the tested node's effective k (the maximum along its
    # lineage, with or without a `where:`), else default_k.
    value = test.arguments.get("k")
    if value is None:
        value = policy.k if policy.k is not None else context.settings.default_k
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _resolved_columns(test: DataTest, policy: NodePolicy, argument: str, column_class: str) -> list[str] | None:
    """As _resolve_columns: the argument (a name or a list), else the node's effective columns of the class."""
    value = test.arguments.get(argument)
    if value is None:
        return policy.columns_of(column_class)
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        return None
    return sorted({name.strip('"').lower() for name in names})


#: Tests over classes of the quasi-identifiers: an argument that leaves a QI out merges classes.
_CLASS_TESTS = frozenset({K_ANONYMITY, L_DIVERSITY, T_CLOSENESS, REIDENTIFICATION_RISK})
#: Tests of a sensitive column's distribution: an argument that leaves one out measures it nowhere.
_DISTRIBUTION_TESTS = frozenset({L_DIVERSITY, T_CLOSENESS})


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _distribution_weaknesses(context: Context, test: DataTest, policy: NodePolicy, strength: Strength) -> None:
    """l and t as _resolve_threshold reads them: the argument, else the node's own meta, else the project default.

    An argument weaker than what the node would be tested at without it is a weakness, as k below the
    effective k: a failing test is silenced by editing its arguments, not the policy. So is a bound
    every class meets: distinct and entropy l are at least 1 in a class that holds anyone, and both t
    distances are at most 1. Recursive (c, l) has no such bound (its c is the threshold).
    """
    key, default = ("l", context.settings.default_l) if test.name == L_DIVERSITY else ("t", context.settings.default_t)
    own = _number(policy.declared.get(key))  # the contract validated it: a number, or absent
    expected = default if own is None else own
    argument = test.arguments.get(key)
    value = expected if argument is None else _number(argument)
    if value is None:
        strength.limits.append(f"{key} {argument!r} cannot be evaluated")
        return
    policy_bound = f"the project's default_{key} {expected:g}" if own is None else f"the node's {key} {expected:g}"
    if key == "l":
        if test.arguments.get("variant", "distinct") in ("distinct", "entropy") and value <= 1:
            strength.weaknesses.append(f"l: {value:g} holds for every class that holds anyone")
        elif value < expected:
            strength.weaknesses.append(f"l {value:g} is below {policy_bound}")
    elif value >= 1:
        strength.weaknesses.append(f"t: {value:g} holds for every table (a distance is at most 1)")
    elif value > expected:
        strength.weaknesses.append(f"t {value:g} is above {policy_bound}")


def _risk_weaknesses(context: Context, test: DataTest, policy: NodePolicy, strength: Strength) -> None:
    """Thresholds as _resolve_risk_thresholds reads them: each argument, else the node's `privacy.risk`, else the default.

    A record's risk is 1 / its class size, so max_risk 1 holds for every class that holds anyone,
    and max_records_at_risk 1 lets every record be at risk: either silences the record criterion,
    and the test cannot fail unless max_average_risk (at most 1 too) is checked below 1. An explicit
    threshold above the node's (max_risk default 1/k, max_records_at_risk default 0; an unset
    max_average_risk checks nothing) is weaker than the policy, as k below the effective k.
    """
    declared = policy.declared.get("risk") or {}
    k = resolved_k(context, test, policy)
    defaults = {"max_risk": 1 / k if k else None, "max_records_at_risk": 0.0, "max_average_risk": None}
    resolved: dict[str, float | None] = {}
    for name, default in defaults.items():
        own = _number(declared.get(name))  # the contract validated it: a number, or absent
        expected = default if own is None else own
        argument = test.arguments.get(name)
        value = expected if argument is None else _number(argument)
        if argument is not None and value is None:
            strength.limits.append(f"{name} {argument!r} cannot be evaluated")
        elif argument is not None and value is not None and expected is not None and value > expected:
            bound = f"the node's {name} {expected:g}" if own is not None else (f"1/k = {expected:g}" if name == "max_risk" else f"the default {expected:g}")
            strength.weaknesses.append(f"{name} {value:g} is above {bound}")
        resolved[name] = value
    max_risk, max_records_at_risk, average = resolved["max_risk"], resolved["max_records_at_risk"], resolved["max_average_risk"]
    silenced = []
    if max_risk is not None and max_risk >= 1:
        silenced.append(f"max_risk: {max_risk:g} holds for every class that holds anyone")
    if max_records_at_risk is not None and max_records_at_risk >= 1:
        silenced.append(f"max_records_at_risk: {max_records_at_risk:g} lets every record be at risk")
    if silenced and (average is None or average >= 1):
        strength.weaknesses.extend(silenced)


def _config_weaknesses(context: Context, test: DataTest, strength: Strength) -> None:
    config = test.config
    where = config.get("where")
    if where:
        keeps = _where_keeps(str(where))
        if keeps is False:
            strength.weaknesses.append(f"where: {where!r} filters out every row")
        elif keeps is None:
            strength.limits.append(f"where: {where!r} tests only part of the rows")
    if config.get("limit") == 0:
        strength.weaknesses.append("limit: 0 returns no failing row")
    fail_calc = str(config.get("fail_calc") or DEFAULT_FAIL_CALC)
    if fail_calc.replace(" ", "").lower() != DEFAULT_FAIL_CALC:
        strength.weaknesses.append(f"fail_calc: {fail_calc!r} replaces the count of failing rows")
    severity = str(config.get("severity") or "error").lower()
    key = "error_if" if severity == "error" else "warn_if"
    condition = config.get(key) or "!= 0"
    triggers = _triggers_on_one(str(condition))
    if triggers is False:
        strength.weaknesses.append(f"{key}: {condition!r} lets failing rows through")
    elif triggers is None:
        strength.limits.append(f"{key}: {condition!r} cannot be evaluated")
    if severity != "error" and test.attached_node is not None and is_release(context, test.attached_node):
        strength.weaknesses.append("severity: warn on a combined or exposed model, where a failure must stop the build")


def strength_of(context: Context, test: DataTest) -> Strength:
    """Resolve what `test` checks on its node and why it would not count."""
    strength = Strength(test)
    policy = context.policies.get(test.attached_node or "")
    if policy is None:
        return strength
    _config_weaknesses(context, test, strength)
    if test.name in GROUP_SIZE_TESTS:
        strength.k = resolved_k(context, test, policy)
        if strength.k is None:
            strength.limits.append(f"k {test.arguments.get('k')!r} cannot be evaluated")
        elif strength.k < 2:
            strength.weaknesses.append(f"k: {strength.k} holds for every table")
        elif policy.k is not None and strength.k < policy.k:
            strength.weaknesses.append(f"k {strength.k} is below the effective k {policy.k}")
    if test.name in _DISTRIBUTION_TESTS:
        _distribution_weaknesses(context, test, policy, strength)
        _subset_weakness(strength, "sensitive_column", _resolved_columns(test, policy, "sensitive_column", SENSITIVE), policy.columns_of(SENSITIVE), "leaves")
    if test.name == REIDENTIFICATION_RISK:
        _risk_weaknesses(context, test, policy, strength)
    if test.name in _CLASS_TESTS:
        strength.quasi_identifiers = _resolved_columns(test, policy, "quasi_identifiers", QUASI_IDENTIFIER)
        _subset_weakness(strength, "quasi_identifiers", strength.quasi_identifiers, policy.columns_of(QUASI_IDENTIFIER), "leave")
    if context.run_results is not None:
        status = context.run_results.get(test.unique_id, "not run")
        if status != "pass":
            strength.limits.append(f"did not pass ({status})")
    return strength


def _subset_weakness(strength: Strength, argument: str, tested: list[str] | None, declared: list[str], verb: str) -> None:
    """A columns argument that leaves out columns the node declares (or inherits) of that class."""
    if tested is None:
        strength.limits.append(f"{argument} cannot be evaluated")
        return
    missing = sorted(set(declared) - set(tested))
    if missing:
        strength.weaknesses.append(f"{argument} {verb} out {', '.join(missing)}")


def k_anonymity_clearance(context: Context, unique_id: str) -> tuple[bool, dict[str, list[str]]]:
    """Whether a k_anonymity test on the node proves k over every QI the checker sees, and why each other one does not."""
    refused: dict[str, list[str]] = {}
    for test in context.tests_by_node.get(unique_id, ()):
        if test.name != K_ANONYMITY:
            continue
        reasons = strength_of(context, test).reasons
        if not reasons:
            return True, {}
        refused[test.unique_id] = reasons
    return False, refused


def _staging(context: Context, unique_id: str, policy: NodePolicy) -> bool:
    """Keyed on pseudonyms only and released nowhere: the release below it carries the test."""
    return bool(policy.columns_of(DIRECT_IDENTIFIER)) and not is_release(context, unique_id)


@rule(
    "missing_privacy_test",
    severity="warning",
    summary="A de-identified model exposing quasi-identifiers has no privacy_guard.k_anonymity (or, for aggregates, min_cell_size) test.",
    hint="Add `- privacy_guard.k_anonymity` to the model's data_tests (k and the QIs default from its meta).",
)
def missing_privacy_test(context: Context) -> Iterator[Issue]:
    """Looks at test nodes' test_metadata (name + namespace), not at test names users can change.

    A model that still holds raw direct identifiers is identified data, not a release: group sizes
    over its quasi-identifiers protect nobody there, and unprotected_identifier /
    direct_identifier_join already report it. A model keyed on pseudonyms that is neither a
    meeting point nor read by an exposure is a staging step: the release below it is asked.
    A test that exists but cannot fail is weak_privacy_test's finding, not this one's.
    """
    for node, policy in context.models():
        quasi_identifiers = policy.columns_of(QUASI_IDENTIFIER)
        if not quasi_identifiers or policy.raw_identifiers() or _staging(context, node.unique_id, policy):
            continue
        tested = any(test.name in GROUP_SIZE_TESTS for test in context.tests_by_node.get(node.unique_id, ()))
        if not tested:
            yield Issue(
                node.unique_id,
                f"{node_label(context, node.unique_id)} exposes quasi-identifiers {', '.join(quasi_identifiers)} without a k_anonymity test",
                {"quasi_identifiers": quasi_identifiers},
            )


@rule(
    "weak_privacy_test",
    summary=(
        "A privacy test is configured so that it cannot fail, or fails less than the node's policy asks (where that filters every row, "
        "thresholds that let failures through, k or l below the node's, t or a risk bound above it, k < 2, l <= 1, t >= 1 or max_risk 1, "
        "a subset of the QIs or sensitive columns, severity warn where a failure must stop the build)."
    ),
    hint="Remove the `where:`/`limit`/`fail_calc`/`warn_if`/`error_if` override, drop a threshold argument weaker than the node's (change the meta, not the test), test every quasi-identifier and sensitive column, keep severity error on combined or exposed models.",
)
def weak_privacy_test(context: Context) -> Iterator[Issue]:
    """One finding per weak test, on the node it tests; the test clears nothing."""
    for unique_id in context.lineage.order:
        for test in context.tests_by_node.get(unique_id, ()):
            weaknesses = strength_of(context, test).weaknesses
            if weaknesses:
                yield Issue(
                    unique_id,
                    f"{node_label(context, unique_id)}: its {test.name} test cannot fail: {'; '.join(weaknesses)}",
                    {"test": test.unique_id, "test_name": test.name, "weaknesses": weaknesses},
                )


@rule(
    "unvalidated_input",
    summary="An input of a cross-department model has privacy tests that did not pass, or none that ran (needs --run-results).",
    hint="Attach privacy_guard tests (k_anonymity, no_direct_identifiers, ...) to the input and make them pass before the combined model builds.",
    requires="run_results",
)
def unvalidated_input(context: Context) -> Iterator[Issue]:
    """Reported on the input (once), naming the combined models that consume it."""
    assert context.run_results is not None  # the engine runs this rule only with run results
    consumers: dict[str, list[str]] = {}
    for unique_id in context.meetings:
        for parent in context.parents(unique_id):
            if parent.personal:
                consumers.setdefault(parent.unique_id, []).append(unique_id)
    for parent_id in context.lineage.order:
        if parent_id not in consumers:
            continue
        tests = context.tests_by_node.get(parent_id, [])
        statuses = {test.unique_id: context.run_results.get(test.unique_id, "not run") for test in tests}
        failing = {test: status for test, status in statuses.items() if status != "pass"}
        if tests and not failing:
            continue
        reason = "has no privacy test" if not tests else f"has privacy tests that did not pass ({', '.join(sorted(set(failing.values())))})"
        yield Issue(
            parent_id,
            f"{node_label(context, parent_id)} feeds cross-department {', '.join(context.node(c).name for c in consumers[parent_id])} but {reason}",
            {"consumers": consumers[parent_id], "tests": statuses},
        )
