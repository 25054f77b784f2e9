"""The docs as one markdown file (repos, wikis): metrics, a mermaid lineage, findings, model cards.

Same content as the HTML site (both read `governance.Site`), minus interaction: mermaid renders
the graph where the wiki supports it and stays readable as text where it does not. Every project
value passes through formatters/escaping.py (no HTML, links or mermaid syntax from a project).
"""

from __future__ import annotations

from python_checks.formatters.escaping import markdown as md
from python_checks.formatters.escaping import markdown_code as code
from python_checks.formatters.escaping import mermaid as mermaid_label
from python_checks.formatters.html import PALETTE, subtitle
from python_checks.governance import NodeView, Site
from python_checks.rules import Note

_EDGE_ARROWS = {"flagged": "==>", "cross": "-.->", "plain": "-->"}
_EDGE_COLOURS = {"flagged": "#d62728", "cross": "#7a4bb7"}


def mermaid(site: Site) -> str:
    """`flowchart LR` of every node; one class per department, cross-department and flagged edges styled."""
    ids = {uid: f"n{i}" for i, uid in enumerate(sorted(site.nodes))}
    lines = ["flowchart LR"]
    for uid, view in sorted(site.nodes.items()):
        lines.append(f'  {ids[uid]}["{mermaid_label(view.name)}<br/><small>{mermaid_label(subtitle(view))}</small>"]')
    styles = []
    for position, edge in enumerate(e for e in site.edges if e["source"] in ids and e["target"] in ids):
        kind = "flagged" if edge["flagged"] else "cross" if edge["cross_department"] else "plain"
        lines.append(f"  {ids[edge['source']]} {_EDGE_ARROWS[kind]} {ids[edge['target']]}")
        if kind in _EDGE_COLOURS:
            styles.append(f"  linkStyle {position} stroke:{_EDGE_COLOURS[kind]},stroke-width:2px")
    departments = site.departments()
    # Class names by position: a department name is project text, not mermaid syntax.
    for i, department in enumerate(departments):
        members = [ids[uid] for uid, view in sorted(site.nodes.items()) if view.entry.departments == [department]]
        if members:
            lines.append(f"  class {','.join(members)} dept_{i}")
    combined = [ids[uid] for uid, view in sorted(site.nodes.items()) if len(view.entry.departments) > 1]
    if combined:
        lines.append(f"  class {','.join(combined)} combined")
    for i in range(len(departments)):
        lines.append(f"  classDef dept_{i} fill:{PALETTE[i % len(PALETTE)]}33,stroke:{PALETTE[i % len(PALETTE)]}")
    lines.append("  classDef combined fill:#ffffff,stroke:#7a4bb7,stroke-width:2px")
    return "\n".join(lines + styles)


def _note(note: Note) -> str:
    """A check note as a list item; a note without a node is about the whole manifest."""
    where = f"{code(note.node)}: " if note.node else ""
    return f"- {where}{md(note.message)}"


