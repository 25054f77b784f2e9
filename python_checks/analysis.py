"""One manifest checked (`Analysis`): what `check.analyse` computes and the report, pull-request
mode (`state`), the inventory and `init` read."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from python_checks.findings import Finding
from python_checks.graph import Lineage
from python_checks.loader import Manifest, RunResults
from python_checks.policy import NodePolicy
from python_checks.rules import REGISTRY, Note
from python_checks.settings import Settings
from python_checks.sql_model import ModelSql


@dataclass(slots=True)
class Analysis:
    """One manifest checked: effective policies, SQL analysis, findings and notes."""

    manifest: Manifest
    settings: Settings
    lineage: Lineage
    policies: dict[str, NodePolicy]
    sql: dict[str, ModelSql]
    findings: list[Finding]
    notes: list[Note]
    meetings: dict[str, frozenset[str]]
    rule_status: dict[str, str]
    #: The day expiry and retention were judged against (--as-of, else vars.privacy_guard.today, else
    #: today): the docs site and `agreements` state agreements as of the same day as the findings.
    as_of: dt.date
    #: Findings a valid `privacy.waivers` entry silences (each with its waiver); they never fail a run.
    waived: list[Finding] = field(default_factory=list)
    #: Models whose SQL was analysed in this run, i.e. not found in the on-disk cache.
    sql_analysed: int = 0
    #: The last run's results, when given (`--run-results`).
    run_results: RunResults | None = None
    #: Warehouse grants per node (unique_id -> role -> privileges), read with a database whose
    #: information_schema has role_table_grants (PostgreSQL); None when not read.
    grants: dict[str, dict[str, list[str]]] | None = None

    def edges(self) -> list[dict[str, Any]]:
        """Every lineage edge, with whether it crosses departments, its join columns and whether it is flagged."""
        flagged_targets = {finding.node for finding in self.findings if REGISTRY[finding.rule].join_rule}
        edges = []
        for target in self.lineage.order:
            # Each parent's compared columns, from one pass over the target's joins (not one per parent).
            compared: dict[str, set[str]] = {}
            sql = self.sql.get(target)
            for join in sql.joins if sql else ():
                for side in (join.left_columns, join.right_columns):
                    for node, column, _ in side:
                        compared.setdefault(node, set()).add(column)
            meets = target in self.meetings
            for source in self.lineage.parents[target]:
                crossing = meets and self.policies[source].personal and bool(self.policies[source].departments)
                edges.append(
                    {
                        "source": source,
                        "target": target,
                        "cross_department": crossing,
                        "join_columns": sorted(compared.get(source, ())),
                        "flagged": crossing and target in flagged_targets,
                    }
                )
        return edges
