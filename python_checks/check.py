"""The check as an API: `run_check(...) -> CheckReport`, which the CLI and the docs site share.

One pass: load the artifacts, build the lineage, analyse each model's SQL, propagate the policy
parents-first, run the enabled rules. In pull-request mode (`state=`) the base manifest goes
through the same pass and only what is new is reported.
"""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, replace
from functools import partial
from operator import attrgetter
from pathlib import Path
from typing import Any

from python_checks import __version__
from python_checks.analysis import Analysis
from python_checks.connections import DbtTarget
from python_checks.findings import SEVERITIES, Finding, severity_rank
from python_checks.graph import Lineage
from python_checks.loader import EMPTY_RUN, ArtifactError, Manifest, Node, load_catalog, load_manifest, load_run_results
from python_checks.policy import DIRECT_IDENTIFIER, POLICY_TYPES, QUASI_IDENTIFIER, ColumnPolicy, NodePolicy, Refine, propagate
from python_checks.rules import REGISTRY, Context, Note, Rule
from python_checks.rules.base import MODEL_TYPES, PACKAGE
from python_checks.rules.waivers import active_waiver
from python_checks.project import default_project_dir
from python_checks.settings import Settings, check_departments, load_settings
from python_checks.sql_cache import FILE_NAME, CachedAnalysis, SqlCache, analyse_all
from python_checks.sql_model import ModelSql, RelationIndex, SqlAnalysis, dialect_for, relation_keys
from python_checks.state import compare_with_base

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
    #: Measure through dbt's adapter for this profile/target instead of a DuckDB file.
    target: DbtTarget | None = None
    sql: bool = True
    #: The SQL analyses of earlier runs (an empty SqlCache(None): none, nothing written).
    sql_cache: SqlCache = field(default_factory=lambda: SqlCache(None))
    #: Processes analysing uncached SQL; None: every core when many models miss the cache.
    jobs: int | None = None


#: Said once, at the top of every report, when no model has compiled SQL.
NO_COMPILED_SQL = (
    "the manifest has no compiled SQL (dbt parse output, or a build that failed before compiling): "
    "joins, per-column protection and renames are not seen, columns travel by name; run dbt compile or dbt build"
)
PYTHON_MODEL = "Python model: its code is not analysed; its columns are the catalog's, else its YAML's, else every parent column"


def _parent_index(nodes: Iterable[Node], keys: dict[str, tuple[str, ...]]) -> RelationIndex:
    """The RelationIndex of these parents; `keys`: each node's relation_keys, filled as they are first needed."""
    return RelationIndex((n.unique_id, keys.get(n.unique_id) or keys.setdefault(n.unique_id, _relation_keys(n))) for n in nodes)


def _relation_keys(node: Node) -> tuple[str, ...]:
    return relation_keys(node.relation_name, (node.database, node.schema, node.identifier), node.materialized == "ephemeral", node.name)


@dataclass(slots=True)
class _SqlRead:
    """Every model's parsed SQL, before the lineage is built."""

    analyses: dict[str, SqlAnalysis | CachedAnalysis] = field(default_factory=dict)
    notes: list[Note] = field(default_factory=list)
    #: `depends_on` of the models that got parents from hard-coded names (to undo on a cycle).
    declared: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: Each model's parent index, when its parents did not change (built once, used again).
    indexes: dict[str, RelationIndex] = field(default_factory=dict)
    #: Each node's relation_keys (a node is the parent of several models: computed once).
    relation_keys: dict[str, tuple[str, ...]] = field(default_factory=dict)