def _card(view: NodeView) -> list[str]:
    e = view.entry
    consent = "not declared" if e.consent is None else md(", ".join(e.consent)) or "none in common upstream"
    retention = f"declared {e.declared_retention_days if e.declared_retention_days is not None else 'none'}, effective {e.retention_days if e.retention_days is not None else 'none'} (days)"
    lines = [
        f"### {md(view.name)}",
        "",
        f"{code(e.original_file_path or view.unique_id)} · {md(view.resource_type)} · {'personal data' if e.personal else 'not personal'}"
        + ("" if view.declared_policy else " · **no policy declared**"),
        "",
        f"- **Department:** {md(', '.join(e.departments)) or '—'}",
        f"- **Consent:** {consent}",
        f"- **Purpose:** {md(e.purpose or '—')}",
        f"- **Retention:** {retention}",
        f"- **Effective k:** {md(e.k) if e.k is not None else '—'}",
        f"- **Agreement:** {md(e.agreement or '—')}",
    ]
    lines += [
        f"- **Waiver:** {md(w['rule'])} until {md(w['expires'])}, approved by {md(w['approved_by'])}: {md(w['reason'])}" for w in e.waivers
    ]
    if e.columns:
        lines += ["", "| Column | Class | Protection |", "|---|---|---|"]
        lines += [f"| {md(name)} | {md(c.column_class or '—')} | {md(c.protection or '—')} |" for name, c in e.columns.items()]
    if view.provenance.macros:
        lines += ["", "De-identification applied:", ""]
        lines += [f"- {code(call.display())}" + (f" (in {md(' › '.join(call.inside))})" if call.inside else "") for call in view.provenance.macros]
    lines += [f"> note: {md(note)}" for note in view.provenance.notes]
    if view.provenance.tests:
        lines += ["", "| Test | Settings | Last result |", "|---|---|---|"]
        for test in view.provenance.tests:
            name = f"{test.namespace + '.' if test.namespace else ''}{test.test}" + (f" on {test.column}" if test.column else "")
            result = (test.status or "not run") + (f" ({test.failures} failing)" if test.failures else "")
            lines.append(f"| {md(name)} | {md(test.kwargs or '—')} | {md(result)} |")
    if view.findings:
        lines += ["", "Findings:", ""]
        lines += [f"- **{f.severity}** {code(f.category)}: {md(f.message)} — fix: {md(f.hint)}" for f in view.findings]
    return lines + [""]


def render(site: Site) -> str:
    """The whole markdown document."""
    metrics = site.metrics()
    coverage = metrics["coverage"]
    share = "–" if coverage["share"] is None else f"{coverage['share']:.0%}"
    lines = [
        "# Privacy lineage",
        "",
        f"Generated {site.generated_at} by privacy-guard docs. Machine-readable: `privacy_report.json`, `provenance.json`.",
        "",
        f"- Released personal models protected by a passing k_anonymity or min_cell_size test: **{share}** "
        f"({coverage['protected']} of {coverage['released']}; {coverage['staging_excluded']} never-released staging models not counted)",
        f"- Policy violations (errors): **{metrics['policy_violations']}** on {metrics['models_with_violations']} nodes; {metrics['warnings']} warnings",
        f"- Models without a privacy policy: **{len(metrics['models_without_policy'])}** of {metrics['models']}"
        + (f" ({md(', '.join(metrics['models_without_policy']))})" if metrics["models_without_policy"] else ""),
        "",
        "## Lineage",
        "",
        "Dotted edges join data of different departments; thick red edges are flagged combinations.",
        "",
        "```mermaid",
        mermaid(site),
        "```",
        "",
        "## Per department",
        "",
        "| Department | Nodes | Models | Combined with others | Findings |",
        "|---|---|---|---|---|",
        *(f"| {md(r['department'])} | {r['nodes']} | {r['models']} | {r['combined']} | {r['findings']} |" for r in site.by_department()),
        "",
        "## Per rule",
        "",
        "| Rule | Findings | Status |",
        "|---|---|---|",
        *(f"| {md(r['id'])} | {r['findings']} | {md(r['status'])} |" for r in site.by_rule()),
        "",
        "## Findings",
        "",
    ]
    if site.findings:
        lines += ["| Severity | Category | Model | Finding | How to fix |", "|---|---|---|---|---|"]
        for f in site.findings:
            owner = site.nodes.get(f.node)
            lines.append(f"| {f.severity} | {md(f.category)} | {md(owner.name if owner else f.node)} | {md(f.message)} | {md(f.hint)} |")
    else:
        lines.append("The check found nothing.")
    if site.notes:
        lines += ["", "## What the check could not see", ""]
        lines += [_note(note) for note in site.notes]
    lines += ["", "## Models", ""]
    for _, view in sorted(site.nodes.items(), key=lambda item: item[1].name):
        lines += _card(view)
    return "\n".join(lines).rstrip() + "\n"
