"""Rules about direct identifiers reaching models unprotected, judged column by column."""

from __future__ import annotations

from collections.abc import Iterator

from python_checks.policy import PSEUDONYMIZED
from python_checks.rules.base import PACKAGE, Context, Issue, node_label, rule
from python_checks.sql_model import RAW, UNKEYED_HASH

PSEUDONYMIZE_MACRO = f"macro.{PACKAGE}.pseudonymize"


def _pseudonymized_lineage(context: Context) -> dict[str, bool]:
    """unique_id -> whether the node or any ancestor calls privacy_guard.pseudonymize (one pass).

    Only for models whose SQL was not analysed: with SQL, each column is judged on its own."""
    found: dict[str, bool] = {}
    nodes, parents = context.manifest.nodes, context.lineage.parents
    for unique_id in context.lineage.order:
        found[unique_id] = PSEUDONYMIZE_MACRO in nodes[unique_id].macros or any(map(found.__getitem__, parents[unique_id]))
    return found


def _false_pseudonyms(context: Context, unique_id: str) -> tuple[list[str], list[str]]:
    """Output columns the compiled SQL computes from a raw direct identifier without the keyed
    pseudonymize UDF: (unkeyed hashes such as sha256(email), raw columns declared `pseudonymized`)."""
    sql = context.sql.get(unique_id)
    if sql is None or sql.note is not None:
        return [], []
    policies = context.policies
    # The parents' raw identifiers (each parent's list computed once): most models get none, and
    # then no output needs looking at; else each output is one set test, not a step per origin.
    raw = [(parent, name) for parent in context.lineage.parents[unique_id] for name in policies[parent].raw_identifiers()]
    if not raw:
        return [], []
    hashes = {(parent, name, UNKEYED_HASH) for parent, name in raw}
    raws = {(parent, name, RAW) for parent, name in raw}
    columns = policies[unique_id].columns
    hashed = [output for output, origins in sql.outputs.items() if not origins.isdisjoint(hashes)]
    declared_only = [
        output
        for output, origins in sql.outputs.items()
        if (column := columns.get(output)) is not None and column.protection == PSEUDONYMIZED and not origins.isdisjoint(raws) and output not in hashed
    ]
    return sorted(hashed), sorted(declared_only)


@rule(
    "unprotected_identifier",
    summary="A direct identifier reaches a model's output raw: not pseudonymized by privacy_guard.pseudonymize, not dropped, or only hashed without a key (md5/sha256/hash).",
    hint="Replace the identifier with {{ privacy_guard.pseudonymize('<column>') }} (and mark it `protection: pseudonymized`) or drop it with privacy_guard.drop_direct_identifiers; an unkeyed hash is reversible by hashing a list of candidate values.",
)
def unprotected_identifier(context: Context) -> Iterator[Issue]:
    """Raw identifiers are reported at the first model they reach, not again below it; unkeyed
    hashes and raw columns declared `pseudonymized` at the model whose SQL computes them."""
    protected = _pseudonymized_lineage(context)
    exposed: dict[str, list[str]] = {}
    unread: set[str] = set()
    for node, policy in context.models():
        sql = context.sql.get(node.unique_id)
        if sql is None or sql.note is not None:
            unread.add(node.unique_id)
        exposed[node.unique_id] = [] if node.unique_id in unread and protected[node.unique_id] else policy.raw_identifiers()
    for unique_id, raw in exposed.items():
        hashed, declared_only = _false_pseudonyms(context, unique_id)
        parents_exposed = (exposed[parent_id] for parent_id in context.lineage.parents[unique_id] if parent_id in exposed)
        identifiers = set(raw).difference(*parents_exposed) | set(hashed) | set(declared_only)
        if not identifiers:
            continue
        evidence: dict[str, object] = {"columns": sorted(identifiers)}
        if unique_id in unread:
            evidence["basis"] = "column names and declared protection (SQL not analysed)"
        message = f"{node_label(context, unique_id)} exposes direct identifier {', '.join(sorted(identifiers))} unprotected"
        if hashed:
            evidence["unkeyed_hash"] = hashed
            message += f" ({', '.join(hashed)}: an unkeyed hash, reversible from a list of candidate values)"
        if declared_only:
            evidence["declared_pseudonymized_but_raw"] = declared_only
            message += f" ({', '.join(declared_only)}: declared pseudonymized, but the compiled SQL outputs the raw value)"
        yield Issue(unique_id, message, evidence)
