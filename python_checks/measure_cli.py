"""The commands that measure a relation in the warehouse: `anonymize`, `risk`, `simulate-join`.

Like every command: only the document on stdout for JSON, one line on stderr and exit 2 for bad
input (the `ArtifactError`s of the modules below, handled by `cli.main`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import click

from python_checks.anonymize import (
    METRICS,
    Requirement,
    anonymize_relation,
    hierarchy_from_relation,
    model_snippet,
    model_target,
    read_hierarchies,
    render_text,
    result_document,
    seed_name,
)
from python_checks.check import run_check
from python_checks.formatters.json import dumps
from python_checks.hierarchy import HierarchyError, arx_to_seed
from python_checks.loader import ArtifactError, load_manifest
from python_checks.outputs import write_output
from python_checks.policy import QUASI_IDENTIFIER
from python_checks.relation import Relation
from python_checks.rules import REGISTRY
from python_checks.project import resolve_artifacts
from python_checks.settings import load_settings
from python_checks.risk import DEFAULT_THRESHOLD, measure_risk
from python_checks.risk import render_text as render_risk
from python_checks.simulate import Side, simulate_join
from python_checks.simulate import render_text as render_simulation

PathOption = click.Path(path_type=Path)
FORMAT = click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)


def _write(text: str, path: Path) -> None:
    write_output(text, path)


def _hierarchy_files(values: tuple[str, ...]) -> dict[str, Path]:
    files: dict[str, Path] = {}
    for value in values:
        column, separator, path = value.partition("=")
        if not separator or not column or not path:
            raise ArtifactError(f"--hierarchy {value}: expected COLUMN=FILE.csv")
        if column in files:
            raise ArtifactError(f"--hierarchy {column}: given twice")
        files[column] = Path(path)
    return files


@click.command("anonymize")
@click.option("--database", type=PathOption, required=True, help="DuckDB file holding the relation (and, with --model, the hierarchy seeds).")
@click.option("--relation", help="Table or view: name, schema.name or catalog.schema.name.")
@click.option("--qi", "quasi_identifiers", multiple=True, help="A quasi-identifier column (repeat the option).")
@click.option("--hierarchy", "hierarchies", multiple=True, help="COLUMN=FILE.csv: the column's ARX hierarchy (one per --qi).")
@click.option("--manifest", type=PathOption, help="With --model: the dbt manifest.json [default: target/manifest.json of the dbt project at or above the working folder].")
@click.option("--model", help="Instead of --relation/--qi/--hierarchy: a dbt model whose QI columns name their hierarchy seed in meta.")
@click.option("--project-dir", type=PathOption, help="With --model: dbt project whose vars.privacy_guard.default_k applies when the model declares no k.")
@click.option("--k", type=int, help="Minimum class size [with --model: privacy.k, else default_k].")
@click.option("--l", "l_value", type=int, help="Minimum distinct sensitive values per class (needs --sensitive).")
@click.option("--sensitive", help="The sensitive column for --l.")
@click.option("--max-suppression", type=float, default=0.0, show_default=True, help="Fraction of rows that may be suppressed.")
@click.option("--metric", type=click.Choice(METRICS), default="entropy", show_default=True, help="Loss to minimize.")
@FORMAT
@click.option("--write-model", type=PathOption, help="Write the dbt model applying the result here (else it goes to stderr).")
@click.option("--write-seeds", type=PathOption, help="Folder: write each --hierarchy file as the dbt seed the model refs.")
def anonymize_command(
    database: Path,
    relation: str | None,
    quasi_identifiers: tuple[str, ...],
    hierarchies: tuple[str, ...],
    manifest: Path | None,
    model: str | None,
    project_dir: Path | None,
    k: int | None,
    l_value: int | None,
    sensitive: str | None,
    max_suppression: float,
    metric: str,
    output_format: str,
    write_model: Path | None,
    write_seeds: Path | None,
) -> int:
    """Find the least-lossy hierarchy levels that make a relation k-anonymous (ARX's optimum)."""
    if write_seeds is not None and not write_seeds.is_dir():
        raise ArtifactError(f"--write-seeds {write_seeds}: no such directory")
    files: dict[str, Path] = {}
    if model is not None:
        if relation or quasi_identifiers or hierarchies or write_seeds:
            raise ArtifactError("--model: the relation, quasi-identifiers and hierarchies come from the manifest; drop --relation, --qi, --hierarchy and --write-seeds")
        manifest_path, project_dir = resolve_artifacts(manifest, project_dir)
        target = model_target(load_manifest(manifest_path), model)
        if k is None:
            k = target.k or load_settings(project_dir, REGISTRY).default_k
        relation, columns, seeds, source = target.relation, target.quasi_identifiers, target.seeds, target.name
        loaded = {}
        for column, seed_relation in target.seed_relations.items():
            with Relation(database, seed_relation, option=f"hierarchy {seeds[column]} of {column}:") as table:
                loaded[column] = hierarchy_from_relation(table)
    else:
        if relation is None or not quasi_identifiers or k is None:
            raise ArtifactError("--relation, --qi and --k are required (or --model)")
        files = _hierarchy_files(hierarchies)
        columns, loaded = list(quasi_identifiers), read_hierarchies(quasi_identifiers, files)
        seeds, source = {column: seed_name(path) for column, path in files.items()}, relation.split(".")[-1]
    requirement = Requirement(k=k, max_suppression=max_suppression, l=l_value)
    with Relation(database, relation) as table:
        result = anonymize_relation(table, columns, loaded, requirement, metric, sensitive)
        snippet = model_snippet(result, table, source, seeds, requirement, sensitive)
    for path in files.values():
        try:
            if write_seeds is not None:
                arx_to_seed(path, write_seeds / f"{seed_name(path)}.csv")
        except HierarchyError as error:
            raise ArtifactError(f"--write-seeds: {error}") from None
    if write_model is not None:
        _write(snippet, write_model)
    else:
        click.echo(snippet, err=True, nl=False)
    click.echo(dumps(result_document(result)) if output_format == "json" else render_text(result, relation, requirement), nl=False)
    return 0


@dataclass(frozen=True)
class RiskTarget:
    """What `risk --model` reads from the model's effective policy (as the reidentification_risk test does)."""

    relation: str
    quasi_identifiers: list[str]
    privacy_unit: str | None
    threshold: float


def risk_target(manifest_path: Path, project_dir: Path | None, model: str) -> RiskTarget:
    """QIs and privacy unit from the effective (inherited) policy; the threshold from privacy.risk.max_risk,
    else 1/k with the effective k, else 1/default_k -- the defaults of `_resolve_risk_thresholds`."""
    report = run_check(manifest_path, project_dir=project_dir)
    nodes = [node for node in report.analysis.manifest.nodes.values() if node.name == model and node.resource_type in {"model", "seed", "snapshot"}]
    if len(nodes) != 1:
        raise ArtifactError(f"--model {model}: {'no' if not nodes else 'more than one'} model, seed or snapshot of that name in {manifest_path}")
    node, policy = nodes[0], report.analysis.policies[nodes[0].unique_id]
    if not node.schema or not node.identifier:
        raise ArtifactError(f"--model {model}: {node.unique_id} has no schema/identifier in the manifest")
    quasi_identifiers = policy.columns_of(QUASI_IDENTIFIER)
    if not quasi_identifiers:
        raise ArtifactError(f"--model {model}: no column declares (or inherits) config.meta.privacy.class: quasi_identifier")
    declared = policy.declared.get("risk") or {}
    threshold = declared.get("max_risk") or 1 / (policy.k or report.analysis.settings.default_k)
    return RiskTarget(f"{node.schema}.{node.identifier}", quasi_identifiers, policy.privacy_unit, threshold)


@click.command("risk")
@click.option("--database", type=PathOption, required=True, help="DuckDB file holding the relation.")
@click.option("--relation", help="Table or view: name, schema.name or catalog.schema.name.")
@click.option("--qi", "quasi_identifiers", multiple=True, help="A quasi-identifier column (repeat the option).")
@click.option("--privacy-unit", help="Column identifying the person: classes count distinct people, not rows.")
@click.option("--threshold", type=float, help=f"A record is at risk above this re-identification probability [default: {DEFAULT_THRESHOLD}; with --model: privacy.risk.max_risk, else 1/k].")
@click.option("--population", help="Relation holding the population the data was drawn from (same QI columns): adds journalist risk.")
@click.option("--model", help="Instead of --relation/--qi/--privacy-unit: a dbt model; QIs, privacy unit and threshold come from its effective policy.")
@click.option("--manifest", type=PathOption, help="With --model: the dbt manifest.json [default: target/manifest.json].")
@click.option("--project-dir", type=PathOption, help="With --model: dbt project whose vars.privacy_guard.default_k applies when no k is declared or inherited.")
@FORMAT
def risk_command(
    database: Path,
    relation: str | None,
    quasi_identifiers: tuple[str, ...],
    privacy_unit: str | None,
    threshold: float | None,
    population: str | None,
    model: str | None,
    manifest: Path | None,
    project_dir: Path | None,
    output_format: str,
) -> int:
    """Prosecutor, journalist and marketer re-identification risk of RELATION, measured in the warehouse."""
    if model is not None:
        if relation or quasi_identifiers or privacy_unit:
            raise ArtifactError("--model: the relation, quasi-identifiers and privacy unit come from the manifest; drop --relation, --qi and --privacy-unit")
        manifest_path, project_dir = resolve_artifacts(manifest, project_dir)
        target = risk_target(manifest_path, project_dir, model)
        relation, quasi_identifiers, privacy_unit = target.relation, tuple(target.quasi_identifiers), target.privacy_unit
        threshold = target.threshold if threshold is None else threshold
    elif relation is None or not quasi_identifiers:
        raise ArtifactError("--relation and --qi are required (or --model)")
    threshold = DEFAULT_THRESHOLD if threshold is None else threshold
    with Relation(database, relation) as table:
        report = measure_risk(table, quasi_identifiers, privacy_unit, threshold, population)
    click.echo(dumps(report.to_document()) if output_format == "json" else render_risk(report), nl=False)
    return 0


@click.command("simulate-join")
@click.option("--database", type=PathOption, required=True, help="DuckDB file holding both relations.")
@click.option("--left", "left_relation", required=True, help="Left relation.")
@click.option("--right", "right_relation", required=True, help="Right relation.")
@click.option("--on", "on_pairs", multiple=True, required=True, help="LEFT_COLUMN=RIGHT_COLUMN join key (repeat for composite keys).")
@click.option("--left-qi", multiple=True, help="A quasi-identifier of the left relation (repeat).")
@click.option("--right-qi", multiple=True, help="A quasi-identifier of the right relation (repeat).")
@click.option("--hierarchy", "hierarchies", multiple=True, help="left.COLUMN=FILE.csv or right.COLUMN=FILE.csv: try that column one level more general.")
@click.option("--k", type=int, default=5, show_default=True, help="Classes smaller than this count as at risk.")
@FORMAT
def simulate_join_command(
    database: Path,
    left_relation: str,
    right_relation: str,
    on_pairs: tuple[str, ...],
    left_qi: tuple[str, ...],
    right_qi: tuple[str, ...],
    hierarchies: tuple[str, ...],
    k: int,
    output_format: str,
) -> int:
    """Classes, uniques and k of the quasi-identifiers of LEFT JOIN RIGHT, from each side's histogram, before the join exists."""
    keys = []
    for pair in on_pairs:
        left_key, separator, right_key = pair.partition("=")
        if not separator or not left_key or not right_key:
            raise ArtifactError(f"--on {pair}: expected LEFT_COLUMN=RIGHT_COLUMN")
        keys.append((left_key, right_key))
    left = Side(left_relation, [key for key, _ in keys], list(left_qi), "left")
    right = Side(right_relation, [key for _, key in keys], list(right_qi), "right")
    simulation = simulate_join(database, left, right, _hierarchy_files(hierarchies), k)
    click.echo(dumps(simulation.to_document()) if output_format == "json" else render_simulation(simulation), nl=False)
    return 0
