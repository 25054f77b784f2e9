"""The governance model of the docs site: the `Site` (per-node views of the typed check report and
provenance), meeting points, headline metrics, agreements, waivers, history.

Governance asks "which departments' data meet where, under which agreement, and what is at risk"
and "is it getting better". This module answers from the check report and provenance (a `Site`)
so the HTML only lays it out, and so the numbers are testable without a browser.

Definitions the site shows next to the numbers (`COVERAGE_RULE`):
- a model is *released* when it is personal and either is not staging (name `stg_`/`base_` or a
  `staging/` folder) or an exposure reads it directly: never-released staging does not count
  against coverage;
- a released model is *protected* when a `privacy_guard.k_anonymity` or
  `privacy_guard.min_cell_size` test is attached and its last result is `pass` (every such test
  passes); *tested* when one is attached whatever its result.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from python_checks import contract
from python_checks.check import CheckReport, NodeEntry
from python_checks.findings import Finding, severity_rank
from python_checks.loader import EMPTY_RUN, ArtifactError, RunInfo
from python_checks.provenance import NodeProvenance
from python_checks.rules import Note
from python_checks.settings import Agreement

#: The privacy tests that make a released model count as protected (row-level or cell-level release).
PROTECTING_TESTS = ("k_anonymity", "min_cell_size")
STAGING_PREFIXES = ("stg_", "base_")
COVERAGE_RULE = (
    "Released = personal model that is not staging (stg_/base_ name or staging/ folder) or that an exposure reads. "
    "Protected = a privacy_guard k_anonymity or min_cell_size test attached and passing in the last run."
)
#: Rule id of the check that reports personal-looking columns without a class.
UNCLASSIFIED_RULE = "unclassified_personal_data"
#: An agreement expiring within this many days is shown as `expiring`.
EXPIRING_DAYS = 60
HISTORY_FILE = "history.json"
#: The audit table the `write_audit_log` hook fills (macros/lifecycle/audit.sql `_audit_relation`).
AUDIT_TABLE = "privacy_guard_audit"


@dataclass
class NodeView:
    """Everything one card of the site shows about a node."""

    unique_id: str
    entry: NodeEntry  # the node's effective policy, as the check report states it
    provenance: NodeProvenance
    findings: list[Finding]
    children: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.entry.name

    @property
    def resource_type(self) -> str:
        return self.entry.resource_type

    @property
    def declared_policy(self) -> bool:
        return bool(self.entry.declared)

    @property
    def worst_severity(self) -> str | None:
        severities = [f.severity for f in self.findings]
        return max(severities, key=severity_rank) if severities else None


@dataclass
class Site:
    """The docs of one project: the check report plus provenance, per node and in total."""

    report: CheckReport
    #: The report's JSON document (written beside the page as privacy_report.json; history points read it).
    document: dict[str, Any]
    nodes: dict[str, NodeView]
    run: RunInfo | None
    generated_at: str
    agreements: dict[str, Agreement] = field(default_factory=dict)
    #: Earlier builds' governance numbers (read_history), oldest first; this build is appended.
    history: list[dict[str, Any]] = field(default_factory=list)
    #: Runs of the audit table (`--database`), oldest first (audit_runs).
    audit_runs: list[dict[str, Any]] = field(default_factory=list)

    @property
    def findings(self) -> list[Finding]:
        return self.report.findings

    @property
    def waived(self) -> list[Finding]:
        """Findings a valid waiver silences."""
        return self.report.analysis.waived

    @property
    def notes(self) -> list[Note]:
        return self.report.analysis.notes

    @cached_property
    def edges(self) -> list[dict[str, Any]]:
        return self.report.analysis.edges()

    @cached_property
    def summary(self) -> dict[str, Any]:
        return self.report.summary()

    def departments(self) -> list[str]:
        return sorted({d for view in self.nodes.values() for d in view.entry.departments})

    def metrics(self) -> dict[str, Any]:
        """The governance numbers: privacy-test coverage of released models, violations, models without a policy."""
        models = [v for v in self.nodes.values() if v.resource_type == "model"]
        errors = [f for f in self.findings if f.severity == "error"]
        return {
            "coverage": coverage(self),
            "undeclared": sorted(v.name for v in self.nodes.values() if node_state(v) == "undeclared"),
            "policy_violations": len(errors),
            "models_with_violations": len({f.node for f in errors}),
            "warnings": sum(f.severity == "warning" for f in self.findings),
            "models": len(models),
            "models_without_policy": sorted(v.name for v in models if not v.declared_policy),
        }

    def by_department(self) -> list[dict[str, Any]]:
        """Per department: its nodes, personal nodes, and the findings on them."""
        rows = []
        for department in self.departments():
            views = [v for v in self.nodes.values() if department in v.entry.departments]
            rows.append(
                {
                    "department": department,
                    "nodes": len(views),
                    "models": sum(v.resource_type == "model" for v in views),
                    "combined": sum(len(v.entry.departments) > 1 for v in views),
                    "findings": sum(len(v.findings) for v in views),
                }
            )
        return rows

    def by_rule(self) -> list[dict[str, Any]]:
        """Per rule of the check: how many findings, with its summary (rules that did not run too)."""
        counts = self.summary["by_rule"]
        return [
            {**rule, "findings": counts.get(rule["id"], 0)}
            for rule in sorted(self.report.rule_entries(), key=lambda r: (-counts.get(r["id"], 0), r["id"]))
        ]


def is_staging(view: NodeView) -> bool:
    path = view.entry.original_file_path or ""
    return view.name.startswith(STAGING_PREFIXES) or "/staging/" in f"/{path}"


def is_released(view: NodeView, site: Site) -> bool:
    if view.resource_type != "model" or not view.entry.personal:
        return False
    read_by_exposure = any(site.nodes[c].resource_type == "exposure" for c in view.children if c in site.nodes)
    return read_by_exposure or not is_staging(view)


def protection_status(view: NodeView) -> str:
    """'protected', 'failing', 'not run' or 'untested' by the tests in PROTECTING_TESTS (a `dbt build --empty`
    ran them on no rows: not run)."""
    statuses = [t.status if t.status not in (None, EMPTY_RUN) else "not run" for t in view.provenance.tests if t.is_privacy_test and t.test in PROTECTING_TESTS]
    if not statuses:
        return "untested"
    if all(s == "pass" for s in statuses):
        return "protected"
    return "not run" if all(s == "not run" for s in statuses) else "failing"


def node_state(view: NodeView) -> str:
    """How a node's personal data is declared: 'personal', 'undeclared' (looks personal, no class) or 'not personal'."""
    if view.entry.personal:
        return "personal"
    if any(f.rule == UNCLASSIFIED_RULE for f in view.findings):
        return "undeclared"
    return "not personal"


