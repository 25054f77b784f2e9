"""The console report: one finding per line with its fix hint below, then notes and a summary.

Styled with rich's ANSI rendering of single strings rather than a rich Table: a table takes
seconds for the thousands of findings a first run on a large project produces.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from functools import lru_cache

from rich.color import ColorSystem
from rich.style import Style

from python_checks.check import CheckReport
from python_checks.declarations import declaration
from python_checks.formatters.escaping import terminal as clean

STYLES = {"error": "bold red", "warning": "yellow", "info": "cyan"}


@lru_cache(maxsize=16)
def _style(name: str) -> Style:
    return Style.parse(name)


def _painter(color: bool) -> Callable[[str, str], str]:
    if not color:
        return lambda text, style: text
    return lambda text, style: _style(style).render(text, color_system=ColorSystem.STANDARD)


def render(report: CheckReport, color: bool = False) -> str:
    """The report as text (ANSI colours when `color`); project values are stripped of escape sequences."""
    paint = _painter(color)
    manifest = report.analysis.manifest
    # The header is the command that reproduces the report, pasteable as printed (the rest is a shell comment).
    rerun = f"--manifest {shlex.quote(clean(manifest.path))}"
    if report.project_dir is not None:
        rerun += f" --project-dir {shlex.quote(clean(report.project_dir))}"
    lines = [f"{paint('privacy-guard check', 'bold')} {rerun}  # dbt {clean(manifest.dbt_version)}, manifest v{manifest.schema_version}"]
    # What the whole check could not see comes first: it qualifies every finding below.
    lines += [paint(f"note: {clean(note.message)}", "yellow") for note in report.analysis.notes if note.node is None]
    if report.state is not None:
        state = report.state
        lines.append(f"compared with base {clean(state['base'])}: showing only what is new")
        lines += [f"  new cross-department edge {clean(edge['source'])} -> {clean(edge['target'])}" for edge in state["new_cross_department_edges"]]
        lines += [f"  {clean(item['node'])} newly combines quasi-identifiers {clean(', '.join(item['added']))}" for item in state["new_quasi_identifier_combinations"]]
        lines += [f"  {clean(item['node'])} retention widened from {item['base_days']} to {item['days'] or 'unlimited'} days" for item in state["widened_retention"]]
    for finding in report.findings:
        lines.append(f"{paint(f'{finding.severity:<8}', STYLES[finding.severity])} {finding.rule:<25} {clean(manifest.nodes[finding.node].name)}: {clean(finding.message)}")
        lines.append(paint(f"{'':<35}fix: {clean(finding.hint)}", "dim"))
        lines.append(paint(f"{'':<35}at:  {clean(declaration(manifest.nodes[finding.node], report.project_dir))}", "dim"))
    for finding in report.analysis.waived:
        waiver = finding.waiver or {}
        lines.append(
            paint(
                clean(
                    f"{'waived':<8} {finding.rule:<25} {manifest.nodes[finding.node].name}: {finding.message} "
                    f"(waiver until {waiver.get('expires')}, approved by {waiver.get('approved_by')}: {waiver.get('reason')})"
                ),
                "dim",
            )
        )
    lines += [paint(f"note: {clean(note.node)}: {clean(note.message)}", "dim") for note in report.analysis.notes if note.node is not None]
    skipped = [f"{rule_id} ({status})" for rule_id, status in report.analysis.rule_status.items() if status != "ran"]
    if skipped:
        lines.append(paint(f"not run: {', '.join(skipped)}", "dim"))
    summary = report.summary()
    counts = ", ".join(f"{count} {severity}" for severity, count in summary["by_severity"].items())
    waived = f", {summary['waived']} waived" if summary["waived"] else ""
    lines.append(f"{summary['nodes']} nodes, {summary['personal_nodes']} personal, {summary['findings']} findings ({counts}){waived}")
    return "\n".join(lines) + "\n"
