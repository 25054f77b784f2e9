"""Privacy tests that count people (`privacy.privacy_unit`), on the privacy_tests_failing build.

visits_rows holds several visits per person; visits_people is the same data declaring
`privacy_unit: person_id`; visits_downstream declares nothing and inherits QIs, sensitive column,
k and unit by name. Every number is recomputed here in plain Python from the rows in the
warehouse, from the definitions (not from the macros): class sizes as distinct non-NULL persons,
each person's sensitive value counted once per value.

hostile_names carries column names built to end identifiers and string literals: the tests and
suppression macros must quote and escape them (the canary table must survive the build).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import duckdb
import pytest

from dbt_harness import DbtResult, shared_build

pytestmark = pytest.mark.dbt

QIS = ("sex", "age_band")
K, T = 3, 0.2  # visits_rows' k; t is default_t (its meta's t = 0.3 is not inherited, like Python's policy)


@pytest.fixture(scope="module")
def failing(tmp_path_factory: pytest.TempPathFactory) -> DbtResult:
    return shared_build(tmp_path_factory, "privacy_tests_failing", expect_success=False)


def _database(result: DbtResult) -> Path:
    return result.project_dir.parent / "privacy_tests_failing.duckdb"


def _query(result: DbtResult, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(_database(result)), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def _stored(result: DbtResult, test: str) -> list[tuple[Any, ...]]:
    return sorted(_query(result, f'select * from main_dbt_test__audit."{test}"'), key=str)


def _outcome(result: DbtResult, test: str) -> tuple[str, int]:
    [unique_id] = [u for u in result.statuses() if u.split(".")[2] == test]
    return result.statuses()[unique_id], result.failures()[unique_id]


@pytest.fixture(scope="module")
def visits(failing: DbtResult) -> list[dict[str, Any]]:
    columns = ("person_id", "sex", "age_band", "diagnosis", "salary")
    return [dict(zip(columns, row)) for row in _query(failing, f"select {', '.join(columns)} from visits_rows")]


def _classes(visits: list[dict[str, Any]], where=lambda visit: True) -> dict[tuple, list[dict[str, Any]]]:
    classes: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
    for visit in visits:
        if where(visit):
            classes[tuple(visit[q] for q in QIS)].append(visit)
    return classes


def _people(rows: list[dict[str, Any]]) -> int:
    return len({row["person_id"] for row in rows if row["person_id"] is not None})


def _value_counts(rows: list[dict[str, Any]], column: str, people: bool) -> Counter:
    """Per sensitive value: distinct persons holding it (people) or rows."""
    if people:
        return Counter(value for _, value in {(r["person_id"], r[column]) for r in rows if r["person_id"] is not None})
    return Counter(row[column] for row in rows)


def test_row_based_k_passes_where_people_based_k_fails(failing: DbtResult, visits: list[dict[str, Any]]) -> None:
    classes = _classes(visits)
    assert min(len(rows) for rows in classes.values()) >= K  # the fixture's premise
    assert _outcome(failing, "rows_k_anonymity") == ("pass", 0)
    expected = sorted((("k", K, _people(rows), len(rows)) for rows in classes.values() if _people(rows) < K), key=str)
    assert len(expected) == 2
    for test in ("people_k_anonymity", "inherited_k_anonymity"):
        assert _outcome(failing, test)[1] == len(expected)
        assert _stored(failing, test) == expected


def test_where_keeps_the_models_k(failing: DbtResult, visits: list[dict[str, Any]]) -> None:
    """k = 3 from visits_rows' meta through the lineage, not default_k = 5 (which would fail 2 classes)."""
    classes = _classes(visits, lambda visit: visit["age_band"] != "40-49")
    expected = sorted((("k", K, _people(rows), len(rows)) for rows in classes.values() if _people(rows) < K), key=str)
    assert len(expected) == 1 and len([rows for rows in classes.values() if _people(rows) < 5]) == 2
    assert _stored(failing, "people_k_anonymity_where") == expected


def _same_rows(stored: list[tuple], expected: list[tuple]) -> bool:
    """Equal row sets, measured floats within 1e-12 (SQL and Python sum in different orders)."""
    stored, expected = sorted(stored, key=str), sorted(expected, key=str)
    return len(stored) == len(expected) and all(
        len(a) == len(b) and all(x == pytest.approx(y, abs=1e-12) if isinstance(y, float) else x == y for x, y in zip(a, b))
        for a, b in zip(stored, expected)
    )


