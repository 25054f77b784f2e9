"""The governance site (or one markdown file) of a dbt project: what `privacy-guard docs` writes.

Governance reads lineage docs, not check output: for every model where its personal data came
from, whose it is, what may be done with it, which de-identification was applied with which
settings and whether the privacy tests passed. This module gathers that into one
`governance.Site` (the typed check report + provenance from the manifest and run_results the
check loaded) and writes it atomically; the formatters (`formatters/html.py`,
`formatters/markdown.py`) only lay it out. `docs` exits 0 once the site is written whatever the
findings: `check` is the gate.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

from python_checks import governance, provenance
from python_checks.check import CheckReport, run_check
from python_checks.findings import Finding
from python_checks.formatters import html, markdown
from python_checks.formatters.json import dumps
from python_checks.governance import NodeView, Site
from python_checks.loader import RunResults
from python_checks.outputs import replace_folder

#: The check document, beside the page: the machine-readable half of the docs.
REPORT_FILE = "privacy_report.json"
#: Per node: the macros applied with their settings, the attached tests and their last results.
PROVENANCE_FILE = "provenance.json"
MARKDOWN_FILE = "privacy_lineage.md"


def build_site(report: CheckReport, run_results: RunResults | None = None, *, history: list[dict[str, Any]] | None = None) -> Site:
    """Join the check report with the provenance of its manifest (the one load the check made) into the per-node views."""
    entries = report.node_entries()
    document = report.to_document(entries)
    extracted = provenance.extract(report.analysis.manifest, run_results)
    findings: dict[str, list[Finding]] = {}
    for finding in report.findings:
        findings.setdefault(finding.node, []).append(finding)
    views = {
        uid: NodeView(uid, entry, extracted.get(uid) or provenance.NodeProvenance(uid), findings.get(uid, []))
        for uid, entry in entries.items()
    }
    for source, target in report.analysis.lineage.edges():
        if source in views:
            views[source].children.append(target)
    now = dt.datetime.now(dt.timezone.utc)
    applied = {uid: view.provenance.to_dict() for uid, view in views.items()}
    current = governance.history_point(document, applied, now.isoformat())
    return Site(
        report=report,
        document=document,
        nodes=views,
        run=run_results.run if run_results is not None else None,
        generated_at=now.strftime("%Y-%m-%d %H:%M UTC"),
        agreements=report.analysis.settings.agreements,
        history=[*(history or []), current],
    )


def load_site(
    manifest: Path,
    *,
    run_results: Path | None = None,
    catalog: Path | None = None,
    project_dir: Path | None = None,
    history: list[Path] | None = None,
    database: Path | None = None,
    as_of: dt.date | None = None,
) -> Site:
    """Run the check and read the provenance; ArtifactError (one line) on unusable input."""
    earlier = governance.read_history(history or [])
    report = run_check(manifest, project_dir=project_dir, catalog=catalog, run_results=run_results, as_of=as_of)
    site = build_site(report, report.analysis.run_results, history=earlier)
    if database is not None:
        site.audit_runs = governance.audit_runs(database, site)
    return site


def _render(site: Site, output_format: str) -> dict[str, str]:
    renderers: dict[str, Callable[[Site], dict[str, str]]] = {
        "html": html.render_site,
        "markdown": lambda s: {MARKDOWN_FILE: markdown.render(s)},
    }
    applied = {uid: view.provenance.to_dict() for uid, view in sorted(site.nodes.items())}
    history = {"points": site.history}
    return {**renderers[output_format](site), REPORT_FILE: dumps(site.document), PROVENANCE_FILE: dumps(applied), governance.HISTORY_FILE: dumps(history)}


def write_site(site: Site, out: Path, output_format: str = "html") -> Path:
    """Write the site into `out` atomically (built next to it, then renamed); returns the main file.

    An existing `out` is replaced only when it is empty or an earlier docs output (outputs.MARKER),
    so a mistyped --out cannot wipe an unrelated folder.
    """
    replace_folder(out, _render(site, output_format))
    return out.resolve() / ("index.html" if output_format == "html" else MARKDOWN_FILE)