#: The threshold each privacy test resolves (argument, then the node's meta, then the project default).
TEST_THRESHOLDS = {"k_anonymity": "k", "min_cell_size": "k", "l_diversity": "l", "t_closeness": "t"}


def resolved_settings(test: str, kwargs: dict[str, Any], entry: NodeEntry) -> list[tuple[str, Any, str]]:
    """(name, value, where from) of a privacy test's threshold and quasi-identifiers as the test will use them."""
    rows: list[tuple[str, Any, str]] = []
    threshold = TEST_THRESHOLDS.get(test)
    declared = entry.declared or {}
    if threshold:
        if threshold in kwargs:
            rows.append((threshold, kwargs[threshold], "argument"))
        elif threshold in declared:
            rows.append((threshold, declared[threshold], "meta"))
        elif threshold == "k" and entry.k is not None:
            rows.append(("k", entry.k, "inherited or default_k"))
        else:
            default = contract.definition("project")["properties"].get(f"default_{threshold}", {}).get("default")
            rows.append((threshold, default, f"default_{threshold}"))
    if "quasi_identifiers" in kwargs:
        rows.append(("quasi_identifiers", kwargs["quasi_identifiers"], "argument"))
    elif threshold and entry.quasi_identifiers:
        rows.append(("quasi_identifiers", entry.quasi_identifiers, "column classes"))
    return rows


def coverage(site: Site) -> dict[str, Any]:
    released = [v for v in site.nodes.values() if is_released(v, site)]
    statuses = Counter(protection_status(v) for v in released)
    personal_models = sum(v.resource_type == "model" and v.entry.personal for v in site.nodes.values())
    return {
        "released": len(released),
        "protected": statuses["protected"],
        "tested": len(released) - statuses["untested"],
        "share": statuses["protected"] / len(released) if released else None,
        "staging_excluded": personal_models - len(released),
        "rule": COVERAGE_RULE,
    }