def _read_sql(manifest: Manifest, sql_cache: SqlCache, jobs: int | None) -> _SqlRead:
    """Parse every model's compiled SQL (cached on disk by text); tie relations read by hard-coded
    names to the node that builds them, as an extra parent, with a note on the reading model."""
    dialect = dialect_for(manifest.adapter_type)
    nodes = manifest.nodes
    read = _SqlRead()
    everything: RelationIndex | None = None
    models = [
        (unique_id, node.compiled_code)
        for unique_id, node in nodes.items()
        if node.resource_type in MODEL_TYPES and node.compiled_code and node.language != "python"
    ]
    analyses = analyse_all([sql for _, sql in models], dialect, sql_cache, jobs)
    for (unique_id, _), analysis in zip(models, analyses):
        node = nodes[unique_id]
        read.analyses[unique_id] = analysis
        if not analysis.relations:
            continue
        index = read.indexes[unique_id] = _parent_index((nodes[parent] for parent in node.parents if parent in nodes), read.relation_keys)
        unknown = sorted(key for key in analysis.relations if index.node(key) is None)
        if not unknown:
            continue
        if everything is None:  # only built when some model reads a relation that is not a parent
            everything = _parent_index((n for n in nodes.values() if n.resource_type in POLICY_TYPES), read.relation_keys)
        added = []
        for key in unknown:
            found = everything.node(key)
            if found == unique_id:
                continue  # `{{ this }}` of an incremental model
            if found is None:
                if node.package == PACKAGE:
                    continue  # the package's audit view reads the run tables its own hooks write (no personal data)
                read.notes.append(Note(unique_id, f"reads {key}, which no node of the manifest builds: what it holds is not seen"))
                continue
            added.append(found)
            read.notes.append(Note(unique_id, f"reads {key} by a hard-coded name, not ref()/source(): taken as a parent ({found})"))
        if added:
            read.declared[unique_id] = node.parents
            node.parents = (*node.parents, *added)
            del read.indexes[unique_id]
    return read


def _resolve_sql(manifest: Manifest, lineage: Lineage, read: _SqlRead) -> tuple[dict[str, ModelSql], dict[str, Refine]]:
    """Each model's analysis in terms of its parents, and for the models whose SQL picks columns it
    does not name (NATURAL JOIN, COLUMNS('regex')) how to redo it once the parents' columns are known."""
    dialect = dialect_for(manifest.adapter_type)
    nodes = manifest.nodes
    resolved: dict[str, ModelSql] = {}
    refine: dict[str, Refine] = {}
    for unique_id, node in nodes.items():
        if node.resource_type in MODEL_TYPES and node.language == "python":
            resolved[unique_id] = ModelSql((), {}, frozenset(), PYTHON_MODEL)
        analysis = read.analyses.get(unique_id)
        if analysis is None:
            continue
        parents = [nodes[parent] for parent in lineage.parents[unique_id]]
        index = read.indexes.get(unique_id) or _parent_index(parents, read.relation_keys)
        # A cached analysis decodes straight into parent terms; a fresh one (a cache miss) is resolved.
        resolved[unique_id] = analysis.resolve(index) if isinstance(analysis, CachedAnalysis) else index.resolve(analysis)
        if analysis.needs_schema:
            refine[unique_id] = partial(_with_parent_columns, index, parents, node.compiled_code or "", dialect)
    return resolved, refine


def _with_parent_columns(index: RelationIndex, parents: list[Node], sql: str, dialect: str | None, policies: list[NodePolicy]) -> ModelSql:
    """The analysis redone knowing the parents' columns: the catalog's, else those the YAML documents
    plus every classed column that reaches the parent (YAML rarely documents inherited columns)."""
    known = {
        node.unique_id: node.observed_columns if node.observed_columns is not None else (node.known_columns() or frozenset()).union(policy.columns)
        for node, policy in zip(parents, policies)
    }
    from python_checks.sql_joins import analyze  # sqlglot: only when SQL is analysed

    return index.resolve(analyze(sql, dialect, index.schema(known)))


def _sql_notes(sql: dict[str, ModelSql]) -> list[Note]:
    notes = []
    for unique_id, model in sql.items():
        if model.note:
            notes.append(Note(unique_id, model.note))
        notes.extend(Note(unique_id, blind_spot) for blind_spot in model.blind_spots)
    return notes


