"""Waivers (`privacy.waivers`): an accepted finding with a reason, an approver and an expiry.

The engine (check.py) moves a finding that a valid waiver covers to the report's waived list;
this rule reports the waivers that silence nothing because they expired or name no rule.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from python_checks.rules.base import REGISTRY, Context, Issue, node_label, rule

INVALID_WAIVER = "invalid_waiver"


def waivers_of(declared: dict[str, Any]) -> list[dict[str, Any]]:
    """The node's valid waivers (an invalid `waivers` key is dropped by the contract check and reported as invalid_policy)."""
    return list(declared.get("waivers") or ())


def active_waiver(declared: dict[str, Any], rule_id: str, as_of: dt.date) -> dict[str, Any] | None:
    """The waiver that silences `rule_id` on this node on `as_of`, if any (invalid_waiver itself cannot be waived)."""
    if rule_id == INVALID_WAIVER:
        return None
    for waiver in waivers_of(declared):
        if waiver["rule"] == rule_id and dt.date.fromisoformat(waiver["expires"]) >= as_of:
            return waiver
    return None


@rule(
    INVALID_WAIVER,
    severity="warning",
    summary="A waiver silences nothing: it has expired or names a rule that does not exist (the finding it covered is reported again).",
    hint="Renew the waiver with a new expiry and approval, fix its rule id, or remove it and fix the finding.",
)
def invalid_waiver(context: Context) -> Iterator[Issue]:
    """One finding per such waiver, on the node that declares it."""
    policies = context.policies
    for unique_id in context.lineage.order:
        if "waivers" not in policies[unique_id].declared:
            continue  # almost every node: no list to build
        for waiver in waivers_of(policies[unique_id].declared):
            expires = dt.date.fromisoformat(waiver["expires"])
            if waiver["rule"] not in REGISTRY:
                problem = f"names unknown rule {waiver['rule']!r}"
            elif expires < context.as_of:
                problem = f"for {waiver['rule']} expired on {expires.isoformat()}"
            else:
                continue
            yield Issue(unique_id, f"{node_label(context, unique_id)}: waiver {problem}", {"waiver": waiver})
