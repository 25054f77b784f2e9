"""Generalization macros, built for real by dbt on DuckDB, against values computed here in Python.

One build of `tests/fixtures/macros_project` (its generalization folder plus the Adult age hierarchy
converted with `arx_to_seed`) serves the whole module. Every expected value is computed from the
input rows with Python's own date/number handling, never read from the macros' output.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from pathlib import Path
from typing import Any

import duckdb
import pytest
from dateutil.relativedelta import relativedelta
from dbt_harness import ADULT_DIR, dbt, dbt_project

from python_checks.hierarchy import HierarchyError, arx_to_seed

pytestmark = pytest.mark.dbt

AGE_HIERARCHY = ADULT_DIR / "adult_hierarchy_age.csv"


def rows_by_id(database: Path, table: str) -> dict[Any, dict[str, Any]]:
    """Rows of a table keyed by its first column."""
    with duckdb.connect(str(database), read_only=True) as con:
        result = con.sql(f"select * from {table}")
        return {row[0]: dict(zip(result.columns, row)) for row in result.fetchall()}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("generalization")
    project = dbt_project("macros_project", tmp)
    arx_to_seed(AGE_HIERARCHY, project / "seeds" / "adult_hierarchy_age.csv")
    dbt(project, "build", "--select", "+path:models/generalization", "--vars", f'{{adult_dir: "{ADULT_DIR}"}}', check=True)
    database = tmp / "macros_project.duckdb"
    return {
        "project": project,
        "people": rows_by_id(database, "people"),
        "out": rows_by_id(database, "generalized_people"),
        "adult": duckdb.connect(str(database), read_only=True).sql("select * from adult_age_generalized").fetchall(),
    }


def band(value: float | None, width: int) -> str | None:
    if value is None:
        return None
    low = math.floor(value / width) * width
    return f"{low}-{low + width - 1}"


def breakpoint_band(value: float | None, breakpoints: list[int]) -> str | None:
    if value is None:
        return None
    if value < breakpoints[0]:
        return f"<{breakpoints[0]}"
    for low, high in zip(breakpoints, breakpoints[1:]):
        if value < high:
            return f"{low}-{high - 1}"
    return f"{breakpoints[-1]}+"


def age_on(birthdate: dt.date | None, as_of: dt.date | None) -> int | None:
    if birthdate is None or as_of is None:
        return None
    return relativedelta(as_of, birthdate).years


def first_day(day: dt.date | dt.datetime | None, grain: str) -> dt.date | None:
    if day is None:
        return None
    day = day.date() if isinstance(day, dt.datetime) else day
    if grain == "week":
        return day - dt.timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    if grain == "quarter":
        return day.replace(month=3 * ((day.month - 1) // 3) + 1, day=1)
    return day.replace(month=1, day=1)


def masked(text: str | None, keep: int, mask: str) -> str | None:
    return None if text is None else text[:keep] + mask * max(len(text) - keep, 0)


def test_fixture_holds_the_edge_cases(built: dict[str, Any]) -> None:
    people = built["people"].values()
    assert {29, 30, 39, 40, 17, 18, 49, 50} <= {p["age"] for p in people}
    assert any(p["visit_date"] and p["visit_date"].weekday() == 6 for p in people), "a Sunday"
    assert any(p["birthdate"] and (p["birthdate"].month, p["birthdate"].day) == (2, 29) for p in people), "a leap day"
    assert any(p["postcode"] and len(p["postcode"].replace(" ", "")) < 3 for p in people), "a short postcode"
    assert any(all(v is None for k, v in p.items() if k != "id") for p in people), "a row of NULLs"


def test_numeric_bands_and_coding(built: dict[str, Any]) -> None:
    for key, person in built["people"].items():
        out = built["out"][key]
        income = None if person["income"] is None else float(person["income"])
        assert out["age_width_10"] == band(person["age"], 10), key
        assert out["age_breakpoints"] == breakpoint_band(person["age"], [18, 30, 50]), key
        assert out["income_width_1000"] == band(income, 1000), key
        assert out["income_top_coded"] == (None if income is None else min(income, 100000)), key
        assert out["income_bottom_coded"] == (None if income is None else max(income, 0)), key


def test_date_truncation(built: dict[str, Any]) -> None:
    for key, person in built["people"].items():
        out = built["out"][key]
        for grain in ("week", "month", "quarter", "year"):
            assert out[f"visit_{grain}"] == first_day(person["visit_date"], grain), (key, grain)
            assert out[f"visit_{grain}"] is None or type(out[f"visit_{grain}"]) is dt.date
        assert out["visit_ts_week"] == first_day(person["visit_ts"], "week"), key
        assert out["visit_ts_week"] is None or type(out["visit_ts_week"]) is dt.date


def test_age_bands(built: dict[str, Any]) -> None:
    for key, person in built["people"].items():
        out = built["out"][key]
        born = person["birthdate"]
        assert out["age_band_2021_02_28"] == band(age_on(born, dt.date(2021, 2, 28)), 10), key
        assert out["age_band_2021_03_01"] == band(age_on(born, dt.date(2021, 3, 1)), 10), key
        assert out["age_band_5_2024_02_29"] == band(age_on(born, dt.date(2024, 2, 29)), 5), key
        assert out["age_at_visit"] == band(age_on(born, person["visit_date"]), 1), key
    # Born on a leap day: 20 on 2021-02-28 and 21 the next day (not a band boundary); 2004 baby
    # turns 20 exactly on 2024-02-29.
    assert built["out"][6]["age_band_5_2024_02_29"] == "20-24"


def test_postcodes_and_masks(built: dict[str, Any]) -> None:
    for key, person in built["people"].items():
        out = built["out"][key]
        compact = None if person["postcode"] is None else person["postcode"].replace(" ", "")
        assert out["postcode_3"] == (None if compact is None else compact[:3]), key
        assert out["postcode_6"] == (None if compact is None else compact[:6]), key
        assert out["name_masked"] == masked(person["full_name"], 1, "*"), key
        assert out["name_masked_3"] == masked(person["full_name"], 3, "#"), key
        assert out["name_masked_quote"] == masked(person["full_name"], 0, "'"), key


def arx_levels() -> dict[str, list[str]]:
    """The Adult age hierarchy read straight from the ARX file: value -> its levels."""
    lines = AGE_HIERARCHY.read_text().splitlines()
    return {parts[0]: parts for parts in (line.split(";") for line in lines if line)}


def test_hierarchy_generalization_matches_the_arx_file(built: dict[str, Any]) -> None:
    levels = arx_levels()
    rows = built["adult"]
    assert len(rows) == 503
    for age, *generalized in rows:
        expected = levels.get(str(age), [None] * 5) if age is not None else [None] * 5
        assert generalized == expected, age
    listed = [age for age, *_ in rows if age is not None and str(age) in levels]
    assert len(listed) == 500 and len(set(listed)) > 30
    assert {row[-1] for row in rows if row[0] is not None and str(row[0]) in levels} == {"*"}


def test_arx_to_seed_writes_a_headed_seed(tmp_path: Path) -> None:
    seed = tmp_path / "marital.csv"
    assert arx_to_seed(ADULT_DIR / "adult_hierarchy_marital-status.csv", seed) == 3
    with seed.open(newline="") as handle:
        rows = list(csv.reader(handle))
    raw = [line.split(";") for line in (ADULT_DIR / "adult_hierarchy_marital-status.csv").read_text().splitlines() if line]
    assert rows[0] == ["level_0", "level_1", "level_2"]
    assert rows[1:] == raw


def test_arx_to_seed_rejects_ragged_files(tmp_path: Path) -> None:
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("a;x;*\nb;*\n")
    with pytest.raises(HierarchyError, match=r"ragged\.csv:2: 2 levels, expected 3"):
        arx_to_seed(ragged, tmp_path / "out.csv")
    assert not (tmp_path / "out.csv").exists()


def test_bad_arguments_fail_with_one_line_naming_the_macro(built: dict[str, Any]) -> None:
    project = built["project"]
    bad = project / "models" / "generalization" / "bad_grain.sql"
    bad.write_text("select {{ privacy_guard.generalize_date('visit_date', 'decade') }} as d from {{ ref('people') }}\n")
    try:
        result = dbt(project, "parse", check=False)
    finally:
        bad.unlink()
    assert "privacy_guard.generalize_date(visit_date): grain must be one of week, month, quarter, year (got decade)" in result.stdout


def test_fixture_parses_on_postgres(built: dict[str, Any]) -> None:
    """Dispatch falls back to default__ bodies on another adapter, and nothing raises at parse."""
    project = built["project"]
    profile = project / "profiles.yml"
    duckdb_profile = profile.read_text()
    profile.write_text(
        "macros_project:\n  target: dev\n  outputs:\n    dev:\n      type: postgres\n      host: localhost\n"
        "      user: nobody\n      password: unused\n      port: 5432\n      dbname: none\n      schema: main\n      threads: 1\n"
    )
    try:
        result = dbt(project, "parse", "--no-partial-parse", check=True)
    finally:
        profile.write_text(duckdb_profile)
    assert "Registered adapter: postgres" in result.stdout