@contextmanager
def no_cyclic_gc() -> Iterator[None]:
    """The cyclic garbage collector off (restored after).

    The check allocates millions of small objects and frees almost none before it ends, so the
    collector's passes find nothing and only cost time (bench/bench_design_choices.py) -- as much
    again while the report is rendered, with all of them still alive (the CLI wraps both).

    Before the collector is turned back on, everything allocated meanwhile is moved to the oldest
    generation (freeze, then unfreeze: no traversal): left in the youngest, the first collection
    after enabling would walk all of it, ~1 s on 50,000 models, only to find it alive."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.freeze()
            gc.unfreeze()
            gc.enable()


def analyse(manifest_path: Path, options: CheckOptions, settings: Settings, as_of: dt.date) -> Analysis:
    """Run every enabled rule whose inputs are available over one manifest."""
    with no_cyclic_gc():
        return _analyse(manifest_path, options, settings, as_of)


def _analyse(manifest_path: Path, options: CheckOptions, settings: Settings, as_of: dt.date) -> Analysis:
    manifest = load_manifest(manifest_path)
    check_departments(settings, _declared_departments(manifest))
    if options.catalog is not None:
        load_catalog(options.catalog, manifest)
    run_results = load_run_results(options.run_results) if options.run_results is not None else None
    notes: list[Note] = []  # whole-manifest notes (node None) come first: they qualify every finding
    read = _SqlRead()
    analysed_before = options.sql_cache.analysed
    if run_results is not None and EMPTY_RUN in run_results.values():
        notes.append(Note(None, "run_results come from `dbt build --empty`: tests ran on no rows, so none counts as passed"))
    if options.sql:
        models = [node for node in manifest.nodes.values() if node.resource_type in MODEL_TYPES]
        if models and not any(node.compiled_code for node in models):
            notes.append(Note(None, NO_COMPILED_SQL))
        read = _read_sql(manifest, options.sql_cache, options.jobs)
        notes += read.notes
    try:
        lineage = Lineage(manifest)
    except ArtifactError:
        if not read.declared:
            raise
        # A hard-coded name that closes a cycle (a model reading a table built below it): keep
        # the manifest's own lineage; the notes still name the relation.
        for unique_id, parents in read.declared.items():
            manifest.nodes[unique_id].parents = parents
        lineage = Lineage(manifest)
    sql, refine = _resolve_sql(manifest, lineage, read) if options.sql else ({}, {})
    policies = propagate(manifest, lineage, settings, sql, refine)
    notes += _sql_notes(sql)
    warehouse = None
    if options.database is not None or options.target is not None:
        from python_checks.connections import open_warehouse  # duckdb / dbt: only with a database
        from python_checks.rules.warehouse import Warehouse

        connection = open_warehouse(options.database, options.target)
        warehouse = Warehouse(connection) if connection is not None else None
    context = Context(manifest, lineage, policies, sql, settings, as_of, run_results, warehouse, notes)
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
            severity = rule.severity_in(settings)
            findings.extend(
                Finding(rule.id, rule.category, severity, issue.node, issue.message, issue.evidence, rule.hint) for issue in rule.run(context)
            )
        grants = warehouse.node_grants(manifest.nodes.values()) if warehouse is not None else None
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
    return Analysis(
        manifest, settings, lineage, policies, sql, active, context.notes, context.meetings, status, as_of, waived, options.sql_cache.analysed - analysed_before, run_results,
        grants,
    )


@dataclass(frozen=True, slots=True)
class ColumnEntry:
    """One column of a node entry: its effective class, hierarchy and protection."""

    column_class: str | None
    hierarchy: str | None
    protection: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"class": self.column_class, "hierarchy": self.hierarchy, "protection": self.protection}


# Not frozen: a frozen dataclass sets each of its 24 fields through object.__setattr__, which made
# building one entry per node 7x slower (2,000 models: 16.7 vs 2.3 ms); nothing writes to an entry.
@dataclass(slots=True)
class NodeEntry:
    """A node's effective policy as the report states it (the JSON document's `nodes` entry, the docs site's card)."""

    name: str
    resource_type: str
    package: str
    original_file_path: str
    patch_path: str | None
    personal: bool
    #: The `privacy` block as written ({} when none; may be malformed: rendered escaped).
    declared: Any
    departments: list[str]
    consent: list[str] | None
    purpose: str | None
    retention_days: int | None
    declared_retention_days: int | None
    k: int | None
    privacy_unit: str | None
    sensitivity: str | None
    agreement: Any
    waivers: Any
    meeting_departments: list[str]
    columns: dict[str, ColumnEntry]
    quasi_identifiers: list[str]
    direct_identifiers: list[str]
    parents: list[str]
    #: Role -> privileges on the node's relation, when the check read the warehouse's grants.
    grants: dict[str, list[str]] | None = None

    def to_dict(self, columns_memo: dict[int, dict[str, Any]] | None = None) -> dict[str, Any]:
        """The entry in the JSON document (keys in this order; schema: schema/check_report.schema.json).

        `columns_memo`: `columns` already converted, by the identity of the entry's columns dict
        (nodes share one when their columns are the same; CheckReport.node_entry) and of each
        (interned) ColumnEntry, for a caller that converts every entry while all of them are alive."""
        return _entry_document(_node_entry_values(self), columns_memo if columns_memo is not None else {})