def _entropy_l(counts: Counter) -> float:
    total = sum(counts.values())
    return math.exp(-sum(n / total * math.log(n / total) for n in counts.values()))


@pytest.mark.parametrize(("test", "people"), [("rows_l_entropy", False), ("people_l_entropy", True)])
def test_entropy_l_counts_each_persons_value_once(failing: DbtResult, visits: list[dict[str, Any]], test: str, people: bool) -> None:
    expected = []
    for rows in _classes(visits).values():
        measured = _entropy_l(_value_counts(rows, "diagnosis", people))
        if measured < 1.9 - 1e-9:
            expected.append((_people(rows) if people else len(rows), len(rows), measured))
    stored = [(size, rows, measured) for _, _, _, size, rows, measured in _stored(failing, test)]
    assert _same_rows(stored, expected), (stored, expected)
    assert _outcome(failing, test)[1] == len(expected)
    assert (test, len(expected)) in {("rows_l_entropy", 1), ("people_l_entropy", 0)}  # the two ways disagree here


def test_distinct_l_over_people(failing: DbtResult, visits: list[dict[str, Any]]) -> None:
    distinct = [rows for rows in _classes(visits).values() if len(_value_counts(rows, "diagnosis", True)) < 2]
    assert _outcome(failing, "people_l_distinct")[1] == len(distinct)


@pytest.mark.parametrize(("test", "l"), [("people_l_recursive", 2), ("people_l_recursive_3", 3)])
def test_recursive_l_over_people(failing: DbtResult, visits: list[dict[str, Any]], test: str, l: int) -> None:  # noqa: E741 -- the l of l-diversity
    recursive = []
    for rows in _classes(visits).values():
        counts = sorted(_value_counts(rows, "diagnosis", True).values(), reverse=True)
        tail = sum(counts[l - 1:])  # r_l + ... + r_m
        if tail == 0 or counts[0] / tail >= 2:
            recursive.append((_people(rows), len(rows), counts[0] / tail if tail else None))
    stored = [(size, rows, measured) for _, _, _, size, rows, measured in _stored(failing, test)]
    assert _same_rows(stored, recursive), (stored, recursive)
    assert _outcome(failing, test)[1] == len(recursive)
    assert (test, len(recursive)) in {("people_l_recursive", 0), ("people_l_recursive_3", 2)}  # l = 3 fails where l = 2 passes


def _distances(visits: list[dict[str, Any]], column: str, ordered: bool) -> dict[tuple, float]:
    table = Counter()
    per_class = {}
    for key, rows in _classes(visits).items():
        per_class[key] = _value_counts(rows, column, True)
        table.update(per_class[key])
    total = sum(table.values())
    values = sorted(table)
    distances = {}
    for key, counts in per_class.items():
        size = sum(counts.values())
        differences = [counts[v] / size - table[v] / total for v in values]
        if ordered:
            running, distance = 0.0, 0.0
            for difference in differences:
                running += difference
                distance += abs(running)
            distances[key] = distance / (len(values) - 1)
        else:
            distances[key] = sum(map(abs, differences)) / 2
    return distances


@pytest.mark.parametrize(("test", "column", "ordered"), [
    ("people_t_closeness", "diagnosis", False), ("inherited_t_closeness", "diagnosis", False),
    ("people_t_closeness_ordered", "salary", True),
])
def test_t_closeness_over_people(failing: DbtResult, visits: list[dict[str, Any]], test: str, column: str, ordered: bool) -> None:
    classes = _classes(visits)
    expected = sorted(
        (_people(classes[key]), len(classes[key]), distance)
        for key, distance in _distances(visits, column, ordered).items() if distance > T + 1e-9
    )
    stored = [(size, rows, measured) for _, _, _, size, rows, measured in _stored(failing, test)]
    assert _same_rows(stored, expected), (stored, expected)
    assert expected and _outcome(failing, test)[1] == len(expected)


