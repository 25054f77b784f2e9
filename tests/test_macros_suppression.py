"""Suppression macros, built for real by dbt on DuckDB, against class sizes counted here in Python.

The `patients` seed declares its quasi-identifiers (sex, zip3, birth_year), k = 3 and two direct
identifiers in meta; the fixture's vars set default_k = 2. Classes include NULL quasi-identifier
values, which form one class each (like GROUP BY). Both the duckdb and the portable default__
bodies are built and must give the same rows.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import duckdb
import pytest
from dbt_harness import dbt, dbt_project

pytestmark = pytest.mark.dbt

META_QIS = ("sex", "zip3", "birth_year")
META_K = 3
VARS_DEFAULT_K = 2


def read(database: Path, table: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Column names and rows (ordered by the first column)."""
    with duckdb.connect(str(database), read_only=True) as con:
        result = con.sql(f"select * from {table} order by 1")
        return result.columns, result.fetchall()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("suppression")
    project = dbt_project("macros_project", tmp)
    dbt(project, "build", "--select", "+path:models/suppression", check=True)
    database = tmp / "macros_project.duckdb"
    columns, patients = read(database, "patients")
    return {"project": project, "database": database, "columns": columns, "patients": [dict(zip(columns, row)) for row in patients]}


def class_sizes(patients: list[dict[str, Any]], qis: tuple[str, ...]) -> Counter[tuple[Any, ...]]:
    return Counter(tuple(p[q] for q in qis) for p in patients)


def kept_ids(patients: list[dict[str, Any]], qis: tuple[str, ...], k: int) -> list[int]:
    sizes = class_sizes(patients, qis)
    return sorted(p["patient_id"] for p in patients if sizes[tuple(p[q] for q in qis)] >= k)


def test_fixture_has_small_large_and_null_classes(built: dict[str, Any]) -> None:
    sizes = class_sizes(built["patients"], META_QIS)
    assert sorted(sizes.values()) == [1, 1, 2, 3, 3, 4]
    assert any(None in combination and size >= META_K for combination, size in sizes.items())


@pytest.mark.parametrize("model", ["small_groups_from_meta", "small_groups_portable", "small_groups_inherited"])
def test_suppress_small_groups_defaults_from_meta(built: dict[str, Any], model: str) -> None:
    columns, rows = read(built["database"], model)
    assert columns == built["columns"]
    assert [row[0] for row in rows] == kept_ids(built["patients"], META_QIS, META_K)
    by_id = {p["patient_id"]: tuple(p.values()) for p in built["patients"]}
    assert all(row == by_id[row[0]] for row in rows)


def test_suppress_small_groups_on_a_cte_with_explicit_arguments(built: dict[str, Any]) -> None:
    _, rows = read(built["database"], "small_groups_cte")
    assert [row[0] for row in rows] == kept_ids(built["patients"], ("sex", "zip3"), 4)


def test_k_falls_back_to_vars_default_k(built: dict[str, Any]) -> None:
    _, rows = read(built["database"], "small_groups_default_k")
    assert [row[0] for row in rows] == kept_ids(built["patients"], META_QIS, VARS_DEFAULT_K)
    assert len(rows) != len(kept_ids(built["patients"], META_QIS, META_K))


def locally_suppressed(patients: list[dict[str, Any]], qis: tuple[str, ...], k: int, blanked: tuple[str, ...]) -> list[tuple[Any, ...]]:
    sizes = class_sizes(patients, qis)
    return [
        tuple(None if column in blanked and sizes[tuple(p[q] for q in qis)] < k else value for column, value in p.items())
        for p in patients
    ]


@pytest.mark.parametrize("model", ["local_suppressed_from_meta", "local_suppressed_portable"])
def test_local_suppression_blanks_the_quasi_identifiers_of_small_classes(built: dict[str, Any], model: str) -> None:
    columns, rows = read(built["database"], model)
    assert columns == built["columns"]
    assert rows == locally_suppressed(built["patients"], META_QIS, META_K, META_QIS)


def test_local_suppression_of_chosen_columns(built: dict[str, Any]) -> None:
    _, rows = read(built["database"], "local_suppressed_columns")
    assert rows == locally_suppressed(built["patients"], ("sex", "zip3"), 4, ("zip3",))


