"""The check as an API: `run_check(...) -> CheckReport`, which the CLI and the docs site share.

One pass: load the artifacts, build the lineage, analyse each model's SQL, propagate the policy
parents-first, run the enabled rules. In pull-request mode (`state=`) the base manifest goes
through the same pass and only what is new is reported.
"""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from python_checks import __version__
from python_checks.findings import SEVERITIES, Finding, severity_rank
from python_checks.graph import Lineage
from python_checks.loader import EMPTY_RUN, ArtifactError, Manifest, load_catalog, load_manifest, load_run_results
from python_checks.policy import DIRECT_IDENTIFIER, QUASI_IDENTIFIER, NodePolicy, propagate
from python_checks.rules import REGISTRY, Context, Note, Rule
from python_checks.rules.waivers import active_waiver
from python_checks.rules.warehouse import Warehouse
from python_checks.settings import Settings, default_project_dir, load_settings
from python_checks.sql_joins import ModelSql, RelationIndex, analyze, dialect_for
from python_checks.state import compare_with_base

#: Findings of these rules mark the edges into their node as flagged (the risky combinations).
JOIN_RULES = frozenset({"cross_department_join", "quasi_identifier_linkage", "direct_identifier_join"})
DOCUMENT_VERSION = 1


def rules() -> list[Rule]:
    """Every rule, by id."""
    return [REGISTRY[rule_id] for rule_id in sorted(REGISTRY)]


@dataclass(frozen=True, slots=True)
class CheckOptions:
    """The inputs of one check besides the manifest."""

    catalog: Path | None = None
    run_results: Path | None = None
    database: Path | None = None
    sql: bool = True


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
    #: Findings a valid `privacy.waivers` entry silences (each with its waiver); they never fail a run.
    waived: list[Finding] = field(default_factory=list)

    def edges(self) -> list[dict[str, Any]]:
        """Every lineage edge, with whether it crosses departments, its join columns and whether it is flagged."""
        flagged_targets = {finding.node for finding in self.findings if finding.rule in JOIN_RULES}
        edges = []
        for source, target in self.lineage.edges():
            crossing = target in self.meetings and self.policies[source].personal and bool(self.policies[source].departments)
            sql = self.sql.get(target)
            columns = sorted({column for join in (sql.joins if sql else ()) for node, column in join.columns if node == source})
            edges.append(
                {
                    "source": source,
                    "target": target,
                    "cross_department": crossing,
                    "join_columns": columns,
                    "flagged": crossing and target in flagged_targets,
                }
            )
        return edges


def _analyse_sql(manifest: Manifest, lineage: Lineage) -> dict[str, ModelSql]:
    dialect = dialect_for(manifest.adapter_type)
    analysed: dict[str, ModelSql] = {}
    for unique_id, node in manifest.nodes.items():
        if node.resource_type not in ("model", "snapshot") or not node.compiled_code:
            continue
        parents = [manifest.nodes[parent] for parent in lineage.parents[unique_id]]
        index = RelationIndex(
            (p.unique_id, p.relation_name, (p.database, p.schema, p.identifier), p.materialized == "ephemeral", p.name) for p in parents
        )
        analysed[unique_id] = index.resolve(analyze(node.compiled_code, dialect))
    return analysed


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    # The check allocates millions of small objects and frees almost none before it ends, so the
    # cyclic collector's passes find nothing and cost ~40% of the run on a large manifest.
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def analyse(manifest_path: Path, options: CheckOptions, settings: Settings, as_of: dt.date) -> Analysis:
    """Run every enabled rule whose inputs are available over one manifest."""
    with _no_cyclic_gc():
        return _analyse(manifest_path, options, settings, as_of)


def _analyse(manifest_path: Path, options: CheckOptions, settings: Settings, as_of: dt.date) -> Analysis:
    manifest = load_manifest(manifest_path)
    if options.catalog is not None:
        load_catalog(options.catalog, manifest)
    run_results = load_run_results(options.run_results) if options.run_results is not None else None
    lineage = Lineage(manifest)
    sql = _analyse_sql(manifest, lineage) if options.sql else {}
    policies = propagate(manifest, lineage, settings, sql)
    warehouse = Warehouse(options.database) if options.database is not None else None
    context = Context(manifest, lineage, policies, sql, settings, as_of, run_results, warehouse)
    context.notes.extend(Note(unique_id, model.note) for unique_id, model in sql.items() if model.note)
    if run_results is not None and EMPTY_RUN in run_results.values():
        context.notes.append(Note(None, "run_results come from `dbt build --empty`: tests ran on no rows, so none counts as passed"))
    findings: list[Finding] = []
    status: dict[str, str] = {}
    try:
        for rule in rules():
            setting = settings.rule(rule.id)
            available = {"run_results": run_results is not None, "database": warehouse is not None}
            if not setting.enabled:
                status[rule.id] = "disabled"
                continue
            if rule.requires and not available[rule.requires]:
                status[rule.id] = f"skipped: needs --{rule.requires.replace('_', '-')}"
                continue
            status[rule.id] = "ran"
            threshold = setting.threshold if setting.threshold is not None else rule.threshold
            severity = rule.severity_in(settings)
            findings.extend(
                Finding(rule.id, rule.category, severity, issue.node, issue.message, issue.evidence, rule.hint)
                for issue in rule.check(context, threshold)
            )
    finally:
        if warehouse is not None:
            warehouse.close()
    findings.sort(key=lambda f: (-severity_rank(f.severity), f.rule, f.node))
    active, waived = [], []
    for finding in findings:
        waiver = active_waiver(policies[finding.node].declared, finding.rule, as_of) if policies[finding.node].declared else None
        if waiver is None:
            active.append(finding)
        else:
            waived.append(replace(finding, waiver=waiver))
    return Analysis(manifest, settings, lineage, policies, sql, active, context.notes, context.meetings, status, waived)


