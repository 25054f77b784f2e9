"""Independent pure-Python computations for the anonymize / risk / utility tests, written from the
definitions (ARX's metric documentation, El Emam's risk measures), over plain rows: no numpy, no
SQL, nothing from python_checks.
"""

from __future__ import annotations

import csv
import itertools
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

from dbt_harness import ADULT_DIR

ADULT_COLUMNS = ["sex", "age", "race", "marital-status", "education", "native-country", "workclass", "occupation", "salary-class"]


def adult_rows() -> list[dict[str, str]]:
    """adult.csv as text values (`;`, CRLF)."""
    with (ADULT_DIR / "adult.csv").open(newline="") as handle:
        return list(csv.DictReader(handle, delimiter=";"))


def adult_hierarchy(column: str) -> dict[str, list[str]]:
    """Original value -> its ancestors by level (level 0 = the value)."""
    path = ADULT_DIR / f"adult_hierarchy_{column}.csv"
    with path.open(newline="") as handle:
        return {row[0]: row for row in csv.reader(handle, delimiter=";") if row}


def hierarchy_file(column: str) -> Path:
    return ADULT_DIR / f"adult_hierarchy_{column}.csv"


def combinations(rows: Sequence[dict[str, str]], columns: Sequence[str]) -> Counter:
    """Distinct value tuples of `columns` with their row counts (the same information as the rows)."""
    return Counter(tuple(row[column] for column in columns) for row in rows)


def non_uniform_entropy(combos: Counter, columns: Sequence[str], levels: Sequence[int], hierarchies: dict[str, dict[str, list[str]]]) -> float:
    """Sum over records and columns of -log2(P(original value | generalized value)), frequencies
    over all records (ARX's non-uniform entropy; suppressed records are not charged again)."""
    total = 0.0
    for j, (column, level) in enumerate(zip(columns, levels)):
        original: Counter = Counter()
        for values, count in combos.items():
            original[values[j]] += count
        coarse: Counter = Counter()
        for value, count in original.items():
            coarse[hierarchies[column][value][level]] += count
        total += sum(-count * math.log2(count / coarse[hierarchies[column][value][level]]) for value, count in original.items())
    return total


def evaluate(
    combos: Counter,
    columns: Sequence[str],
    levels: Sequence[int],
    hierarchies: dict[str, dict[str, list[str]]],
    k: int,
    l: int | None = None,  # noqa: E741
) -> dict[str, float]:
    """Suppressed rows, smallest kept class and discernibility of one node. With `l`, each combo
    tuple carries the sensitive value last (one more item than `columns`)."""
    sizes: Counter = Counter()
    values: dict[tuple[str, ...], set[str]] = {}
    for combo, count in combos.items():
        key = tuple(hierarchies[column][value][level] for column, value, level in zip(columns, combo, levels))
        sizes[key] += count
        values.setdefault(key, set()).add(combo[-1])
    bad = {key for key, size in sizes.items() if size < k or (l is not None and len(values[key]) < l)}
    suppressed = sum(sizes[key] for key in bad)
    kept = [size for key, size in sizes.items() if key not in bad]
    return {
        "suppressed": suppressed,
        "k": min(kept) if kept else 0,
        "classes": len(kept),
        "discernibility": sum(size * size for size in kept) + suppressed * sum(sizes.values()),
    }


def brute_force_optimum(
    rows: Sequence[dict[str, str]],
    columns: Sequence[str],
    k: int,
    max_suppression: float,
    metric: str,
    l: int | None = None,  # noqa: E741
    sensitive: str | None = None,
) -> tuple[float, list[tuple[int, ...]]]:
    """(best loss, every node reaching it) by visiting the whole lattice."""
    hierarchies = {column: adult_hierarchy(column) for column in columns}
    heights = [len(next(iter(hierarchies[column].values()))) for column in columns]
    limit = math.floor(max_suppression * len(rows))
    combos = combinations(rows, [*columns, *([sensitive] if sensitive else [])])
    results: list[tuple[float, tuple[int, ...]]] = []
    for levels in itertools.product(*(range(height) for height in heights)):
        measured = evaluate(combos, columns, levels, hierarchies, k, l)
        if measured["suppressed"] > limit:
            continue
        loss = {
            "entropy": lambda: non_uniform_entropy(combos, columns, levels, hierarchies),  # noqa: B023 -- called at once, below
            "height": lambda: float(sum(levels)),  # noqa: B023 -- called at once, below
            "discernibility": lambda: float(measured["discernibility"]),  # noqa: B023 -- called at once, below
        }[metric]()
        results.append((loss, levels))
    best = min(loss for loss, _ in results)
    return best, [levels for loss, levels in results if math.isclose(loss, best, rel_tol=1e-9)]


def pairs(values: Iterable[str]) -> list[str]:
    """`--qi C --hierarchy C=FILE` arguments for Adult columns."""
    arguments: list[str] = []
    for column in values:
        arguments += ["--qi", column, "--hierarchy", f"{column}={hierarchy_file(column)}"]
    return arguments


def prosecutor(rows: Sequence[dict[str, str]], qis: Sequence[str], threshold: float, unit: str | None = None) -> dict[str, float]:
    """Risk measures from the definitions: a record's risk is 1/(size of its class); with `unit`,
    sizes count distinct non-NULL units and a unit's risk is the highest over its rows. A row
    without a unit adds nobody to its class but is a record of its own; a class of nobody (size 0)
    has risk 1."""

    def person_of(index: int, row: dict[str, str]) -> object:
        if unit is None:
            return ("row", index)
        return row[unit] if row[unit] is not None else ("no unit", index)

    members: dict[tuple[str, ...], set] = {}
    for index, row in enumerate(rows):
        people = members.setdefault(tuple(row[q] for q in qis), set())
        if unit is None or row[unit] is not None:
            people.add(person_of(index, row))
    size = {key: len(people) for key, people in members.items()}
    risk: dict[object, float] = {}
    for index, row in enumerate(rows):
        person = person_of(index, row)
        key = tuple(row[q] for q in qis)
        risk[person] = max(risk.get(person, 0.0), 1 / size[key] if size[key] else 1.0)
    records = len(risk)
    return {
        "records": records,
        "classes": len(size),
        "smallest_class": min(size.values()),
        "sample_uniques": sum(1 for value in risk.values() if value == 1.0),
        "max_risk": max(risk.values()),
        "average_risk": sum(risk.values()) / records,
        "records_at_risk": sum(1 for value in risk.values() if value > threshold),
        "classes_at_risk": sum(1 for value in size.values() if value == 0 or 1 / value > threshold),
        "marketer_risk": len(size) / records,
    }


def journalist(sample: Sequence[dict[str, str]], population: Sequence[dict[str, str]], qis: Sequence[str], threshold: float) -> dict[str, float]:
    """Journalist and marketer risk (El Emam & Dankar 2008, as ARX computes them)."""
    f = Counter(tuple(row[q] for q in qis) for row in sample)
    big_f = Counter(tuple(row[q] for q in qis) for row in population)
    marketer = sum(f[key] / big_f[key] for key in f) / len(sample)
    return {
        "max_risk": max(1 / big_f[key] for key in f),
        "average_risk": max(len(f) / sum(big_f[key] for key in f), marketer),
        "records_at_risk": sum(f[key] for key in f if 1 / big_f[key] > threshold),
        "marketer_risk": marketer,
    }
