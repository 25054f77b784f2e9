"""The demo's generated seeds: deterministic, realistic enough for the demo to mean something.

The generator runs as users run it (the script's CLI in a subprocess); the expectations come from
the data itself and from the demo's YAML (retention), never from the generator's constants.
"""

from __future__ import annotations

import csv
import hashlib
import subprocess
import sys
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml
from dbt_harness import REPO_ROOT

GENERATOR = REPO_ROOT / "scripts" / "generate_demo_data.py"
DEMO_MODELS = REPO_ROOT / "examples" / "demo" / "models"
RAW_TABLES = ["raw_hr__roster", "raw_clinic__visits", "raw_sales__customers", "raw_support__tickets"]
HIERARCHIES = ["hierarchy_job_title", "hierarchy_diagnosis", "hierarchy_zip"]


def generate(out: Path) -> Path:
    """Run the generator's CLI into `out`."""
    subprocess.run([sys.executable, str(GENERATOR), "--out", str(out)], check=True, capture_output=True)
    return out


def read(seeds: Path, name: str) -> list[dict[str, str]]:
    with (seeds / f"{name}.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate(tmp_path_factory.mktemp("seeds"))


def staging_retention() -> dict[str, tuple[str, int]]:
    """raw seed -> (date column, days) from the staging models' YAML, the policy the demo declares."""
    policies = {}
    for path in DEMO_MODELS.glob("staging/*/_*.yml"):
        properties = yaml.safe_load(path.read_text())
        seed = properties["seeds"][0]["name"]
        retention = properties["models"][0]["config"]["meta"]["privacy"]["retention"]
        policies[seed] = (retention["date_column"], retention["days"])
    return policies


def test_same_bytes_every_run(seeds: Path, tmp_path: Path) -> None:
    again = generate(tmp_path / "again")

    def digests(folder: Path) -> dict[str, str]:
        return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(folder.glob("*.csv"))}

    first = digests(seeds)
    assert sorted(first) == sorted(f"{name}.csv" for name in RAW_TABLES + HIERARCHIES)
    assert digests(again) == first


def test_each_department_holds_thousands_of_rows(seeds: Path) -> None:
    for name in RAW_TABLES:
        assert 1000 <= len(read(seeds, name)) <= 10000, name


def test_departments_share_people(seeds: Path) -> None:
    staff = {row["email"] for row in read(seeds, "raw_hr__roster")}
    patients = {row["patient_email"] for row in read(seeds, "raw_clinic__visits")}
    customers = {row["email"] for row in read(seeds, "raw_sales__customers")}
    requesters = {row["email"] for row in read(seeds, "raw_support__tickets")}
    assert len(staff & patients) >= 500
    assert len(customers & patients) >= 500
    assert len(requesters & customers) == len(requesters) > 1000


def test_a_person_looks_the_same_in_every_department(seeds: Path) -> None:
    """Same e-mail -> same birth date, sex and SSN wherever they appear (the linkage is real)."""
    seen: dict[str, tuple[str, str]] = {}
    for row in read(seeds, "raw_hr__roster"):
        seen[row["email"]] = (row["birth_date"], row["sex"])
    ssn_of: dict[str, set[str]] = defaultdict(set)
    mismatches = 0
    for row in read(seeds, "raw_clinic__visits"):
        ssn_of[row["patient_email"]].add(row["patient_ssn"])
        if row["patient_email"] in seen and seen[row["patient_email"]] != (row["birth_date"], row["sex"]):
            mismatches += 1
    assert mismatches == 0
    assert all(len(ssns) == 1 for ssns in ssn_of.values())
    assert len({next(iter(ssns)) for ssns in ssn_of.values()}) == len(ssn_of)
    for row in read(seeds, "raw_sales__customers"):
        if row["email"] in seen:
            assert int(row["birth_year"]) == int(seen[row["email"]][0][:4])


def test_every_department_has_rows_on_both_sides_of_its_retention(seeds: Path) -> None:
    policies = staging_retention()
    assert sorted(policies) == sorted(RAW_TABLES)
    for name, (date_column, days) in policies.items():
        cutoff = date.today() - timedelta(days=days)
        dates = [date.fromisoformat(row[date_column]) for row in read(seeds, name)]
        expired = sum(day < cutoff for day in dates)
        assert 0 < expired < len(dates) - 500, (name, expired, len(dates))


def test_zips_stay_text_with_leading_zeros(seeds: Path) -> None:
    zips = [row["zip"] for name in ("raw_hr__roster", "raw_clinic__visits", "raw_sales__customers") for row in read(seeds, name)]
    assert all(len(value) == 5 and value.isdigit() for value in zips)
    assert any(value.startswith("0") for value in zips)


@pytest.mark.parametrize(
    ("hierarchy", "table", "column"),
    [
        ("hierarchy_job_title", "raw_hr__roster", "job_title"),
        ("hierarchy_diagnosis", "raw_clinic__visits", "diagnosis"),
        ("hierarchy_zip", "raw_clinic__visits", "zip"),
        ("hierarchy_zip", "raw_sales__customers", "zip"),
    ],
)
def test_hierarchies_are_arx_trees_covering_the_data(seeds: Path, hierarchy: str, table: str, column: str) -> None:
    rows = read(seeds, hierarchy)
    header = list(rows[0])
    assert header == [f"level_{level}" for level in range(len(header))] and len(header) >= 3
    assert {row[header[-1]] for row in rows} == {"*"}
    values = [row["level_0"] for row in rows]
    assert len(values) == len(set(values))
    for lower, upper in zip(header[1:-1], header[2:]):
        parents: dict[str, set[str]] = defaultdict(set)
        for row in rows:
            parents[row[lower]].add(row[upper])
        assert all(len(found) == 1 for found in parents.values()), f"{hierarchy}: {lower} has two parents"
    assert {row[column] for row in read(seeds, table)} <= set(values)
