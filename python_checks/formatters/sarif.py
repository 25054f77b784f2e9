"""SARIF 2.1.0, so code-scanning UIs (GitHub, GitLab, IDEs) show findings on the model's files.

Each result points at the node's SQL (`original_file_path`) and, as a related location, at the
YAML entry (file and line) where its policy is declared; both relative to the dbt project root.
"""

from __future__ import annotations

import hashlib
from typing import Any

from python_checks import __version__
from python_checks.check import CheckReport
from python_checks.declarations import declaration
from python_checks.formatters.escaping import uri_path
from python_checks.formatters.json import dumps

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {"error": "error", "warning": "warning", "info": "note"}
ROOT = "PROJECTROOT"


def _location(path: str, line: int = 1) -> dict[str, Any]:
    return {"physicalLocation": {"artifactLocation": {"uri": uri_path(path), "uriBaseId": ROOT}, "region": {"startLine": line}}}


def _notification(node: str | None, message: str) -> dict[str, Any]:
    notification: dict[str, Any] = {"level": "warning" if node is None else "note", "message": {"text": message}}
    if node is not None:
        notification["locations"] = [{"logicalLocations": [{"fullyQualifiedName": node, "kind": "module"}]}]
    return notification


def document(report: CheckReport) -> dict[str, Any]:
    """The SARIF log as a dict."""
    rules = report.rules
    index = {rule.id: position for position, rule in enumerate(rules)}
    nodes = report.analysis.manifest.nodes
    results = []
    for finding in [*report.findings, *report.analysis.waived]:
        node = nodes[finding.node]
        declared = declaration(node, report.project_dir)
        own_file = node.original_file_path or declared.path
        result: dict[str, Any] = {
            "ruleId": finding.rule,
            "ruleIndex": index[finding.rule],
            "level": LEVELS[finding.severity],
            "message": {"text": f"{finding.message}. Fix: {finding.hint}"},
            "locations": [
                {
                    **(_location(declared.path, declared.line) if own_file == declared.path else _location(own_file)),
                    "logicalLocations": [{"fullyQualifiedName": node.unique_id, "kind": "module"}],
                }
            ],
            "partialFingerprints": {"privacyGuard/v1": hashlib.sha256(finding.fingerprint()).hexdigest()},
            "properties": {"category": finding.category, "evidence": finding.evidence},
        }
        if finding.waiver is not None:
            waiver = finding.waiver
            result["suppressions"] = [
                {
                    "kind": "inSource",
                    "status": "accepted",
                    "justification": f"{waiver['reason']} (approved by {waiver['approved_by']}, expires {waiver['expires']})",
                }
            ]
        if declared.path != own_file:
            result["relatedLocations"] = [{"id": 1, **_location(declared.path, declared.line), "message": {"text": "privacy policy declared here"}}]
        results.append(result)
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "privacy-guard",
                "version": __version__,
                "rules": [
                    {
                        "id": rule.id,
                        "name": "".join(part.title() for part in rule.id.split("_")),
                        "shortDescription": {"text": rule.summary},
                        "help": {"text": rule.hint},
                        "defaultConfiguration": {"level": LEVELS[rule.severity_in(report.analysis.settings)]},
                        "properties": {"category": rule.category},
                    }
                    for rule in rules
                ],
            }
        },
        "results": results,
        # What the check could not see (no compiled SQL at all, SQL not analysed...): notifications of the run.
        "invocations": [
            {
                "executionSuccessful": True,
                "toolExecutionNotifications": [_notification(note.node, note.message) for note in report.analysis.notes],
            }
        ],
    }
    if report.project_dir is not None:
        run["originalUriBaseIds"] = {ROOT: {"uri": report.project_dir.resolve().as_uri() + "/"}}
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


def render(report: CheckReport, color: bool = False) -> str:
    """The SARIF log as JSON text."""
    return dumps(document(report))