#: NodeEntry's fields in order (dataclasses.fields() per entry costs as much as the rest of to_dict),
#: and one C-level getter of all of them (a getattr per field costs half again as much).
_NODE_ENTRY_KEYS = tuple(item.name for item in fields(NodeEntry))
_node_entry_values = attrgetter(*_NODE_ENTRY_KEYS)
_COLUMNS_AT = _NODE_ENTRY_KEYS.index("columns")


def _entry_document(values: tuple[Any, ...], memo: dict[int, dict[str, Any]]) -> dict[str, Any]:
    """A node entry's JSON object from its fields' values in NodeEntry's order (NodeEntry.to_dict)."""
    entry = dict(zip(_NODE_ENTRY_KEYS, values))
    entry_columns = values[_COLUMNS_AT]
    columns = memo.get(id(entry_columns))
    if columns is None:
        columns = memo[id(entry_columns)] = {
            name: memo.get(id(column)) or memo.setdefault(id(column), column.to_dict()) for name, column in entry_columns.items()
        }
    entry["columns"] = columns
    if entry["grants"] is None:
        del entry["grants"]  # not read: absent rather than empty
    return entry


@dataclass(slots=True)
class CheckReport:
    """The result of a check: what the formatters render and the exit code is computed from."""

    analysis: Analysis
    findings: list[Finding]
    #: The dbt project the paths in the manifest are relative to.
    project_dir: Path | None = None
    state: dict[str, Any] | None = None
    rules: list[Rule] = field(default_factory=rules)
    #: Node entries' `columns` by the identity of a policy's columns dict: descendants share their
    #: ancestors' dicts (policy.propagate), so each distinct one is built once (the dict is kept
    #: alive beside its entry, so that its id stays its own).
    _columns_entries: dict[int, tuple[dict[str, ColumnPolicy], dict[str, ColumnEntry]]] = field(default_factory=dict, repr=False)
    _column_entry_of: dict[tuple[str | None, str | None, str | None], ColumnEntry] = field(default_factory=dict, repr=False)

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

    def node_entry(self, unique_id: str) -> NodeEntry:
        """One `nodes` entry of the JSON document: the node's effective policy."""
        return NodeEntry(*self._node_entry_values(unique_id))

    def _node_entry_values(self, unique_id: str) -> tuple[Any, ...]:
        # NodeEntry's fields in order: the JSON document is built from these without a NodeEntry
        # per node (a frozen dataclass of 23 fields costs more to build than its dict).
        node = self.analysis.manifest.nodes[unique_id]
        policy = self.analysis.policies[unique_id]
        return (
            node.name,
            node.resource_type,
            node.package,
            node.original_file_path,
            node.patch_path,
            policy.personal,
            node.privacy if node.privacy is not None else {},  # declared
            sorted(policy.departments),
            sorted(policy.consent) if policy.consent is not None else None,
            policy.purpose,
            policy.retention_days,
            policy.declared_retention_days,
            policy.k,
            policy.privacy_unit,
            policy.sensitivity,
            policy.declared.get("agreement"),
            policy.declared.get("waivers") or [],
            sorted(self.analysis.meetings.get(unique_id, ())),  # meeting_departments
            self._columns_entry(policy.columns),
            policy.columns_of(QUASI_IDENTIFIER),
            policy.columns_of(DIRECT_IDENTIFIER),
            list(self.analysis.lineage.parents[unique_id]),
            self.analysis.grants.get(unique_id, {}) if self.analysis.grants is not None and node.relation_name else None,
        )

    def _columns_entry(self, columns: dict[str, ColumnPolicy]) -> dict[str, ColumnEntry]:
        found = self._columns_entries.get(id(columns))
        if found is None:
            # Sorted by name alone: sorting (name, column) pairs made and compared a tuple per column
            # (2,000 models: 39 M of the ~600 M instructions of the JSON report).
            entry = {name: self._column_entry(columns[name]) for name in sorted(columns)}
            found = self._columns_entries[id(columns)] = (columns, entry)
        return found[1]

    def _column_entry(self, column: ColumnPolicy) -> ColumnEntry:
        # Interned: a project has a handful of (class, hierarchy, protection) combinations and tens
        # of thousands of columns; a frozen dataclass costs more to build than to look up.
        key = (column.column_class, column.hierarchy, column.protection)
        entry = self._column_entry_of.get(key)
        if entry is None:
            entry = self._column_entry_of[key] = ColumnEntry(*key)
        return entry

    def rule_entries(self) -> list[dict[str, Any]]:
        """Every rule with the severity it reported at and whether it ran (the document's `rules`)."""
        return [
            {
                "id": rule.id,
                "category": rule.category,
                "severity": rule.severity_in(self.analysis.settings),
                "status": self.analysis.rule_status[rule.id],
                "summary": rule.summary,
                "hint": rule.hint,
            }
            for rule in self.rules
        ]

    def node_entries(self) -> dict[str, NodeEntry]:
        """Every node's entry, by unique_id."""
        return {unique_id: self.node_entry(unique_id) for unique_id in sorted(self.analysis.policies)}

    def to_document(self, entries: dict[str, NodeEntry] | None = None) -> dict[str, Any]:
        """The JSON document of `privacy-guard check --format json` (schema: schema/check_report.schema.json); `entries`: node_entries() when already built."""
        manifest = self.analysis.manifest
        columns_memo: dict[int, dict[str, Any]] = {}  # every entry stays alive while the memo is used
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
            "rules": self.rule_entries(),
            "notes": [{"node": note.node, "message": note.message} for note in self.analysis.notes],
            "nodes": (
                {unique_id: entry.to_dict(columns_memo) for unique_id, entry in entries.items()}
                if entries is not None
                else {unique_id: _entry_document(self._node_entry_values(unique_id), columns_memo) for unique_id in sorted(self.analysis.policies)}
            ),
            "edges": self.analysis.edges(),
        }
        if self.state is not None:
            document["state"] = self.state
        return document


