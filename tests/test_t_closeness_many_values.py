"""t-closeness on a numeric sensitive column of thousands of distinct values.

The DuckDB body computes the ordered EMD per class along one of three paths: a class of one value
from its value's row, a class of two or three values from one GROUP BY of its cells, a class of more
values from segments of constant cumulative share (window, prefix sums of the table's cumulative
shares, ASOF join). This checks every class's stored distance, ordered and equal, against oracles
written from the definitions (Li, Li & Venkatasubramanian 2007: a running sum over all m sorted
distinct values; half the L1 distance), on data shaped to exercise every path: m > 5,000 values,
classes holding thousands of them and classes holding exactly one, two, three and four, ties,
values absent from most classes, NULL salaries (sorted last, like the SQL's position), and the
same with a privacy unit (each person's value counted once per value, people with no id left out,
so that a value held only by rows without one weighs nothing in its class).
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
#: Small classes written out (region, salary, person): two, three and four values, NULL salaries,
#: repeated values, and values held only by rows without a person (a class of three values whose
#: middle one weighs nothing with the unit, another whose first one does).
SMALL_CLASSES = [
    ("pair", 4_100, "p1"), ("pair", 4_100, "p2"), ("pair", 9_000, "p3"),
    ("pair_null", 5_500, "p4"), ("pair_null", None, "p5"),
    ("trio", 3_000, "p6"), ("trio", 3_000, "p7"), ("trio", 3_000, "p8"), ("trio", 7_000, "p9"), ("trio", 12_000, "p10"),
    ("trio", 12_000, "p11"), ("trio", 12_000, "p12"), ("trio", 12_000, "p13"), ("trio", 12_000, "p14"),
    ("trio_hollow", 2_000, "p15"), ("trio_hollow", 6_000, None), ("trio_hollow", 20_000, "p16"),
    ("trio_hollow_first", 1_000, None), ("trio_hollow_first", 8_000, "p17"), ("trio_hollow_first", None, "p18"),
    ("quartet", 2_500, "p19"), ("quartet", 5_000, "p20"), ("quartet", 5_000, "p21"), ("quartet", 9_500, "p22"), ("quartet", 15_000, None),
    ("ghost", 3_300, None), ("ghosts", 4_400, None), ("ghosts", 8_800, None),  # no people: p = 0 at every value with the unit
]


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
    rows += [{"region": region, "salary": salary, "person_id": person} for region, salary, person in SMALL_CLASSES]
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


def class_distances(rows: list[dict[str, Any]], unit: str | None, ordered: bool) -> list[tuple[int, int, float]]:
    """(class size, class rows, distance) per class, from the definitions over all m values."""
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
            share = (class_counts[value] / size if size else 0) - table[value] / total
            running += share
            distance += abs(running) if ordered else abs(share) / 2
        region_rows = [row for row in rows if row["region"] == region]
        people = len({row[unit] for row in region_rows if row[unit] is not None}) if unit else len(region_rows)
        result.append((people, len(region_rows), distance / (len(values) - 1) if ordered else distance))
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
        {"privacy_guard.t_closeness": {"name": f"{distance}_{name}", "arguments": {**scope, "distance": distance, **unit}}}
        for distance in ("ordered", "equal") for name, unit in (("rows", {}), ("people", {"privacy_unit": "person_id"}))
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
    assert [per_class[region] for region in ("pair", "pair_null", "trio", "trio_hollow", "trio_hollow_first", "quartet", "ghost", "ghosts")] == [2, 2, 3, 3, 3, 4, 1, 2]
    assert len(rows) > len(values) + 10_000  # ties


@pytest.mark.parametrize("distance", ["ordered", "equal"])
@pytest.mark.parametrize("unit", [None, "person_id"])
def test_every_class_distance_matches_the_definition(build: DbtResult, rows: list[dict[str, Any]], distance: str, unit: str | None) -> None:
    expected = class_distances(rows, unit, ordered=distance == "ordered")
    stored = _stored(build, f"{distance}_{'people' if unit else 'rows'}")
    assert [(size, count) for size, count, _ in stored] == [(size, count) for size, count, _ in expected]
    for (_, _, measured), (_, _, distance) in zip(stored, expected, strict=True):
        assert measured == pytest.approx(distance, abs=1e-9)
