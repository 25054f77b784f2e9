"""Rules about what the data may be used for: consented purposes and data minimization."""

from __future__ import annotations

from collections.abc import Iterator

from python_checks.policy import PERSONAL_CLASSES
from python_checks.rules.base import Context, Issue, node_label, rule


@rule(
    "consent_violation",
    summary="A model's declared purpose is not in the consent of the personal data it reads.",
    hint="Serve a purpose the data subjects agreed to, drop the inputs whose consent lacks it, or record the new consent upstream.",
)
def consent_violation(context: Context, threshold: float | None) -> Iterator[Issue]:
    """Against the parents' effective consent: a model cannot widen consent by declaring its own."""
    for node, policy in context.models():
        purpose = policy.declared.get("purpose")
        if purpose is None:
            continue
        declared = {parent.unique_id: parent.consent for parent in context.parents(node.unique_id) if parent.consent is not None}
        if not declared:
            continue
        allowed = frozenset.intersection(*declared.values())
        if purpose in allowed:
            continue
        lacking = sorted(context.node(parent).name for parent, consent in declared.items() if purpose not in consent)
        yield Issue(
            node.unique_id,
            f"{node_label(context, node.unique_id)} serves purpose {purpose!r}, which the consent of {', '.join(lacking)} does not include",
            {"purpose": purpose, "consent": sorted(allowed), "by_parent": {parent: sorted(consent) for parent, consent in declared.items()}},
        )


@rule(
    "data_minimization",
    summary="A model exposes a column class its purpose may not use (vars.privacy_guard.purposes).",
    hint="Drop or aggregate the columns of the classes the purpose does not allow, or change the purpose.",
)
def data_minimization(context: Context, threshold: float | None) -> Iterator[Issue]:
    """Only for purposes listed in vars.privacy_guard.purposes; pseudonymized identifiers still count as identifiers."""
    purposes = context.settings.purposes
    if purposes is None:
        return
    for node, policy in context.models():
        allowed = purposes.get(policy.purpose or "")
        if allowed is None:
            continue
        excess: dict[str, list[str]] = {}
        for name, column in sorted(policy.columns.items()):
            if column.column_class in PERSONAL_CLASSES and column.column_class not in allowed:
                excess.setdefault(column.column_class, []).append(name)
        if excess:
            yield Issue(
                node.unique_id,
                f"{node_label(context, node.unique_id)} serves {policy.purpose!r} but exposes {', '.join(sorted(excess))} columns",
                {"purpose": policy.purpose, "allowed": sorted(allowed), "columns": excess},
            )