@dataclass(slots=True)
class CheckReport:
    """The result of a check: what the formatters render and the exit code is computed from."""

    analysis: Analysis
    findings: list[Finding]
    #: The dbt project the paths in the manifest are relative to.
    project_dir: Path | None = None
    state: dict[str, Any] | None = None
    rules: list[Rule] = field(default_factory=rules)

    def exit_code(self, fail_on: str) -> int:
        """1 when a finding is at or above `fail_on` ('never' never fails), else 0."""
        if fail_on == "never":
            return 0
        return int(any(severity_rank(f.severity) >= severity_rank(fail_on) for f in self.findings))

    def summary(self) -> dict[str, Any]:
        """Counts by severity and by rule (every rule that ran, zeros included)."""
        by_severity = dict.fromkeys(reversed(SEVERITIES), 0)
        by_rule = {rule_id: 0 for rule_id, status in self.analysis.rule_status.items() if status == "ran"}
        for finding in self.findings:
            by_severity[finding.severity] += 1
            by_rule[finding.rule] = by_rule.get(finding.rule, 0) + 1
        return {
            "nodes": len(self.analysis.policies),
            "personal_nodes": sum(policy.personal for policy in self.analysis.policies.values()),
            "findings": len(self.findings),
            "waived": len(self.analysis.waived),
            "by_severity": by_severity,
            "by_rule": by_rule,
        }

    def node_entry(self, unique_id: str) -> dict[str, Any]:
        """One `nodes` entry of the JSON document: the node's effective policy."""
        node = self.analysis.manifest.nodes[unique_id]
        policy = self.analysis.policies[unique_id]
        return {
            "name": node.name,
            "resource_type": node.resource_type,
            "package": node.package,
            "original_file_path": node.original_file_path,
            "patch_path": node.patch_path,
            "personal": policy.personal,
            "declared": node.privacy if node.privacy is not None else {},
            "departments": sorted(policy.departments),
            "consent": sorted(policy.consent) if policy.consent is not None else None,
            "purpose": policy.purpose,
            "retention_days": policy.retention_days,
            "declared_retention_days": policy.declared_retention_days,
            "k": policy.k,
            "privacy_unit": policy.privacy_unit,
            "sensitivity": policy.sensitivity,
            "agreement": policy.declared.get("agreement"),
            "waivers": policy.declared.get("waivers") or [],
            "meeting_departments": sorted(self.analysis.meetings.get(unique_id, ())),
            "columns": {
                name: {"class": column.column_class, "hierarchy": column.hierarchy, "protection": column.protection}
                for name, column in sorted(policy.columns.items())
            },
            "quasi_identifiers": policy.columns_of(QUASI_IDENTIFIER),
            "direct_identifiers": policy.columns_of(DIRECT_IDENTIFIER),
            "parents": list(self.analysis.lineage.parents[unique_id]),
        }

    def to_document(self) -> dict[str, Any]:
        """The JSON document of `privacy-guard check --format json` (schema in ARCHITECTURE.md)."""
        manifest = self.analysis.manifest
        document: dict[str, Any] = {
            "version": DOCUMENT_VERSION,
            "tool": {"name": "privacy-guard", "version": __version__},
            "manifest": {
                "path": str(manifest.path),
                "schema_version": manifest.schema_version,
                "dbt_version": manifest.dbt_version,
                "adapter_type": manifest.adapter_type,
                "project_settings": str(self.analysis.settings.source) if self.analysis.settings.source else None,
            },
            "summary": self.summary(),
            "findings": [finding.to_dict() for finding in self.findings],
            "waived_findings": [finding.to_dict() for finding in self.analysis.waived],
            "rules": [
                {
                    "id": rule.id,
                    "category": rule.category,
                    "severity": rule.severity_in(self.analysis.settings),
                    "status": self.analysis.rule_status[rule.id],
                    "summary": rule.summary,
                    "hint": rule.hint,
                }
                for rule in self.rules
            ],
            "notes": [{"node": note.node, "message": note.message} for note in self.analysis.notes],
            "nodes": {unique_id: self.node_entry(unique_id) for unique_id in sorted(self.analysis.policies)},
            "edges": self.analysis.edges(),
        }
        if self.state is not None:
            document["state"] = self.state
        return document


def run_check(
    manifest: Path | str,
    *,
    project_dir: Path | str | None = None,
    catalog: Path | str | None = None,
    run_results: Path | str | None = None,
    database: Path | str | None = None,
    state: Path | str | None = None,
    sql: bool = True,
    as_of: dt.date | None = None,
) -> CheckReport:
    """Check one manifest (against a base manifest when `state` is given); raises ArtifactError on bad input."""
    manifest_path = Path(manifest)
    settings_dir = Path(project_dir) if project_dir is not None else default_project_dir(manifest_path)
    if not settings_dir.is_dir():
        raise ArtifactError(f"project dir {settings_dir}: not a directory")
    settings = load_settings(settings_dir, frozenset(REGISTRY))
    options = CheckOptions(
        catalog=_optional_path(catalog),
        run_results=_optional_path(run_results),
        database=_optional_path(database),
        sql=sql,
    )
    day = as_of or dt.date.today()
    current = analyse(manifest_path, options, settings, day)
    if state is None:
        return CheckReport(current, current.findings, settings_dir)
    new_findings, changes = compare_with_base(current, analyse(Path(state), options, settings, day))
    return CheckReport(current, new_findings, settings_dir, changes)


def _optional_path(value: Path | str | None) -> Path | None:
    return Path(value) if value is not None else None

