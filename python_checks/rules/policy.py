"""Rules about the privacy blocks themselves: missing where personal data flows, or malformed."""

from __future__ import annotations

from collections.abc import Iterator

from python_checks.policy import POLICY_TYPES, NodePolicy
from python_checks.rules.base import Context, Issue, node_label, rule

#: The keys a personal node must have (declared or inherited), as the policy reports them.
REQUIRED_KEYS = ("department", "retention", "consent")


def _missing(policy: NodePolicy) -> set[str]:
    present = {"department": bool(policy.departments), "retention": policy.retention_days is not None, "consent": policy.consent is not None}
    return {key for key in REQUIRED_KEYS if not present[key]}


@rule(
    "missing_policy",
    summary="A node carrying personal data has no department, retention or consent (declared or inherited).",
    hint="Declare the missing keys under config.meta.privacy of this node (or of its upstream source/seed).",
)
def missing_policy(context: Context) -> Iterator[Issue]:
    """Reported where the gap starts: a node whose personal parents already miss a key is not blamed for it."""
    # What each personal node misses, computed once: a node is asked again by each of its children.
    gaps = {unique_id: _missing(policy) for unique_id, policy in context.policies.items() if policy.personal}
    for unique_id in context.lineage.order:
        missing = gaps.get(unique_id)
        if not missing or context.node(unique_id).resource_type not in POLICY_TYPES:
            continue
        missing = missing.difference(*(gaps[parent] for parent in context.lineage.parents[unique_id] if parent in gaps))
        if missing:
            keys = [key for key in REQUIRED_KEYS if key in missing]
            yield Issue(
                unique_id,
                f"{node_label(context, unique_id)} carries personal data but has no {', '.join(keys)}",
                {"missing": keys},
            )


@rule(
    "invalid_policy",
    summary="A privacy block in the manifest breaks the meta contract (wrong type, unknown key or value).",
    hint="Fix the key named in the message (`privacy-guard validate` lists every violation); the invalid key is ignored until then.",
)
def invalid_policy(context: Context) -> Iterator[Issue]:
    """One finding per node, listing all its violations."""
    for unique_id in context.lineage.order:
        errors = context.policies[unique_id].errors
        if errors:
            yield Issue(unique_id, f"{node_label(context, unique_id)} has invalid privacy meta: {errors[0]}", {"errors": errors})
