"""`privacy-guard docs`: the governance site (or one markdown file) of a dbt project.

Governance reads lineage docs, not check output: for every model where its personal data came
from, whose it is, what may be done with it, which de-identification was applied with which
settings and whether the privacy tests passed. This module gathers that into one `Site` (the
check's JSON document + provenance from the manifest/run_results) and writes it atomically; the
formatters (`formatters/html.py`, `formatters/markdown.py`) only lay it out. `docs` exits 0 once
the site is written whatever the findings: `check` is the gate.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from python_checks import governance, provenance
from python_checks.check import run_check
from python_checks.findings import severity_rank
from python_checks.formatters.json import dumps
from python_checks.loader import read_json
from python_checks.outputs import replace_folder
from python_checks.project import TARGET, resolve_artifacts
from python_checks.settings import Agreement

#: The check document, beside the page: the machine-readable half of the docs.
REPORT_FILE = "privacy_report.json"
#: Per node: the macros applied with their settings, the attached tests and their last results.
PROVENANCE_FILE = "provenance.json"
MARKDOWN_FILE = "privacy_lineage.md"


@dataclass
class NodeView:
    """Everything one card of the site shows about a node."""

    unique_id: str
    entry: dict[str, Any]  # the check document's `nodes` entry (effective policy)
    provenance: provenance.NodeProvenance
    findings: list[dict[str, Any]]
    children: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.entry["name"]

    @property
    def resource_type(self) -> str:
        return self.entry["resource_type"]

    @property
    def declared_policy(self) -> bool:
        return bool(self.entry.get("declared"))

    @property
    def worst_severity(self) -> str | None:
        return max((f["severity"] for f in self.findings), key=severity_rank, default=None)


@dataclass
class Site:
    """The docs of one project: the check document plus provenance, per node and in total."""

    document: dict[str, Any]
    nodes: dict[str, NodeView]
    run: provenance.RunInfo | None
    generated_at: str
    agreements: dict[str, Agreement] = field(default_factory=dict)
    #: Earlier builds' governance numbers (governance.read_history), oldest first; this build is appended.
    history: list[dict[str, Any]] = field(default_factory=list)
    #: Runs of the audit table (`--database`), oldest first (governance.audit_runs).
    audit_runs: list[dict[str, Any]] = field(default_factory=list)

    @property
    def findings(self) -> list[dict[str, Any]]:
        return self.document["findings"]

    @property
    def edges(self) -> list[dict[str, Any]]:
        return self.document["edges"]

    def departments(self) -> list[str]:
        return sorted({d for view in self.nodes.values() for d in view.entry["departments"]})

    def metrics(self) -> dict[str, Any]:
        """The governance numbers: privacy-test coverage of released models, violations, models without a policy."""
        models = [v for v in self.nodes.values() if v.resource_type == "model"]
        errors = [f for f in self.findings if f["severity"] == "error"]
        return {
            "coverage": governance.coverage(self),
            "undeclared": sorted(v.name for v in self.nodes.values() if governance.node_state(v) == "undeclared"),
            "policy_violations": len(errors),
            "models_with_violations": len({f["node"] for f in errors}),
            "warnings": sum(f["severity"] == "warning" for f in self.findings),
            "models": len(models),
            "models_without_policy": sorted(v.name for v in models if not v.declared_policy),
        }

    def by_department(self) -> list[dict[str, Any]]:
        """Per department: its nodes, personal nodes, and the findings on them."""
        rows = []
        for department in self.departments():
            views = [v for v in self.nodes.values() if department in v.entry["departments"]]
            rows.append(
                {
                    "department": department,
                    "nodes": len(views),
                    "models": sum(v.resource_type == "model" for v in views),
                    "combined": sum(len(v.entry["departments"]) > 1 for v in views),
                    "findings": sum(len(v.findings) for v in views),
                }
            )
        return rows

    def by_rule(self) -> list[dict[str, Any]]:
        """Per rule of the check: how many findings, with its summary (rules that did not run too)."""
        counts = self.document["summary"]["by_rule"]
        return [
            {**rule, "findings": counts.get(rule["id"], 0)}
            for rule in sorted(self.document.get("rules", []), key=lambda r: (-counts.get(r["id"], 0), r["id"]))
        ]


def build_site(
    document: dict[str, Any],
    manifest: dict[str, Any],
    run_results: dict[str, Any] | None = None,
    *,
    agreements: dict[str, Agreement] | None = None,
    history: list[dict[str, Any]] | None = None,
) -> Site:
    """Join the check document with the manifest's provenance into the per-node views."""
    extracted = provenance.extract(manifest, run_results)
    findings: dict[str, list[dict[str, Any]]] = {}
    for finding in document["findings"]:
        findings.setdefault(finding["node"], []).append(finding)
    views = {
        uid: NodeView(uid, entry, extracted.get(uid) or provenance.NodeProvenance(uid), findings.get(uid, []))
        for uid, entry in document["nodes"].items()
    }
    for edge in document["edges"]:
        if edge["source"] in views:
            views[edge["source"]].children.append(edge["target"])
    now = dt.datetime.now(dt.timezone.utc)
    applied = {uid: view.provenance.to_dict() for uid, view in views.items()}
    current = governance.history_point(document, applied, now.isoformat())
    return Site(
        document=document,
        nodes=views,
        run=provenance.run_info(run_results),
        generated_at=now.strftime("%Y-%m-%d %H:%M UTC"),
        agreements=agreements or {},
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
) -> Site:
    """Run the check and read the provenance; ArtifactError (one line) on unusable input."""
    earlier = governance.read_history(history or [])
    report = run_check(manifest, project_dir=project_dir, catalog=catalog, run_results=run_results)
    raw_results = read_json(run_results, "run_results") if run_results is not None else None
    site = build_site(
        report.to_document(), read_json(manifest, "manifest"), raw_results, agreements=report.analysis.settings.agreements, history=earlier
    )
    if database is not None:
        site.audit_runs = governance.audit_runs(database, site)
    return site


