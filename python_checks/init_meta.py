"""`privacy-guard init`: a privacy meta skeleton for the nodes whose personal-looking columns lack a class.

It proposes, never decides: every proposed value carries a `# review` comment, department and
retention are placeholders that fail `validate` until filled, and existing files are never edited.
Column names and the personal-name test are the ones unclassified_personal_data uses (one home).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import click

from python_checks.analysis import Analysis
from python_checks.check import run_check
from python_checks.connections import DbtTarget, open_warehouse
from python_checks.policy import DIRECT_IDENTIFIER, POLICY_TYPES
from python_checks.rules.unclassified import column_names, personal_pattern

if TYPE_CHECKING:  # duckdb: only with a warehouse (the [duckdb] extra)
    from python_checks.rules.warehouse import Warehouse

PLACEHOLDER = "TODO"
#: dbt properties YAML groups nodes by resource type under these keys.
_SECTIONS = {"seed": "seeds", "model": "models", "snapshot": "snapshots"}


@dataclass(frozen=True)
class Proposal:
    """One node to classify: its unclassified personal-looking columns, and whether it lacks node-level meta."""

    unique_id: str
    resource_type: str
    name: str
    source_name: str | None
    columns: tuple[str, ...]
    needs_node_meta: bool


def _classified(analysis: Analysis, unique_id: str) -> set[str]:
    """Columns with an effective class: declared here or inherited from a classified parent."""
    return {name.lower() for name, column in analysis.policies[unique_id].columns.items() if column.column_class}


def proposals(analysis: Analysis, warehouse: Warehouse | None = None) -> list[Proposal]:
    """Every seed/source/model/snapshot with personal-looking columns that no YAML classifies, in lineage order.

    A column is proposed where it first appears: a model passing on a parent's proposed column
    inherits the class once the parent is classified.
    """
    pattern = personal_pattern(analysis.settings)
    known: dict[str, frozenset[str]] = {}
    proposed: dict[str, frozenset[str]] = {}
    found = []
    for unique_id in analysis.lineage.order:
        node = analysis.manifest.nodes[unique_id]
        if node.resource_type not in POLICY_TYPES or node.resource_type == "exposure":
            continue
        names = column_names(analysis.sql, analysis.lineage, node, known)
        known[unique_id] = names = names | warehouse.column_names(node) if warehouse is not None else names
        inherited = set().union(*(proposed.get(parent, ()) for parent in analysis.lineage.parents[unique_id]))
        personal = sorted(name for name in names - _classified(analysis, unique_id) if pattern.fullmatch(name))
        proposed[unique_id] = frozenset(personal)
        personal = [name for name in personal if name not in inherited]
        if personal:
            parts = unique_id.split(".")  # source.<package>.<source name>.<table>
            source_name = (parts[2] if len(parts) > 3 else PLACEHOLDER) if node.resource_type == "source" else None
            found.append(Proposal(unique_id, node.resource_type, node.name, source_name, tuple(personal), node.privacy is None))
    return found


def _quote(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid YAML scalar, whatever the name holds


def _node_block(proposal: Proposal, indent: str) -> list[str]:
    lines = [f"{indent}- name: {_quote(proposal.name)}"]
    if proposal.needs_node_meta:
        lines += [
            f"{indent}  config:",
            f"{indent}    meta:",
            f"{indent}      privacy:",
            f"{indent}        department: {PLACEHOLDER}  # review: the department that owns this data",
            f"{indent}        retention:",
            f"{indent}          days: {PLACEHOLDER}  # review: how long rows may be kept",
        ]
    lines.append(f"{indent}  columns:")
    for column in proposal.columns:
        lines += [
            f"{indent}    - name: {_quote(column)}",
            f"{indent}      config:",
            f"{indent}        meta:",
            f"{indent}          privacy:",
            f"{indent}            class: {DIRECT_IDENTIFIER}  # review: name looks personal; quasi_identifier if it identifies only in combination, none if not personal",
        ]
    return lines


def render(found: list[Proposal]) -> str:
    """dbt properties YAML (version 2) with one block per proposal; comments mark what to review."""
    lines = [
        "# privacy-guard init: proposed privacy meta. Fill every TODO, review every `# review` line,",
        "# then merge each block into the YAML file that declares the node (this file is a proposal).",
        "version: 2",
    ]
    if not found:
        lines.insert(2, "# every personal-looking column is classified: nothing to propose")
    sources: dict[str, list[Proposal]] = {}
    for proposal in found:
        if proposal.source_name is not None:
            sources.setdefault(proposal.source_name, []).append(proposal)
    if sources:
        lines.append("sources:")
        for source_name, tables in sources.items():
            lines += [f"  - name: {_quote(source_name)}", "    tables:"]
            for table in tables:
                lines += _node_block(table, "      ")
    for resource_type, section in _SECTIONS.items():
        nodes = [proposal for proposal in found if proposal.resource_type == resource_type]
        if nodes:
            lines.append(f"{section}:")
            for proposal in nodes:
                lines += _node_block(proposal, "  ")
    return "\n".join(lines) + "\n"


def write_new(text: str, out: Path) -> None:
    """Write `out` only when it does not exist yet (never overwrites, never follows into an existing file)."""
    try:
        with out.open("x", encoding="utf-8") as stream:
            stream.write(text)
    except FileExistsError:
        raise click.ClickException(f"--out {out}: exists; init never overwrites a file") from None
    except OSError as error:
        raise click.ClickException(f"--out {out}: {error.strerror}") from None


def run_init(manifest: Path, project_dir: Path | None, catalog: Path | None, database: Path | None = None, target: DbtTarget | None = None) -> str:
    """The proposal YAML for one manifest (column names also from the warehouse: a DuckDB file or a dbt target, when given)."""
    report = run_check(manifest, project_dir=project_dir, catalog=catalog)
    connection = open_warehouse(database, target)
    if connection is None:
        return render(proposals(report.analysis))
    from python_checks.rules.warehouse import Warehouse

    warehouse = Warehouse(connection)
    try:
        return render(proposals(report.analysis, warehouse))
    finally:
        warehouse.close()
