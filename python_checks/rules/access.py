"""Access review: the roles a node's grants reach, against the roles its policy allows.

Allowed roles are the node's `privacy.roles`, narrowed by those of its upstream nodes and of the
agreement it cites (data combined under an agreement stays within the agreement's roles, however
many models later). Grants come from dbt's `grants` config, `grant` statements in post-hooks and, when the check is given a
warehouse that can list them (`Warehouse.grants`), from the warehouse itself: both go through
`compare_grants`, so a new grants source needs no new rule.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from python_checks.policy import SENSITIVITY_ORDER
from python_checks.rules.base import Context, Issue, node_label, rule

#: Nodes whose relations can carry grants.
GRANTABLE = frozenset({"model", "seed", "snapshot", "source"})
#: `grant <privileges> on <anything, e.g. {{ this }}> to <roles>` in a hook: access that skips the `grants` config.
_GRANT_SQL = re.compile(r"\bgrant\s+(?P<privileges>[a-z_,\s]+?)\s+on\s+.+?\s+to\s+(?P<roles>[\w\"\s,]+?)\s*(?:\bwith\b|;|\{|$)", re.IGNORECASE | re.DOTALL)


def hook_grants(hooks: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """privilege -> roles granted by `grant ... to ...` statements in hook SQL."""
    found: dict[str, set[str]] = {}
    for sql in hooks:
        for match in _GRANT_SQL.finditer(sql):
            roles = [role.strip().strip('"') for role in match["roles"].split(",")]
            for privilege in match["privileges"].split(","):
                found.setdefault(" ".join(privilege.split()).lower(), set()).update(role for role in roles if role)
    return {privilege: tuple(sorted(roles)) for privilege, roles in found.items()}


@dataclass(frozen=True, slots=True)
class AccessReview:
    """What one set of grants gives that the policy does not allow: role -> privileges, sorted."""

    #: Roles outside the allowed roles (privilege creep).
    not_allowed: dict[str, list[str]] = field(default_factory=dict)
    #: Broad roles (everyone) granted a node too sensitive for them.
    broad: dict[str, list[str]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.not_allowed or self.broad)


def compare_grants(allowed: frozenset[str] | None, granted: Mapping[str, Iterable[str]], broad_roles: frozenset[str], too_sensitive_for_broad: bool) -> AccessReview:
    """Compare one node's grants (privilege -> roles) with its allowed roles (None: the policy names
    none) and the broad roles. Role names compare case-insensitively (the warehouse folds them)."""
    if not granted:
        return AccessReview()  # most nodes: no grants to review
    by_role: dict[str, set[str]] = {}
    for privilege, roles in granted.items():
        for role in roles:
            # `+select` in dbt config adds to inherited grants: the privilege is still select.
            by_role.setdefault(role.lower(), set()).add(privilege.lower().lstrip("+"))
    broad = {role: sorted(privileges) for role, privileges in sorted(by_role.items()) if too_sensitive_for_broad and role in broad_roles}
    not_allowed = {
        role: sorted(privileges) for role, privileges in sorted(by_role.items()) if allowed is not None and role not in allowed and role not in broad
    }
    return AccessReview(not_allowed, broad)


def allowed_roles(context: Context) -> dict[str, frozenset[str] | None]:
    """unique_id -> the roles allowed to read it (lower case), None where no policy along its lineage names any."""
    allowed: dict[str, frozenset[str] | None] = {}
    for unique_id in context.lineage.order:
        declared = context.policies[unique_id].declared
        limits = [found for parent in context.lineage.parents[unique_id] if (found := allowed.get(parent)) is not None]
        if declared.get("roles") is not None:
            limits.append(frozenset(role.lower() for role in declared["roles"]))
        agreement = context.settings.agreements.get(declared.get("agreement") or "")
        if agreement is not None and agreement.roles is not None:
            limits.append(frozenset(role.lower() for role in agreement.roles))
        allowed[unique_id] = frozenset.intersection(*limits) if limits else None
    return allowed


def _describe(review: AccessReview, where: str) -> list[str]:
    parts = [f"{role} ({', '.join(privileges)}) is not an allowed role" for role, privileges in review.not_allowed.items()]
    parts += [f"broad role {role} ({', '.join(privileges)}) may not read it" for role, privileges in review.broad.items()]
    return [f"{part} [{where}]" for part in parts]


@rule(
    "access_review",
    summary="A node is granted to a role its policy does not allow (privacy.roles, upstream roles, its agreement's roles), or a node at vars.privacy_guard.access.broad_sensitivity is granted to a broad role (public).",
    hint="Grant only the allowed roles (dbt `grants` config, and revoke what the warehouse grants besides), or widen privacy.roles / the agreement's roles after review.",
)
def access_review(context: Context) -> Iterator[Issue]:
    """One finding per node, naming each excess role and where the grant was seen (dbt config or warehouse)."""
    settings = context.settings
    nodes = context.manifest.nodes
    # Only nodes with grants to review: most have none, and a project without any (no grants
    # config, no grant hooks, no warehouse to ask) needs no allowed roles either.
    granted = [
        unique_id
        for unique_id in context.lineage.order
        if nodes[unique_id].resource_type in GRANTABLE and (context.warehouse is not None or nodes[unique_id].grants or nodes[unique_id].post_hooks)
    ]
    if not granted:
        return
    allowed = allowed_roles(context)
    floor = SENSITIVITY_ORDER.index(settings.broad_sensitivity)
    for unique_id in granted:
        node, policy = nodes[unique_id], context.policies[unique_id]
        too_sensitive = policy.sensitivity is not None and SENSITIVITY_ORDER.index(policy.sensitivity) >= floor
        sources = {"dbt grants config": node.grants, "post-hook": hook_grants(node.post_hooks)}
        if context.warehouse is not None and (warehouse_grants := context.warehouse.grants(node)) is not None:
            sources["warehouse"] = warehouse_grants
        reviews = {where: review for where, granted in sources.items() if (review := compare_grants(allowed[unique_id], granted, settings.broad_roles, too_sensitive))}
        if reviews:
            roles = allowed[unique_id]
            yield Issue(
                unique_id,
                f"{node_label(context, unique_id)}: " + "; ".join(part for where, review in reviews.items() for part in _describe(review, where)),
                {
                    "allowed_roles": sorted(roles) if roles is not None else None,
                    "sensitivity": policy.sensitivity,
                    **{where: {"not_allowed": review.not_allowed, "broad": review.broad} for where, review in reviews.items()},
                },
            )
