"""Rules about privacy tests: present where QIs are exposed, and passing before data is combined."""

from __future__ import annotations

from collections.abc import Iterator

from python_checks.policy import QUASI_IDENTIFIER
from python_checks.rules.base import GROUP_SIZE_TESTS, Context, Issue, node_label, rule


@rule(
    "missing_privacy_test",
    severity="warning",
    summary="A de-identified model exposing quasi-identifiers has no privacy_guard.k_anonymity (or, for aggregates, min_cell_size) test.",
    hint="Add `- privacy_guard.k_anonymity` to the model's data_tests (k and the QIs default from its meta).",
)
def missing_privacy_test(context: Context, threshold: float | None) -> Iterator[Issue]:
    """Looks at test nodes' test_metadata (name + namespace), not at test names users can change.

    A model that still holds raw direct identifiers is identified data, not a release: group sizes
    over its quasi-identifiers protect nobody there, and unprotected_identifier /
    direct_identifier_join already report it.
    """
    for node, policy in context.models():
        quasi_identifiers = policy.columns_of(QUASI_IDENTIFIER)
        if not quasi_identifiers or policy.raw_identifiers():
            continue
        tested = any(test.name in GROUP_SIZE_TESTS for test in context.tests_by_node.get(node.unique_id, ()))
        if not tested:
            yield Issue(
                node.unique_id,
                f"{node_label(context, node.unique_id)} exposes quasi-identifiers {', '.join(quasi_identifiers)} without a k_anonymity test",
                {"quasi_identifiers": quasi_identifiers},
            )


@rule(
    "unvalidated_input",
    summary="An input of a cross-department model has privacy tests that did not pass, or none that ran (needs --run-results).",
    hint="Attach privacy_guard tests (k_anonymity, no_direct_identifiers, ...) to the input and make them pass before the combined model builds.",
    requires="run_results",
)
def unvalidated_input(context: Context, threshold: float | None) -> Iterator[Issue]:
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
