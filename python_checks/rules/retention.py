"""Rules about how long data may be kept: declared against upstream, and measured in the warehouse."""

from __future__ import annotations

from collections.abc import Iterator

from python_checks.policy import POLICY_TYPES
from python_checks.loader import Node
from python_checks.rules.base import PERSISTED, Context, Issue, Note, node_label, rule

#: Model materializations purge_expired deletes from (besides seeds and snapshots): never views or ephemeral models.
PURGED_MATERIALIZATIONS = frozenset({"table", "incremental"})


@rule(
    "retention_conflict",
    summary="A model keeps data longer than its upstream allows, or stores it without declaring a retention.",
    hint="Declare retention.days no longer than the shortest upstream retention (and a date_column so it can be enforced).",
)
def retention_conflict(context: Context) -> Iterator[Issue]:
    """Compares the model's own declaration with the minimum of its parents' effective retention."""
    for node, policy in context.models():
        upstream = [(parent.retention_days, parent.unique_id) for parent in context.parents(node.unique_id) if parent.retention_days is not None]
        if not upstream:
            continue
        limit = min(days for days, _ in upstream)
        declared = policy.declared_retention_days
        if (declared is None or declared <= limit) and (declared is not None or (node.materialized or "") not in PERSISTED):
            continue  # within its upstream's retention: no evidence to build
        limited_by = sorted(parent for days, parent in upstream if days == limit)
        evidence = {"declared_days": declared, "upstream_days": limit, "limited_by": limited_by}
        if declared is not None and declared > limit:
            yield Issue(node.unique_id, f"{node_label(context, node.unique_id)} declares {declared} days of retention but its upstream allows {limit}", evidence)
        elif declared is None and (node.materialized or "") in PERSISTED and node.resource_type != "snapshot":  # snapshot_without_retention
            yield Issue(node.unique_id, f"{node_label(context, node.unique_id)} stores data with a {limit}-day upstream retention but declares none", evidence)


@rule(
    "snapshot_without_retention",
    summary="A snapshot of personal data declares no retention with a date_column: its history outlives every upstream retention.",
    hint="Declare config.meta.privacy.retention {days, date_column} on the snapshot (e.g. date_column: dbt_valid_to) and purge or filter rows past it.",
)
def snapshot_without_retention(context: Context) -> Iterator[Issue]:
    """Static: a snapshot keeps every version of a row, so an inherited retention enforces nothing there."""
    for node, policy in context.models():
        if node.resource_type != "snapshot" or not policy.personal:
            continue
        retention = policy.declared.get("retention")
        if retention and retention.get("date_column"):
            continue
        missing = "date_column for its retention" if retention else "retention"
        yield Issue(
            node.unique_id,
            f"{node_label(context, node.unique_id)} keeps the history of personal data but declares no {missing}",
            {"declared_retention": retention, "upstream_days": policy.retention_days},
        )


@rule(
    "retention_expired",
    summary="Rows older than the effective retention are still in the warehouse (needs --database).",
    hint="Purge the expired rows (or filter them out of the model) and schedule the purge.",
    requires="database",
)
def retention_expired(context: Context) -> Iterator[Issue]:
    """Counts only: the expired rows themselves never leave the database."""
    assert context.warehouse is not None  # the engine runs this rule only with a database
    for unique_id in context.lineage.order:
        node, policy = context.node(unique_id), context.policies[unique_id]
        date_column = (policy.declared.get("retention") or {}).get("date_column")
        if node.resource_type not in POLICY_TYPES or date_column is None or policy.retention_days is None:
            continue
        counted = context.warehouse.expired_rows(node, date_column, policy.retention_days, context.as_of)
        if isinstance(counted, str):
            context.notes.append(Note(unique_id, f"retention not measured: {counted}"))
        elif counted[0]:
            purged = purged_by_purge_expired(node, context.settings.purge_sources)
            how = "purge_expired deletes them" if purged else "purge_expired leaves them (a view, or a source without purge.sources)"
            yield Issue(
                unique_id,
                f"{node_label(context, unique_id)} holds {counted[0]} of {counted[1]} rows older than {policy.retention_days} days; {how}",
                {"expired_rows": counted[0], "rows": counted[1], "retention_days": policy.retention_days, "date_column": date_column,
                 "as_of": context.as_of.isoformat(), "purged_by_purge_expired": purged},
            )


def purged_by_purge_expired(node: Node, purge_sources: bool) -> bool:
    """Whether `dbt run-operation privacy_guard.purge_expired` deletes from this node (macros/lifecycle/purge_expired.sql)."""
    if node.resource_type == "source":
        return purge_sources
    return node.resource_type in ("seed", "snapshot") or (node.materialized or "") in PURGED_MATERIALIZATIONS
