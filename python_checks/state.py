"""Pull-request mode: what a change adds relative to a base manifest (like dbt's `state:modified`).

A reviewer wants the unexpected combinations a change introduces, not the backlog of findings
the project already had: a finding is new when no finding of the base has the same rule, node and
evidence; besides findings, new cross-department edges, newly combined quasi-identifiers and
widened retention are listed even when no rule fails on them.
"""

from __future__ import annotations

from typing import Any

from python_checks.analysis import Analysis
from python_checks.findings import Finding
from python_checks.policy import QUASI_IDENTIFIER


def _quasi_identifiers_at_meetings(analysis: Analysis) -> dict[str, set[str]]:
    return {node: set(analysis.policies[node].columns_of(QUASI_IDENTIFIER)) for node in analysis.meetings}


def compare_with_base(current: Analysis, base: Analysis) -> tuple[list[Finding], dict[str, Any]]:
    """The findings new relative to the base, and the changes a reviewer should see."""
    known = {finding.fingerprint() for finding in base.findings}
    new_findings = [finding for finding in current.findings if finding.fingerprint() not in known]
    base_edges = {(edge["source"], edge["target"]) for edge in base.edges() if edge["cross_department"]}
    new_edges = [edge for edge in current.edges() if edge["cross_department"] and (edge["source"], edge["target"]) not in base_edges]
    base_qis = _quasi_identifiers_at_meetings(base)
    combinations = [
        {"node": node, "added": sorted(qis - base_qis.get(node, set())), "quasi_identifiers": sorted(qis)}
        for node, qis in sorted(_quasi_identifiers_at_meetings(current).items())
        if qis - base_qis.get(node, set())
    ]
    widened = []
    for unique_id, policy in sorted(current.policies.items()):
        before = base.policies.get(unique_id)
        if before is None or before.retention_days is None:
            continue
        if policy.retention_days is None or policy.retention_days > before.retention_days:
            widened.append({"node": unique_id, "base_days": before.retention_days, "days": policy.retention_days})
    changes = {
        "base": str(base.manifest.path),
        "new_cross_department_edges": new_edges,
        "new_quasi_identifier_combinations": combinations,
        "widened_retention": widened,
        "unchanged_findings": len(current.findings) - len(new_findings),
    }
    return new_findings, changes
