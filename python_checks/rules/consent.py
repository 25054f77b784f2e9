"""Rules about what the data may be used for: a purpose where it matters, within consent and agreements, and data minimization.

Exposures (dashboards, notebooks, apps) are consumers: their `privacy.purpose` is checked like a
model's, against the consent and the agreements of what they read.
"""

from __future__ import annotations

from collections.abc import Iterator

from python_checks.loader import Node
from python_checks.policy import PERSONAL_CLASSES, NodePolicy
from python_checks.rules.base import Context, Issue, node_label, rule, stores_data


@rule(
    "consent_violation",
    summary="A model's declared purpose is not in the consent of the personal data it reads.",
    hint="Serve a purpose the data subjects agreed to, drop the inputs whose consent lacks it, or record the new consent upstream.",
)
def consent_violation(context: Context) -> Iterator[Issue]:
    """Against the parents' effective consent: a model cannot widen consent by declaring its own."""
    for node, policy in context.models() + context.exposures():
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


def _purpose_needed(context: Context, node: Node, policy: NodePolicy) -> str | None:
    """Why this personal node must state a purpose, or None (cheapest tests first: most nodes need none)."""
    unique_id = node.unique_id
    if unique_id in context.meetings:
        return f"combines {', '.join(sorted(context.meetings[unique_id]))}"
    if policy.consent is None:
        return None
    if node.resource_type == "exposure":
        verb = "reads"
    elif not stores_data(node):
        return None
    elif all(context.manifest.nodes[parent].resource_type in ("source", "seed") for parent in context.lineage.parents[unique_id]):
        return None  # staging: stores under its collection consent
    else:
        verb = "stores"
    return f"{verb} personal data consented for {', '.join(sorted(policy.consent)) or 'no purpose'}"


@rule(
    "missing_purpose",
    summary="A node that combines departments, stores consented personal data below the staging layer, or exposes it, has no purpose (declared or inherited).",
    hint="Declare config.meta.privacy.purpose (on an exposure: meta.privacy.purpose): the consent and agreement checks need it.",
)
def missing_purpose(context: Context) -> Iterator[Issue]:
    """Without a purpose the consent and agreement checks have nothing to check: leaving it out must not pass.

    A staging model (every parent a source or seed) stores data under its collection consent and
    is not asked; the models and exposures that use it are.
    """
    for node, policy in context.models() + context.exposures():
        if policy.purpose is not None or not policy.personal:
            continue
        reason = _purpose_needed(context, node, policy)
        if reason is not None:
            yield Issue(
                node.unique_id,
                f"{node_label(context, node.unique_id)} {reason} but serves no declared purpose",
                {"consent": sorted(policy.consent) if policy.consent is not None else None, "meeting_departments": sorted(context.meetings.get(node.unique_id, ()))},
            )


def _agreements_above(context: Context) -> dict[str, dict[str, str]]:
    """unique_id -> {agreement id: a meeting point above citing it (the first by unique_id)} for every node below one.

    One pass parents-first, keyed by agreement (a project has few), so neither a walk per meeting
    point nor a map of every meeting point above a node grows with the project; a node with one
    such parent shares its dict.
    """
    cited = {
        meeting: agreement
        for meeting in context.meetings
        if (agreement := context.policies[meeting].declared.get("agreement")) in context.settings.agreements
    }
    if not cited:
        return {}
    above: dict[str, dict[str, str]] = {}
    carried: dict[str, dict[str, str]] = {}  # what a node passes on: its own `above` plus its own citation
    for unique_id in context.lineage.order:
        inherited = [carried[parent] for parent in context.lineage.parents[unique_id] if parent in carried]
        found: dict[str, str] = inherited[0] if len(inherited) == 1 else {}
        if len(inherited) > 1:
            for mapping in inherited:
                for agreement, meeting in mapping.items():
                    found[agreement] = min(found.get(agreement, meeting), meeting)  # the same answer whatever the parents' order
        if found:
            above[unique_id] = found
        if unique_id in cited:
            found = {**found, cited[unique_id]: unique_id}
        if found:
            carried[unique_id] = found
    return above


@rule(
    "purpose_laundering",
    summary="A node below a meeting point declares a purpose that the agreement the data was combined under does not allow.",
    hint="Serve one of the agreement's purposes, or combine the data for the new purpose under an agreement that lists it.",
)
def purpose_laundering(context: Context) -> Iterator[Issue]:
    """A `select *` of an agreed model, re-declared for another purpose, is checked against the agreement upstream.

    A second meeting point below the first is checked too: joining a third department and citing a
    new agreement does not free the first combination from the purposes it was agreed for.
    """
    for unique_id, agreements in _agreements_above(context).items():
        node, policy = context.node(unique_id), context.policies[unique_id]
        purpose = policy.declared.get("purpose")
        if purpose is None:
            continue  # an inherited purpose was checked where it was declared
        outside = {
            agreement_id: meeting
            for agreement_id, meeting in sorted(agreements.items())
            if (purposes := context.settings.agreements[agreement_id].purposes) is not None and purpose not in purposes
        }
        if outside:
            yield Issue(
                node.unique_id,
                f"{node_label(context, node.unique_id)} serves purpose {purpose!r}, which agreement "
                + ", ".join(f"{agreement_id} (of {context.node(meeting).name})" for agreement_id, meeting in outside.items())
                + " does not allow",
                {"purpose": purpose, "agreements": outside},
            )


@rule(
    "data_minimization",
    summary="A model exposes a column class its purpose may not use (vars.privacy_guard.purposes).",
    hint="Drop or aggregate the columns of the classes the purpose does not allow, or change the purpose.",
)
def data_minimization(context: Context) -> Iterator[Issue]:
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
