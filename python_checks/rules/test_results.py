"""What a failing privacy test found, from run_results (and its stored-failure table with --database).

dbt prints "Got N results"; this rule turns each failing privacy_guard test into a finding on the
model it tests: the measure and threshold, the quasi-identifiers / sensitive column it used, whether
it counted people (privacy_unit) or rows, the number of failing classes, and -- read from the
aggregate table `--store-failures` wrote -- the smallest class and the people or rows below the
threshold. The stored tables hold sizes and measures only, so no quasi-identifier value can reach
the finding.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from python_checks.loader import DataTest
from python_checks.policy import QUASI_IDENTIFIER
from python_checks.rules.base import Context, Issue, Note, node_label, rule
from python_checks.rules.testing import resolved_k, strength_of

#: The privacy tests this rule explains, each with its threshold argument and the column of its
#: stored-failure table that holds a failing class's (or cell's) size.
_EXPLAINED = {
    "k_anonymity": ("k", "class_size"),
    "l_diversity": ("l", "class_size"),
    "t_closeness": ("t", "class_size"),
    "min_cell_size": ("k", "cell_count"),
    "reidentification_risk": ("max_risk", "class_size"),
}
#: run_results statuses of a test that ran and found violations.
_FAILED = frozenset({"fail", "warn"})


def _evidence(context: Context, test: DataTest) -> dict[str, Any]:
    """Measure, threshold, QIs, sensitive column and counting unit, resolved as the test resolves them."""
    assert context.run_results is not None  # the engine runs this rule only with run results
    policy = context.policies[test.attached_node or ""]
    argument, _ = _EXPLAINED[test.name]
    strength = strength_of(context, test)
    unit = test.arguments.get("privacy_unit") or policy.privacy_unit
    if test.name == "min_cell_size" and test.arguments.get("cells") is None:
        unit = None  # it reads the aggregate's published counts, not people
    evidence: dict[str, Any] = {
        "test": test.unique_id,
        "test_name": test.name,
        "status": context.run_results[test.unique_id],
        "measure": argument,
        "threshold": _threshold(context, test, argument, strength.k or resolved_k(context, test, policy)),
        "counts": "people" if unit else "rows",
        "privacy_unit": unit,
        "failing_classes": context.run_results.failures.get(test.unique_id),
    }
    if test.name != "min_cell_size":
        evidence["quasi_identifiers"] = strength.quasi_identifiers or test.arguments.get("quasi_identifiers") or policy.columns_of(QUASI_IDENTIFIER)
    for key in ("sensitive_column", "sensitive_columns", "cells", "variant"):
        if test.arguments.get(key) is not None:
            evidence[key] = test.arguments[key]
    return evidence


def _threshold(context: Context, test: DataTest, argument: str, k: int | None) -> Any:
    """As `_resolve_threshold`: the argument, else the node's meta, else vars.privacy_guard.default_<key>."""
    if argument == "k":
        return k
    value = test.arguments.get(argument)
    declared = context.policies[test.attached_node or ""].declared
    if value is None:
        # max_risk lives in privacy.risk and defaults to 1/k (`_resolve_risk_thresholds`).
        value = (declared.get("risk") or {}).get(argument) if argument == "max_risk" else declared.get(argument)
    if value is None:
        value = {"l": context.settings.default_l, "t": context.settings.default_t, "max_risk": 1 / k if k else None}.get(argument)
    return value


def _stored(context: Context, test: DataTest, evidence: dict[str, Any]) -> None:
    """Add the smallest class and the people/rows below threshold from the stored-failure table."""
    assert context.run_results is not None
    relation = context.run_results.relations.get(test.unique_id)
    if context.warehouse is None or relation is None:
        return
    measured = context.warehouse.stored_failures(relation, _EXPLAINED[test.name][1])
    if isinstance(measured, str):
        context.notes.append(Note(test.attached_node, f"stored failures of {test.name} ({relation}) could not be read: {measured}"))
        return
    smallest, below = measured
    evidence["stored_failures"] = relation
    evidence["smallest_class"] = smallest
    evidence[f"{evidence['counts']}_in_failing_classes"] = below


def _message(context: Context, unique_id: str, evidence: dict[str, Any]) -> str:
    parts = [f"{evidence['measure']}={evidence['threshold']}"]
    if evidence.get("quasi_identifiers"):
        parts.append(f"quasi-identifiers {', '.join(evidence['quasi_identifiers'])}")
    if evidence.get("failing_classes") is not None:
        parts.append(f"failing classes: {evidence['failing_classes']} (counted in {evidence['counts']})")
    if "smallest_class" in evidence:
        exposed = evidence[f"{evidence['counts']}_in_failing_classes"]
        parts.append(f"smallest class: {evidence['smallest_class']} {evidence['counts']}; {exposed} {evidence['counts']} in failing classes")
    return f"{node_label(context, unique_id)}: its {evidence['test_name']} test failed ({'; '.join(parts)})"


@rule(
    "privacy_test_failed",
    summary="A privacy_guard test (k_anonymity, l_diversity, t_closeness, min_cell_size, reidentification_risk) failed in the last run (needs --run-results; --database adds the smallest class from its stored failures).",
    hint="Generalize or suppress the small classes (privacy_guard.generalize_*, suppress_small_groups) or drop a quasi-identifier, then rebuild; run tests with --store-failures and pass --database to see the smallest class.",
    requires="run_results",
)
def privacy_test_failed(context: Context) -> Iterator[Issue]:
    """One finding per failing privacy test, on the model it tests."""
    assert context.run_results is not None
    for unique_id in context.lineage.order:
        for test in context.tests_by_node.get(unique_id, ()):
            if test.name not in _EXPLAINED or context.run_results.get(test.unique_id) not in _FAILED:
                continue
            evidence = _evidence(context, test)
            _stored(context, test, evidence)
            yield Issue(unique_id, _message(context, unique_id, evidence), evidence)
