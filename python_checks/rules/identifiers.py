"""Rules about direct identifiers reaching models unprotected."""

from __future__ import annotations

from collections.abc import Iterator

from python_checks.rules.base import PACKAGE, Context, Issue, node_label, rule

PSEUDONYMIZE_MACRO = f"macro.{PACKAGE}.pseudonymize"


def _pseudonymized_lineage(context: Context) -> dict[str, bool]:
    """unique_id -> whether the node or any ancestor calls privacy_guard.pseudonymize (one pass)."""
    found: dict[str, bool] = {}
    nodes, parents = context.manifest.nodes, context.lineage.parents
    for unique_id in context.lineage.order:
        found[unique_id] = PSEUDONYMIZE_MACRO in nodes[unique_id].macros or any(map(found.__getitem__, parents[unique_id]))
    return found


@rule(
    "unprotected_identifier",
    summary="A direct identifier reaches a model with no privacy_guard.pseudonymize in its lineage.",
    hint="Replace the identifier with {{ privacy_guard.pseudonymize('<column>') }} (and mark it `protection: pseudonymized`) or drop it with privacy_guard.drop_direct_identifiers.",
)
def unprotected_identifier(context: Context, threshold: float | None) -> Iterator[Issue]:
    """Reported at the first model an identifier reaches, not again at every model below it."""
    protected = _pseudonymized_lineage(context)
    exposed = {node.unique_id: policy.raw_identifiers() for node, policy in context.models() if not protected[node.unique_id]}
    for unique_id, raw in exposed.items():
        if not raw:
            continue
        identifiers = set(raw).difference(*(exposed[parent_id] for parent_id in context.lineage.parents[unique_id] if parent_id in exposed))
        if identifiers:
            yield Issue(
                unique_id,
                f"{node_label(context, unique_id)} exposes direct identifier {', '.join(sorted(identifiers))} unprotected",
                {"columns": sorted(identifiers)},
            )
