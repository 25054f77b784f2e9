"""The rule table of docs/rules.md, rendered from the rule registry (see docs_pages)."""

from __future__ import annotations

from python_checks.check import rules
from python_checks.rules.base import Rule

NEEDS = {"run_results": "`--run-results`", "database": "`--database`"}


def _severity(rule: Rule) -> str:
    if rule.enforce_severity:
        return f"{rule.severity} ({rule.enforce_severity} under `enforce: true`)"
    return rule.severity


KINDS = {int: "integer", float: "number", bool: "boolean", str: "string"}


def _parameters(rule: Rule) -> str:
    """Each parameter the rule declares: name, type, lower bound and default."""
    return "; ".join(
        f"`{p.name}` ({KINDS[p.kind]}{f' >= {p.minimum:g}' if p.minimum is not None else ''}, default {p.default!r})" for p in rule.parameters
    )


def render() -> str:
    """One row per registered rule: id, default severity, the input it needs, its parameters, what it catches."""
    rows = [
        "| id / category | default severity | needs | parameters | what it catches |",
        "|---|---|---|---|---|",
    ]
    for rule in rules():
        summary = rule.summary.replace("|", "\\|")
        rows.append(f"| `{rule.id}` | {_severity(rule)} | {NEEDS.get(rule.requires or '', '')} | {_parameters(rule)} | {summary} |")
    return "\n".join(rows)
