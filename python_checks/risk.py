"""Re-identification risk of one relation (`privacy-guard risk`), measured in the warehouse.

The database groups the rows by the quasi-identifiers (people counted by `privacy_unit` when one
is given) and returns only histograms of class sizes; the measures follow from those here.
Definitions as in ARX's risk analysis (`RiskModelSampleSummary`) after El Emam & Dankar (2008),
"Protecting privacy using k-anonymity", and El Emam, "Guide to the De-Identification of Personal
Health Information" (2013). With f the size of a record's class in the data and F in the
population:

- prosecutor: highest risk 1/min f; average risk (success rate) = mean of 1/f over records =
  classes / records; records at risk = records with 1/f > threshold;
- journalist (needs a population relation): highest risk 1/min F over the classes of the data;
  records at risk = records with 1/F > threshold; average = max(classes / sum F, marketer);
- marketer: mean of f/F over records (without a population F = f: classes / records);
- sample uniques: records alone in their class.

With `privacy_unit`, class sizes count distinct people, and a person's risk is the highest risk of
their rows (the class where they are easiest to single out); records are people. A NULL unit never
makes the data look safer (the package's rule, docs of `privacy_unit`): it adds nobody to a class's
size, so a class of such rows only has size 0 and risk 1, and each such row is a record of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

from python_checks.loader import ArtifactError
from python_checks.relation import Relation

DEFAULT_THRESHOLD = 0.2  # the risk of a class of 5: the package's default k


@dataclass(frozen=True)
class Journalist:
    max_risk: float
    average_risk: float
    records_at_risk: int


@dataclass(frozen=True)
class RiskReport:
    relation: str
    quasi_identifiers: list[str]
    privacy_unit: str | None
    threshold: float
    records: int
    classes: int
    smallest_class: int
    sample_uniques: int
    max_risk: float
    average_risk: float
    records_at_risk: int
    marketer_risk: float
    population: str | None = None
    journalist: Journalist | None = None

    def to_document(self) -> dict[str, object]:
        return asdict(self)


def at_risk(class_size: int, threshold: float) -> bool:
    """1/class_size > threshold, written as in the SQL of the dbt test (no division); size 0 is at risk."""
    return class_size * threshold < 1


def risk_of(class_size: int) -> float:
    """1/class_size; a class of no known person (NULL units only, size 0) is as exposed as a unique."""
    return 1 / max(class_size, 1)


def _classes_sql(relation: Relation, relation_sql: str, quasi_identifiers: Sequence[str]) -> str:
    columns = ", ".join(map(relation.quote, quasi_identifiers))
    return f"select {columns}, count(*) as class_size from {relation_sql} group by {columns}"


def _records_by_class_size(relation: Relation, quasi_identifiers: Sequence[str], privacy_unit: str | None) -> dict[int, tuple[int, int]]:
    """class size -> (classes of that size, records whose (smallest) class has that size).

    With a privacy unit a class's size is its number of distinct units, and each unit's rows are
    joined back to their classes to find its smallest one (measured faster, on DuckDB, than a window
    over the distinct (unit, QIs) pairs). A row without a unit adds nobody to its class and is a
    record of its own: a missing id must neither grow a class nor hide a record.
    """
    if privacy_unit is None:
        classes = _classes_sql(relation, relation.sql, quasi_identifiers)
        per_size = relation.rows(f"select class_size, count(*) from ({classes}) as classes group by 1")
        return {size: (count, size * count) for size, count in per_size}
    quote = relation.quote
    columns = ", ".join(map(quote, quasi_identifiers))
    unit = quote(privacy_unit)
    classes = (
        f"select {columns}, count(distinct {unit}) as class_size"
        f" from {relation.sql} group by {columns}"
    )
    by_size: dict[int, int] = dict(relation.rows(f"select class_size, count(*) from ({classes}) as classes group by 1"))
    joined = " and ".join(f"r.{quote(column)} is not distinct from c.{quote(column)}" for column in quasi_identifiers)
    people = dict(relation.rows(
        f"with sized as (select r.{unit}, c.class_size from {relation.sql} as r join ({classes}) as c on {joined})"
        f" select class_size, count(*) from (select min(class_size) as class_size from sized where {unit} is not null group by {unit}"
        f" union all select class_size from sized where {unit} is null) as people group by 1"
    ))
    return {size: (by_size.get(size, 0), people.get(size, 0)) for size in set(by_size) | set(people)}


def _journalist(relation: Relation, population: str, quasi_identifiers: Sequence[str], threshold: float, records: int, classes: int) -> tuple[Journalist, float]:
    """Journalist risk and marketer risk against the population relation."""
    with Relation(relation.connection, population, option="--population") as table:
        table.require("--qi (in --population)", quasi_identifiers)
        population_sql = table.sql
    sample = _classes_sql(relation, relation.sql, quasi_identifiers)
    universe = _classes_sql(relation, population_sql, quasi_identifiers)
    quote = relation.quote
    joined = " and ".join(f"s.{quote(column)} is not distinct from p.{quote(column)}" for column in quasi_identifiers)
    rows = relation.rows(
        f"select s.class_size, coalesce(p.class_size, 0), count(*) from ({sample}) as s left join ({universe}) as p on {joined} group by 1, 2"
    )
    short = sum(count for f, big_f, count in rows if big_f < f)
    if short:
        raise ArtifactError(f"--population {population}: {short} classes of {relation.name} have more records than in the population (is it the population the data was drawn from?)")
    marketer = sum(count * f / big_f for f, big_f, count in rows) / records
    return Journalist(
        max_risk=1 / min(big_f for _, big_f, _ in rows),
        average_risk=max(classes / sum(count * big_f for _, big_f, count in rows), marketer),
        records_at_risk=sum(count * f for f, big_f, count in rows if at_risk(big_f, threshold)),
    ), marketer


def measure_risk(
    relation: Relation,
    quasi_identifiers: Sequence[str],
    privacy_unit: str | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    population: str | None = None,
) -> RiskReport:
    """The risk report; only class-size histograms leave the database."""
    relation.require("--qi", quasi_identifiers)
    if not quasi_identifiers:
        raise ArtifactError("--qi: give at least one quasi-identifier column")
    if privacy_unit is not None:
        relation.require("--privacy-unit", [privacy_unit])
        if privacy_unit in quasi_identifiers:
            raise ArtifactError(f"--privacy-unit {privacy_unit}: is also a --qi column")
    if not 0 < threshold <= 1:
        raise ArtifactError(f"--threshold {threshold}: must be a risk in (0, 1]")
    by_size = _records_by_class_size(relation, quasi_identifiers, privacy_unit)
    records = sum(people for _, people in by_size.values())
    classes = sum(count for count, _ in by_size.values())
    if not records:
        raise ArtifactError(f"--relation {relation.name}: has no rows")
    smallest = min(size for size, (count, _) in by_size.items() if count)
    journalist, marketer = None, classes / records
    if population is not None:
        if privacy_unit is not None:
            raise ArtifactError("--population: journalist risk counts population rows; it cannot be combined with --privacy-unit")
        journalist, marketer = _journalist(relation, population, quasi_identifiers, threshold, records, classes)
    return RiskReport(
        relation=relation.name,
        quasi_identifiers=list(quasi_identifiers),
        privacy_unit=privacy_unit,
        threshold=threshold,
        records=records,
        classes=classes,
        smallest_class=smallest,
        sample_uniques=sum(people for size, (_, people) in by_size.items() if size <= 1),
        max_risk=risk_of(smallest),
        average_risk=sum(people * risk_of(size) for size, (_, people) in by_size.items()) / records,
        records_at_risk=sum(people for size, (_, people) in by_size.items() if at_risk(size, threshold)),
        marketer_risk=marketer,
        population=population,
        journalist=journalist,
    )


def render_text(report: RiskReport) -> str:
    unit = f"people ({report.privacy_unit})" if report.privacy_unit else "records"
    lines = [
        f"{report.relation}: re-identification risk over {', '.join(report.quasi_identifiers)}",
        f"  {unit}: {report.records}; classes: {report.classes}; smallest class: {report.smallest_class}",
        f"  sample uniques: {report.sample_uniques} ({report.sample_uniques / report.records:.2%})",
        f"  prosecutor risk: highest {report.max_risk:.4f}, average {report.average_risk:.4f}",
        f"  {unit} at risk (risk > {report.threshold:g}): {report.records_at_risk} ({report.records_at_risk / report.records:.2%})",
        f"  marketer risk: {report.marketer_risk:.4f}",
    ]
    if report.journalist is not None:
        lines.append(
            f"  journalist risk (population {report.population}): highest {report.journalist.max_risk:.4f}, "
            f"average {report.journalist.average_risk:.4f}, at risk {report.journalist.records_at_risk}"
        )
    return "\n".join(lines) + "\n"