def _declared_departments(manifest: Manifest) -> frozenset[str]:
    """The departments the nodes' privacy blocks declare (malformed blocks are invalid_policy's)."""
    declared = (node.privacy.get("department") for node in manifest.nodes.values() if isinstance(node.privacy, dict))
    return frozenset(department for department in declared if isinstance(department, str))


def run_check(
    manifest: Path | str,
    *,
    project_dir: Path | str | None = None,
    catalog: Path | str | None = None,
    run_results: Path | str | None = None,
    database: Path | str | None = None,
    target: DbtTarget | None = None,
    state: Path | str | None = None,
    sql: bool = True,
    as_of: dt.date | None = None,
    cache_dir: Path | str | None = None,
    jobs: int | None = None,
) -> CheckReport:
    """Check one manifest (against a base manifest when `state` is given); raises ArtifactError on bad input.

    `cache_dir`: folder of the on-disk SQL analysis cache (None: no cache); `jobs`: processes for
    uncached SQL (None: every core when at least sql_cache.PARALLEL_THRESHOLD models miss the cache)."""
    manifest_path = Path(manifest)
    settings_dir = Path(project_dir) if project_dir is not None else default_project_dir(manifest_path)
    if not settings_dir.is_dir():
        raise ArtifactError(f"project dir {settings_dir}: not a directory")
    settings = load_settings(settings_dir, REGISTRY)
    options = CheckOptions(
        catalog=_optional_path(catalog),
        run_results=_optional_path(run_results),
        database=_optional_path(database),
        target=target,
        sql=sql,
        # Without SQL analysis the cache is neither read (a large file) nor written.
        sql_cache=SqlCache(Path(cache_dir) / FILE_NAME if cache_dir is not None and sql else None),
        jobs=jobs,
    )
    day = as_of or settings.today or dt.date.today()
    current = analyse(manifest_path, options, settings, day)
    if state is None:
        report = CheckReport(current, current.findings, settings_dir)
    else:
        new_findings, changes = compare_with_base(current, analyse(Path(state), options, settings, day))
        report = CheckReport(current, new_findings, settings_dir, changes)
    options.sql_cache.write()  # only after the whole check succeeded: bad input leaves nothing behind
    return report


def _optional_path(value: Path | str | None) -> Path | None:
    return Path(value) if value is not None else None