def test_small_cells_are_nulled(built: dict[str, Any]) -> None:
    _, rows = read(built["database"], "diagnosis_cells")
    by_diagnosis: dict[str, list[int]] = {}
    for p in built["patients"]:
        by_diagnosis.setdefault(p["diagnosis"], []).append(p["birth_year"])
    expected = []
    for diagnosis in sorted(by_diagnosis):
        years = by_diagnosis[diagnosis]
        present = [y for y in years if y is not None]
        # k defaults from diagnosis_cells' own meta (4); the mean uses an explicit k = 5.
        expected.append((diagnosis, len(years), len(years) if len(years) >= 4 else None, sum(present) / len(present) if len(years) >= 5 else None))
    assert [row[:3] for row in rows] == [row[:3] for row in expected]
    for row, wanted in zip(rows, expected):
        assert (row[3] is None) == (wanted[3] is None), row
        assert wanted[3] is None or row[3] == pytest.approx(wanted[3])
    assert None in {row[2] for row in rows} and {row[2] for row in rows} != {None}, "both kinds of cell"


def test_drop_direct_identifiers(built: dict[str, Any]) -> None:
    database = built["database"]
    all_columns = built["columns"]
    columns, rows = read(database, "without_direct_identifiers")
    assert columns == [c for c in all_columns if c not in ("patient_name", "ssn")]
    assert len(rows) == len(built["patients"])
    columns, _ = read(database, "without_direct_identifiers_except")
    assert columns == [c for c in all_columns if c != "ssn"]


def test_cte_without_arguments_fails_at_parse_naming_the_macro(built: dict[str, Any]) -> None:
    project = built["project"]
    bad = project / "models" / "suppression" / "bad_cte.sql"
    bad.write_text("with p as (select * from {{ ref('patients') }})\n{{ privacy_guard.local_suppression('p') }}\n")
    try:
        result = dbt(project, "parse", check=False)
    finally:
        bad.unlink()
    assert result.returncode != 0
    assert (
        "privacy_guard.local_suppression(p): a CTE name has no meta to default from; pass quasi_identifiers=[...] and k=... explicitly"
        in result.stdout
    )


def test_missing_quasi_identifiers_name_the_macro_and_the_relation(built: dict[str, Any]) -> None:
    project = built["project"]
    bad = project / "models" / "suppression" / "bad_defaults.sql"
    bad.write_text("{{ privacy_guard.local_suppression(ref('patients_without_meta')) }}\n")
    try:
        result = dbt(project, "compile", "--select", "bad_defaults", check=False)
    finally:
        bad.unlink()
    assert result.returncode != 0
    assert (
        "privacy_guard.local_suppression: model.macros_project.patients_without_meta: no column declares "
        "config.meta.privacy.class: quasi_identifier and the macro has no `quasi_identifiers` argument"
    ) in result.stdout


# patient_visits: several visits per person (person_id, one visit without), privacy_unit person_id, k = 2.
def _visits(built: dict[str, Any]) -> list[dict[str, Any]]:
    columns, rows = read(built["database"], "patient_visits")
    return [dict(zip(columns, row)) for row in rows]


def _people_per_class(visits: list[dict[str, Any]], key: tuple[str, ...]) -> dict[tuple[Any, ...], int]:
    people: dict[tuple[Any, ...], set[str]] = {}
    for visit in visits:
        people.setdefault(tuple(visit[c] for c in key), set()).update({visit["person_id"]} - {None})
    return {combination: len(persons) for combination, persons in people.items()}


@pytest.mark.parametrize("model", ["small_groups_people", "small_groups_people_portable"])
def test_suppress_small_groups_counts_people(built: dict[str, Any], model: str) -> None:
    visits = _visits(built)
    people = _people_per_class(visits, ("sex", "zip3"))
    expected = sorted(v["visit_id"] for v in visits if people[(v["sex"], v["zip3"])] >= 2)
    rows_per_class = Counter((v["sex"], v["zip3"]) for v in visits)
    # The fixture's point: a class of >= 2 rows but 1 person goes, which row counting would keep.
    assert any(rows_per_class[c] >= 2 and people[c] < 2 for c in people)
    assert [row[0] for row in read(built["database"], model)[1]] == expected


def test_local_suppression_counts_people(built: dict[str, Any]) -> None:
    visits = _visits(built)
    people = _people_per_class(visits, ("sex", "zip3"))
    expected = [
        tuple(None if column in ("sex", "zip3") and people[(v["sex"], v["zip3"])] < 2 else value for column, value in v.items())
        for v in visits
    ]
    assert read(built["database"], "local_suppressed_people_portable")[1] == expected


def test_suppress_small_cell_without_a_count_counts_people(built: dict[str, Any]) -> None:
    visits = _visits(built)
    people = _people_per_class(visits, ("diagnosis",))
    rows = Counter(v["diagnosis"] for v in visits)
    expected = [(d, rows[d], rows[d] if people[(d,)] >= 3 else None) for d in sorted(rows)]
    assert read(built["database"], "diagnosis_cells_people")[1] == expected
    assert any(rows[d] >= 3 and people[(d,)] < 3 for d in rows)  # a cell only people-counting suppresses