def test_min_cell_size_counts_people_per_cell(failing: DbtResult, visits: list[dict[str, Any]]) -> None:
    cells: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
    for visit in visits:
        cells[(visit["age_band"], visit["diagnosis"])].append(visit)
    # Every cell is published: one whose rows all lack a person (0 people) is small too.
    expected = sorted(("k", K, "people", _people(rows)) for rows in cells.values() if _people(rows) < K)
    assert ("k", K, "people", 0) in expected and _stored(failing, "people_min_cell_size") == expected


def test_stored_failures_hold_no_person_or_small_class_value(failing: DbtResult, visits: list[dict[str, Any]]) -> None:
    tables = [row[0] for row in _query(failing, "select table_name from information_schema.tables where table_schema = 'main_dbt_test__audit'")]
    stored = {str(value) for table in tables for row in _stored(failing, table) for value in row}
    values = {str(v) for visit in visits for v in visit.values() if v is not None}
    values |= {"101", "999", "97", "flu", "asthma", "cold"} | {f"{c}@example.org" for c in "abcde"}
    assert stored & values == set()


def test_hostile_column_names_are_quoted_and_escaped(failing: DbtResult) -> None:
    assert _query(failing, "select alive from canary") == [(1,)]
    assert {test: _outcome(failing, test) for test in (
        "hostile_k_anonymity", "hostile_l_diversity", "hostile_t_closeness", "hostile_min_cell_size", "hostile_no_direct_identifiers",
    )} == {
        "hostile_k_anonymity": ("warn", 1), "hostile_l_diversity": ("warn", 1), "hostile_t_closeness": ("warn", 1),
        "hostile_min_cell_size": ("warn", 2), "hostile_no_direct_identifiers": ("warn", 1),
    }
    assert _stored(failing, "hostile_min_cell_size") == [("k", 3, "n'\"cells", 1), ("k", 3, "n'\"cells", 2)]
    assert _stored(failing, "hostile_no_direct_identifiers")[0][:1] == ("e\"mail'",)
    [(_, _, column, size, rows, distance)] = _stored(failing, "hostile_t_closeness")
    assert (column, size, rows) == ("ünï cödé {x}", 1, 1) and distance == pytest.approx(0.4)
    # The suppression macros over the same names: the unique row goes (k = 2), or loses its QIs.
    zip_column = '"zip""; drop table canary; --"'
    assert _query(failing, f"select {zip_column}, count(*) from hostile_suppressed group by 1") == [("101", 4)]
    assert sorted(_query(failing, f"select {zip_column}, count(*) from hostile_suppressed_portable group by 1"), key=str) == [("101", 4), (None, 1)]


def test_the_console_says_people_were_counted(failing: DbtResult, visits: list[dict[str, Any]]) -> None:
    small = [rows for rows in _classes(visits).values() if _people(rows) < K]
    people, rows, smallest = sum(map(_people, small)), sum(map(len, small)), min(map(_people, small))
    # Without sex, age_band alone: every band holds >= 3 people.
    assert all(_people([v for v in visits if v["age_band"] == band]) >= K for band in {v["age_band"] for v in visits})
    line = (
        "privacy_guard.k_anonymity failed on model.privacy_tests_failing.visits_downstream: k=3; quasi-identifiers sex, age_band; "
        f"counting people (privacy_unit person_id); {len(small)} classes below k holding {people} people in {rows} rows; "
        f"smallest class {smallest} person; dropping or generalizing sex helps most: without it 0 classes below k holding 0 people"
    )
    assert line in failing.stdout


def test_a_unit_cannot_be_dropped_or_swapped(failing: DbtResult) -> None:
    """Counting rows (unit column dropped) or another column (a visit id is "unique people" too) would weaken the test."""
    assert _outcome(failing, "inherited_k_anonymity_without_unit") == ("error", None)
    assert _outcome(failing, "inherited_k_anonymity_other_unit") == ("error", None)
    assert (
        'privacy_guard.k_anonymity: model.privacy_tests_failing.visits_without_unit: privacy unit "person_id" is not a column '
        "of the relation; keep it in the model, or set privacy.privacy_unit to the column that names the person"
    ) in failing.stdout
    assert (
        'privacy_guard.k_anonymity: model.privacy_tests_failing.visits_downstream: privacy_unit argument "age_band" differs '
        "from the model's privacy.privacy_unit \"person_id\"; change the meta, not the test"
    ) in failing.stdout