def _render(site: Site, output_format: str) -> dict[str, str]:
    # Imported here: the formatters type-annotate with Site, so they import this module.
    from python_checks.formatters import html, markdown

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


@click.command("docs")
@click.option("--manifest", type=click.Path(path_type=Path), help="dbt manifest.json [default: target/manifest.json of the dbt project at or above the working folder].")
@click.option("--out", type=click.Path(path_type=Path), help="Folder to write the site into (replaced atomically; only an empty folder or an earlier docs output) [default: the project's target/privacy_docs].")
@click.option("--run-results", type=click.Path(path_type=Path), help="run_results.json: latest test results on the cards.")
@click.option("--catalog", type=click.Path(path_type=Path), help="catalog.json: warehouse columns.")
@click.option(
    "--project-dir",
    type=click.Path(path_type=Path),
    help="dbt project whose dbt_project.yml holds vars.privacy_guard [default: folder above the manifest's target/, else the nearest dbt project].",
)
@click.option("--format", "output_format", type=click.Choice(["html", "markdown"]), default="html", show_default=True)
@click.option(
    "--history",
    type=click.Path(path_type=Path),
    multiple=True,
    help="An earlier build's privacy_report.json or an earlier site's history.json (repeatable): trends over time.",
)
@click.option("--database", type=click.Path(path_type=Path), help="DuckDB file with the audit table: runs over time on the History tab.")
def docs_command(
    manifest: Path | None,
    out: Path | None,
    run_results: Path | None,
    catalog: Path | None,
    project_dir: Path | None,
    output_format: str,
    history: tuple[Path, ...],
    database: Path | None,
) -> int:
    """Write the privacy lineage site (index.html + assets, or one markdown file) and the check JSON."""
    manifest, project_dir = resolve_artifacts(manifest, project_dir)
    out = out or project_dir / TARGET / "privacy_docs"
    site = load_site(manifest, run_results=run_results, catalog=catalog, project_dir=project_dir, history=list(history), database=database)
    written = write_site(site, out, output_format)
    click.echo(f"privacy-guard: docs written to {written} ({len(site.nodes)} nodes, {len(site.findings)} findings)")
    return 0
