"""The commands that measure a relation in the warehouse: `anonymize`, `risk`, `simulate-join`.

Like every command: only the document on stdout for JSON, one line on stderr and exit 2 for bad
input (the `ArtifactError`s of the modules below, handled by `cli.main`).
"""

from __future__ import annotations

from pathlib import Path

import click

from python_checks.anonymize import METRICS, Requirement, anonymize_relation, model_snippet, render_text, result_document, seed_name
from python_checks.formatters.json import dumps
from python_checks.hierarchy import HierarchyError, arx_to_seed
from python_checks.loader import ArtifactError
from python_checks.relation import Relation
from python_checks.risk import DEFAULT_THRESHOLD, measure_risk
from python_checks.risk import render_text as render_risk
from python_checks.simulate import Side, simulate_join
from python_checks.simulate import render_text as render_simulation

PathOption = click.Path(path_type=Path)
FORMAT = click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)


def _write(text: str, path: Path) -> None:
    from python_checks.cli import write_output  # noqa: PLC0415 -- cli imports this module

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
@click.option("--database", type=PathOption, required=True, help="DuckDB file holding the relation.")
@click.option("--relation", required=True, help="Table or view: name, schema.name or catalog.schema.name.")
@click.option("--qi", "quasi_identifiers", multiple=True, required=True, help="A quasi-identifier column (repeat the option).")
@click.option("--hierarchy", "hierarchies", multiple=True, help="COLUMN=FILE.csv: the column's ARX hierarchy (one per --qi).")
@click.option("--k", type=int, required=True, help="Minimum class size.")
@click.option("--l", "l_value", type=int, help="Minimum distinct sensitive values per class (needs --sensitive).")
@click.option("--sensitive", help="The sensitive column for --l.")
@click.option("--max-suppression", type=float, default=0.0, show_default=True, help="Fraction of rows that may be suppressed.")
@click.option("--metric", type=click.Choice(METRICS), default="entropy", show_default=True, help="Loss to minimize.")
@FORMAT
@click.option("--write-model", type=PathOption, help="Write the dbt model applying the result here (else it goes to stderr).")
@click.option("--write-seeds", type=PathOption, help="Folder: write each hierarchy as the dbt seed the model refs.")
def anonymize_command(
    database: Path,
    relation: str,
    quasi_identifiers: tuple[str, ...],
    hierarchies: tuple[str, ...],
    k: int,
    l_value: int | None,
    sensitive: str | None,
    max_suppression: float,
    metric: str,
    output_format: str,
    write_model: Path | None,
    write_seeds: Path | None,
) -> int:
    """Find the least-lossy hierarchy levels that make RELATION k-anonymous (ARX's optimum)."""
    requirement = Requirement(k=k, max_suppression=max_suppression, l=l_value)
    files = _hierarchy_files(hierarchies)
    if write_seeds is not None and not write_seeds.is_dir():
        raise ArtifactError(f"--write-seeds {write_seeds}: no such directory")
    with Relation(database, relation) as table:
        result = anonymize_relation(table, quasi_identifiers, files, requirement, metric, sensitive)
        snippet = model_snippet(result, table, files, requirement, sensitive)
    if write_seeds is not None:
        for path in files.values():
            try:
                arx_to_seed(path, write_seeds / f"{seed_name(path)}.csv")
            except HierarchyError as error:
                raise ArtifactError(f"--write-seeds: {error}") from None
    if write_model is not None:
        _write(snippet, write_model)
    else:
        click.echo(snippet, err=True, nl=False)
    click.echo(dumps(result_document(result)) if output_format == "json" else render_text(result, relation, requirement), nl=False)
    return 0


@click.command("risk")
@click.option("--database", type=PathOption, required=True, help="DuckDB file holding the relation.")
@click.option("--relation", required=True, help="Table or view: name, schema.name or catalog.schema.name.")
@click.option("--qi", "quasi_identifiers", multiple=True, required=True, help="A quasi-identifier column (repeat the option).")
@click.option("--privacy-unit", help="Column identifying the person: classes count distinct people, not rows.")
@click.option("--threshold", type=float, default=DEFAULT_THRESHOLD, show_default=True, help="A record is at risk above this re-identification probability.")
@click.option("--population", help="Relation holding the population the data was drawn from (same QI columns): adds journalist risk.")
@FORMAT
def risk_command(
    database: Path,
    relation: str,
    quasi_identifiers: tuple[str, ...],
    privacy_unit: str | None,
    threshold: float,
    population: str | None,
    output_format: str,
) -> int:
    """Prosecutor, journalist and marketer re-identification risk of RELATION, measured in the warehouse."""
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
