"""The console report: findings grouped by node, each with its fix hint, then notes and a summary."""

from __future__ import annotations

import io

from rich.console import Console
from rich.table import Table

from python_checks.check import CheckReport

STYLES = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def render(report: CheckReport, color: bool = False) -> str:
    """The report as text (ANSI colours when `color`)."""
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=color, no_color=not color, width=120, highlight=False)
    manifest = report.analysis.manifest
    console.print(f"[bold]privacy-guard check[/] {manifest.path} (dbt {manifest.dbt_version}, manifest v{manifest.schema_version})")
    if report.state is not None:
        state = report.state
        console.print(f"compared with base {state['base']}: showing only what is new")
        for edge in state["new_cross_department_edges"]:
            console.print(f"  new cross-department edge {edge['source']} -> {edge['target']}")
        for combination in state["new_quasi_identifier_combinations"]:
            console.print(f"  {combination['node']} newly combines quasi-identifiers {', '.join(combination['added'])}")
        for widened in state["widened_retention"]:
            console.print(f"  {widened['node']} retention widened from {widened['base_days']} to {widened['days'] or 'unlimited'} days")
    if report.findings:
        table = Table(show_lines=False, expand=False)
        for header in ("severity", "rule", "node", "message / fix"):
            table.add_column(header, overflow="fold")
        for finding in report.findings:
            name = manifest.nodes[finding.node].name
            table.add_row(
                f"[{STYLES[finding.severity]}]{finding.severity}[/]",
                finding.rule,
                name,
                f"{finding.message}\n[dim]fix: {finding.hint}[/]",
            )
        console.print(table)
    for note in report.analysis.notes:
        console.print(f"[dim]note: {note.node}: {note.message}[/]")
    skipped = [f"{rule_id} ({status})" for rule_id, status in report.analysis.rule_status.items() if status != "ran"]
    if skipped:
        console.print(f"[dim]not run: {', '.join(skipped)}[/]")
    summary = report.summary()
    counts = ", ".join(f"{count} {severity}" for severity, count in summary["by_severity"].items())
    console.print(f"{summary['nodes']} nodes, {summary['personal_nodes']} personal, {summary['findings']} findings ({counts})")
    return buffer.getvalue()