def combination(meeting_departments: list[str], departments: list[str]) -> tuple[str, ...] | None:
    """The departments a node combines (two or more: where they meet, else its own), else None."""
    combined = meeting_departments or departments
    return tuple(sorted(combined)) if len(combined) > 1 else None


@dataclass
class MeetingPoint:
    """Where one combination of departments meets: the models that combine exactly these departments."""

    departments: tuple[str, ...]
    nodes: list[str] = field(default_factory=list)
    purposes: Counter[str] = field(default_factory=Counter)
    agreements: Counter[str] = field(default_factory=Counter)
    findings: Counter[str] = field(default_factory=Counter)  # by severity

    @property
    def key(self) -> str:
        return "+".join(self.departments)


def meeting_points(site: Site) -> list[MeetingPoint]:
    """Every combination of departments with its models, biggest first."""
    points: dict[tuple[str, ...], MeetingPoint] = {}
    for uid in sorted(site.nodes):
        view = site.nodes[uid]
        departments = combination(view.entry.meeting_departments, view.entry.departments)
        if departments is None:
            continue
        point = points.setdefault(departments, MeetingPoint(departments))
        point.nodes.append(uid)
        point.purposes[view.entry.purpose or "none declared"] += 1
        point.agreements[view.entry.agreement or "none"] += 1
        point.findings.update(f.severity for f in view.findings)
    return sorted(points.values(), key=lambda p: (-len(p.nodes), p.key))


def agreement_status(expires: dt.date | None, today: dt.date) -> str:
    if expires is None:
        return "active"
    if expires < today:
        return "expired"
    return "expiring" if (expires - today).days <= EXPIRING_DAYS else "active"


def agreements(site: Site, today: dt.date) -> list[dict[str, Any]]:
    """Every agreement of the project (and any a node cites that the project does not define)."""
    cited: dict[str, list[str]] = {}
    for uid in sorted(site.nodes):
        agreement = site.nodes[uid].entry.agreement
        if agreement:
            cited.setdefault(agreement, []).append(uid)
    rows = []
    for agreement_id in sorted(set(site.agreements) | set(cited)):
        agreement = site.agreements.get(agreement_id)
        expires = agreement.expires if agreement else None
        rows.append(
            {
                "id": agreement_id,
                "defined": agreement is not None,
                "departments": sorted(agreement.departments) if agreement else [],
                "purposes": sorted(agreement.purposes) if agreement and agreement.purposes is not None else None,
                "expires": expires.isoformat() if expires else None,
                "days_left": (expires - today).days if expires else None,
                "status": agreement_status(expires, today) if agreement else "undefined",
                "owner": agreement.owner if agreement else None,
                "roles": sorted(agreement.roles) if agreement and agreement.roles is not None else None,
                "review": agreement.review if agreement else None,
                "nodes": cited.get(agreement_id, []),
            }
        )
    return rows


def waivers(site: Site, today: dt.date) -> list[dict[str, Any]]:
    """The waivers of every node (`privacy.waivers`: rule, reason, expires, approved_by), with their state today."""
    rows = []
    for uid in sorted(site.nodes):
        for waiver in site.nodes[uid].entry.waivers or []:
            if not isinstance(waiver, dict):
                continue
            expires = str(waiver.get("expires") or "")
            try:
                expired = dt.date.fromisoformat(expires) < today if expires else False
            except ValueError:
                expired = False
            silenced = sum(f.node == uid and f.rule == waiver.get("rule") for f in site.waived)
            rows.append({"node": uid, "name": site.nodes[uid].name, **waiver, "expires": expires or None, "expired": expired, "silenced": silenced})
    return rows


# --- history ------------------------------------------------------------------------------------------


