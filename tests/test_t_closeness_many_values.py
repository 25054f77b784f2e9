"""Ordered t-closeness on a numeric sensitive column of thousands of distinct values.

The DuckDB body computes the ordered EMD per class from segments of constant cumulative share,
prefix sums of the table's cumulative shares and an ASOF join: this checks every class's stored
distance against an oracle written from the definition (Li, Li & Venkatasubramanian 2007), a
running sum over all m sorted distinct values, on data shaped to exercise it: m > 5,000 values,
classes holding thousands of them and classes holding one or two, ties, values absent from most
classes, NULL salaries (sorted last, like the SQL's position), and the same with a privacy unit
(each person's value counted once per value, people with no id left out).
"""

from __future__ import annotations

import csv
import json
import random
from collections import Counter, defaultdict
from typing import Any

import duckdb
import pytest

from dbt_harness import DbtResult, dbt, dbt_project

pytestmark = pytest.mark.dbt

#: region -> rows: two classes of thousands of values, small ones, one of a single row.
CLASS_ROWS = {"north": 14_000, "south": 9_000, "east": 600, "west": 40, "centre": 2, "island": 1}
T = 0  # every class with any distance fails: its stored row is compared with the oracle


def generate_rows() -> list[dict[str, Any]]:
    """Salaries from a skewed distribution (ties, gaps, each region shifted) and person ids."""
    rng = random.Random(8)
    rows = []
    for region, count in CLASS_ROWS.items():
        shift = len(rows) % 7 * 500
        for _ in range(count):
            salary = None if rng.random() < 0.002 else int(rng.lognormvariate(10, 0.6)) // 3 + shift
            person = None if rng.random() < 0.01 else f"p{rng.randrange(12_000)}"
            rows.append({"region": region, "salary": salary, "person_id": person})
    return rows


def cell_counts(rows: list[dict[str, Any]], unit: str | None) -> dict[tuple[str, Any], int]:
    """Per (region, salary) cell: its rows, or its distinct people (a cell of rows without one holds 0)."""
    if unit is None:
        return Counter((row["region"], row["salary"]) for row in rows)
    people: dict[tuple[str, Any], set[Any]] = defaultdict(set)
    for row in rows:
        cell = people[(row["region"], row["salary"])]
        if row[unit] is not None:
            cell.add(row[unit])
    return {key: len(ids) for key, ids in people.items()}


def ordered_emd(rows: list[dict[str, Any]], unit: str | None) -> list[tuple[int, int, float]]:
    """(class size, class rows, distance) per class, from the definition over all m values."""
    counts = cell_counts(rows, unit)
    table: Counter[Any] = Counter()
    classes: dict[str, Counter[Any]] = defaultdict(Counter)
    for (region, salary), count in counts.items():
        table[salary] += count
        classes[region][salary] += count
    values = sorted(table, key=lambda v: (v is None, v or 0))  # NULL last
    total = sum(table.values())
    result = []
    for region, class_counts in classes.items():
        size = sum(class_counts.values())
        running, distance = 0.0, 0.0
        for value in values:
            running += class_counts[value] / size - table[value] / total
            distance += abs(running)
        region_rows = [row for row in rows if row["region"] == region]
        people = len({row[unit] for row in region_rows if row[unit] is not None}) if unit else len(region_rows)
        result.append((people, len(region_rows), distance / (len(values) - 1)))
    return sorted(result)


@pytest.fixture(scope="module")
def rows() -> list[dict[str, Any]]:
    return generate_rows()


@pytest.fixture(scope="module")
def build(rows: list[dict[str, Any]], tmp_path_factory: pytest.TempPathFactory) -> DbtResult:
    source = tmp_path_factory.mktemp("source") / "many_values"
    (source / "models").mkdir(parents=True)
    data = source.parent / "salaries.csv"
    with data.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["region", "salary", "person_id"])
        writer.writeheader()
        writer.writerows(rows)
    (source / "dbt_project.yml").write_text(
        "name: many_values\nversion: '1.0'\nconfig-version: 2\nprofile: privacy_guard_fixture\n"
        "models:\n  many_values:\n    +materialized: table\ndata_tests:\n  +store_failures: true\n")
    (source / "models" / "salaries.sql").write_text(
        f"select region, cast(salary as integer) as salary, person_id from read_csv('{data}', header = true, nullstr = '')\n")
    scope = {"t": T, "quasi_identifiers": ["region"], "sensitive_column": "salary"}
    tests = [
        {"privacy_guard.t_closeness": {"name": "ordered_rows", "arguments": scope}},
        {"privacy_guard.t_closeness": {"name": "ordered_people", "arguments": {**scope, "privacy_unit": "person_id"}}},
    ]
    (source / "models" / "tests.yml").write_text(json.dumps({"version": 2, "models": [{"name": "salaries", "data_tests": tests}]}))
    project = dbt_project(source, tmp_path_factory.mktemp("many_values"))
    return dbt(project, "build", check=False)


def _stored(build: DbtResult, test: str) -> list[tuple[int, int, float]]:
    with duckdb.connect(str(build.project_dir.parent / "many_values.duckdb"), read_only=True) as connection:
        return sorted(connection.execute(f'select class_size, class_rows, measured from main_dbt_test__audit."{test}"').fetchall())


def test_data_has_many_values_in_big_classes(rows: list[dict[str, Any]]) -> None:
    values = {row["salary"] for row in rows}
    per_class = Counter(region for region, _ in {(row["region"], row["salary"]) for row in rows})
    assert len(values) > 5_000 and None in values
    assert per_class["north"] > 3_000 and per_class["south"] > 3_000 and per_class["island"] == 1
    assert len(rows) > len(values) + 10_000  # ties


@pytest.mark.parametrize(("test", "unit"), [("ordered_rows", None), ("ordered_people", "person_id")])
def test_every_class_distance_matches_the_definition(build: DbtResult, rows: list[dict[str, Any]], test: str, unit: str | None) -> None:
    expected = ordered_emd(rows, unit)
    stored = _stored(build, test)
    assert [(size, count) for size, count, _ in stored] == [(size, count) for size, count, _ in expected]
    for (_, _, measured), (_, _, distance) in zip(stored, expected, strict=True):
        assert measured == pytest.approx(distance, abs=1e-9)