def history_point(document: dict[str, Any], applied: dict[str, Any] | None, when: str) -> dict[str, Any]:
    """One build's governance numbers from its check document (and its provenance.json when present)."""
    nodes = document["nodes"]
    combos = sorted({"+".join(c) for c in (combination(entry.get("meeting_departments") or [], entry["departments"]) for entry in nodes.values()) if c})
    point: dict[str, Any] = {
        "when": when,
        "findings": len(document["findings"]),
        "by_rule": dict(sorted(Counter(f["rule"] for f in document["findings"]).items())),
        "by_severity": dict(Counter(f["severity"] for f in document["findings"])),
        "combinations": combos,
        "protected": None,
    }
    if applied is not None:
        # Coverage as the site computes it, from the provenance file of the same build.
        models = [uid for uid, e in nodes.items() if e["resource_type"] == "model" and e["personal"]]
        point["protected"] = sum(
            bool(tests := [t for t in (applied.get(uid) or {}).get("tests", []) if t.get("privacy_test") and t["test"] in PROTECTING_TESTS])
            and all(t.get("status") == "pass" for t in tests)
            for uid in models
        )
        point["personal_models"] = len(models)
    return point


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ArtifactError(f"--history {path}: cannot read JSON ({type(error).__name__})") from None


def read_history(paths: list[Path]) -> list[dict[str, Any]]:
    """Points of earlier builds: each path is a privacy_report.json (with provenance.json beside it, if any;
    dated by its file time) or the history.json of an earlier site (all its points). Sorted by time; a
    point given twice (same time) counts once."""
    points: dict[str, dict[str, Any]] = {}
    for path in paths:
        data = _read(path)
        if isinstance(data, dict) and isinstance(data.get("points"), list):
            for point in data["points"]:
                points[point["when"]] = point
            continue
        if not isinstance(data, dict) or not isinstance(data.get("findings"), list) or not isinstance(data.get("nodes"), dict):
            raise ArtifactError(f"--history {path}: neither a privacy_report.json nor a history.json of privacy-guard docs")
        sibling = path.parent / "provenance.json"
        applied = _read(sibling) if sibling.is_file() else None
        when = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.timezone.utc).isoformat()
        points[when] = history_point(data, applied, when)
    return [points[when] for when in sorted(points)]


def trends(points: list[dict[str, Any]]) -> dict[str, Any]:
    """What changed between consecutive points: new and resolved combinations; the rules any point saw."""
    changes = []
    for before, after in zip(points, points[1:]):
        old, new = set(before["combinations"]), set(after["combinations"])
        changes.append({"when": after["when"], "new": sorted(new - old), "resolved": sorted(old - new)})
    return {
        "points": points,
        "changes": changes,
        "rules": sorted({rule for point in points for rule in point["by_rule"]}),
    }


def audit_runs(database: Path, site: Site) -> list[dict[str, Any]]:
    """Per run recorded in the audit table of a DuckDB file (oldest first): who, when, nodes run, failures,
    and the privacy tests of this project's released models that ran and passed in that run."""
    from python_checks.relation import connect_read_only, quote  # duckdb only when --database is given

    connection = connect_read_only(database, "--database").connection
    try:
        found = connection.execute(
            "select table_schema from information_schema.tables where table_name = ? order by table_schema", [AUDIT_TABLE]
        ).fetchall()
        if not found:
            raise ArtifactError(f"--database {database}: no {AUDIT_TABLE} table (enable vars.privacy_guard.audit and run dbt build)")
        rows = connection.execute(
            f"select invocation_id, min(run_started_at), min(user_name), count(*), count(*) filter (where status in ('fail', 'error')), "
            f"list(unique_id) filter (where status = 'pass'), list(unique_id) filter (where resource_type = 'test') "
            f"from {quote(found[0][0])}.{quote(AUDIT_TABLE)} group by invocation_id order by 2, 1"
        ).fetchall()
    finally:
        connection.close()
    protecting = {
        uid: [t.unique_id for t in view.provenance.tests if t.is_privacy_test and t.test in PROTECTING_TESTS]
        for uid, view in site.nodes.items()
        if is_released(view, site)
    }
    runs = []
    for invocation, started, user, nodes, failed, passed, tests in rows:
        passed_set, ran = set(passed or []), set(tests or [])
        runs.append(
            {
                "when": started.isoformat(sep=" ", timespec="seconds") if started else None,
                "invocation_id": invocation,
                "user": user,
                "nodes": nodes,
                "failed": failed,
                "privacy_tests_ran": sum(t in ran for ts in protecting.values() for t in ts),
                "protected": sum(bool(ts) and all(t in passed_set for t in ts) for ts in protecting.values()),
            }
        )
    return runs
