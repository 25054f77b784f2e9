"""Generate the demo's seed CSVs: four departments that share one population of people.

Why generated and not committed: the script is the one source of the data (a reviewer reads
~300 lines of rules instead of ~20,000 CSV rows), and it is deterministic -- a fixed seed for
`random.Random`, dates counted back from a fixed anchor day, fixed row order -- so every run writes
the same bytes (tests/test_demo_data.py checks that). The CSVs land in examples/demo/seeds/
(gitignored); scripts/run_demo.py runs this first.

The departments each hold what such a department would hold (HR: the roster; clinic: visits with
diagnoses; sales: CRM customers; support: tickets) and share people through the same e-mail
address, so their tables *can* be joined -- the risk the demo is about. Dates span further back
than each department's retention, so the retention filters have rows to drop.

Usage: python scripts/generate_demo_data.py [--out DIR]
"""

from __future__ import annotations

import argparse
import csv
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO_ROOT / "examples" / "demo" / "seeds"

SEED = 20260630
#: All dates are counted back from this day, not from today, so the bytes never change. The
#: demo's retention windows (3 to 20 years) keep rows inside them for years after this day.
ANCHOR = date(2026, 6, 30)

POPULATION = 6000
EMPLOYEES = 1500
PATIENTS_FROM_STAFF = 800
PATIENTS_OTHER = 1700
CUSTOMERS = 3500
TICKETS = 4200

FIRST_NAMES = (
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard "
    "Susan Joseph Jessica Thomas Sarah Charles Karen Daniel Nancy Matthew Lisa Anthony Betty Mark "
    "Sandra Donald Ashley Steven Kimberly Andrew Emily Paul Donna Joshua Michelle Kenneth Carol "
    "Kevin Amanda Brian Melissa George Deborah Aisha Wei Priya Mateo Sofia Omar Yuki Lena Tomas Ines"
).split()
LAST_NAMES = (
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez "
    "Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris "
    "Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill "
    "Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Chen Patel Kim"
).split()

#: 3-digit zip prefix -> the 5-digit zips of the area. Leading zeros on purpose: the seeds must
#: keep zips as text.
ZIP_AREAS = {
    "021": ["02108", "02115", "02134", "02139", "02143"],
    "024": ["02420", "02445", "02459", "02474"],
    "100": ["10001", "10011", "10025", "10032", "10128"],
    "112": ["11201", "11215", "11226", "11238"],
    "606": ["60607", "60614", "60618", "60625", "60647"],
    "941": ["94103", "94110", "94117", "94122"],
    "981": ["98103", "98107", "98115", "98122"],
}
ZIP_AREA_WEIGHTS = [18, 10, 20, 14, 18, 12, 8]

#: job family -> (department unit, [(title, base salary)]).
JOBS = {
    "Engineering": ("Technology", [("Software Engineer", 98000), ("Senior Software Engineer", 128000), ("Data Engineer", 105000), ("QA Analyst", 72000)]),
    "Sales": ("Commercial", [("Sales Associate", 48000), ("Account Executive", 76000), ("Sales Manager", 104000)]),
    "Operations": ("Operations", [("Warehouse Associate", 38000), ("Logistics Coordinator", 52000), ("Operations Analyst", 66000)]),
    "Finance": ("Corporate", [("Accountant", 64000), ("Financial Analyst", 74000), ("Payroll Specialist", 56000)]),
    "People": ("Corporate", [("HR Generalist", 60000), ("Recruiter", 58000)]),
    "Customer Support": ("Operations", [("Support Agent", 42000), ("Support Lead", 58000)]),
}
JOB_FAMILY_WEIGHTS = [22, 18, 24, 12, 8, 16]

#: ICD-10 chapter -> [(code, weight)]. The code is what the clinic records; the chapter is its
#: first generalization level.
DIAGNOSES = {
    "I00-I99 Circulatory system": [("I10", 9), ("I25.10", 3), ("I48.91", 2)],
    "E00-E89 Endocrine and metabolic": [("E11.9", 6), ("E78.5", 5), ("E03.9", 3)],
    "F01-F99 Mental and behavioural": [("F32.9", 5), ("F41.1", 5), ("F43.10", 1)],
    "J00-J99 Respiratory system": [("J06.9", 9), ("J20.9", 4), ("J45.909", 3)],
    "K00-K95 Digestive system": [("K21.9", 5), ("K29.70", 2)],
    "M00-M99 Musculoskeletal system": [("M54.5", 8), ("M25.561", 3), ("M17.11", 2)],
    "Z00-Z99 Health status and services": [("Z00.00", 12)],
}

TICKET_CATEGORIES = [("billing", 22), ("delivery", 26), ("product_defect", 18), ("returns", 16), ("account_access", 12), ("other", 6)]
CHANNELS = [("email", 45), ("phone", 30), ("chat", 25)]


@dataclass(frozen=True)
class Person:
    """One member of the shared population: what every department may know about them."""

    index: int
    first_name: str
    last_name: str
    email: str
    ssn: str
    birth_date: date
    sex: str
    zip: str


def _weighted(rng: random.Random, choices: Sequence[tuple[str, int]]) -> str:
    values, weights = zip(*choices)
    return rng.choices(values, weights=weights)[0]


def _day_between(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randint(0, (last - first).days))


def _years_before(years: float) -> date:
    return ANCHOR - timedelta(days=round(years * 365.25))


def _age_on(birth_date: date, day: date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def population(rng: random.Random) -> list[Person]:
    """The people all departments draw from; e-mail and SSN are unique per person."""
    areas = list(ZIP_AREAS)
    people, ssns = [], set()
    for index in range(POPULATION):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        while (ssn := f"{rng.randint(900, 999)}-{rng.randint(10, 99)}-{rng.randint(1000, 9999)}") in ssns:
            pass  # the 9xx area is never issued, so no generated SSN is a real one
        ssns.add(ssn)
        area = rng.choices(areas, weights=ZIP_AREA_WEIGHTS)[0]
        people.append(
            Person(
                index=index,
                first_name=first,
                last_name=last,
                email=f"{first}.{last}.{index:04d}@example.org".lower(),
                ssn=ssn,
                birth_date=_day_between(rng, _years_before(86), _years_before(18)),
                sex=_weighted(rng, [("F", 50), ("M", 49), ("X", 1)]),
                zip=rng.choice(ZIP_AREAS[area]),
            )
        )
    return people


def hr_roster(rng: random.Random, people: list[Person]) -> list[dict[str, object]]:
    """Employees of working age; some were hired before the 20-year personnel-file retention."""
    candidates = [p for p in people if 21 <= _age_on(p.birth_date, ANCHOR) <= 66]
    families = list(JOBS)
    rows = []
    for number, person in enumerate(sorted(rng.sample(candidates, EMPLOYEES), key=lambda p: p.index), start=1):
        family = rng.choices(families, weights=JOB_FAMILY_WEIGHTS)[0]
        unit, titles = JOBS[family]
        title, base = rng.choice(titles)
        earliest_hire = max(_years_before(26), person.birth_date + timedelta(days=round(20 * 365.25)))
        rows.append(
            {
                "employee_id": f"E{number:05d}",
                "email": person.email,
                "name": f"{person.first_name} {person.last_name}",
                "birth_date": person.birth_date,
                "sex": person.sex,
                "zip": person.zip,
                "job_title": title,
                "department_unit": unit,
                "salary": int(round(base * rng.uniform(0.85, 1.25), -2)),
                "hire_date": _day_between(rng, earliest_hire, ANCHOR - timedelta(days=30)),
            }
        )
    return rows


def clinic_visits(rng: random.Random, people: list[Person], employees: set[str]) -> list[dict[str, object]]:
    """Visits over twelve years (retention: ten); many patients are also staff or customers."""
    staff = [p for p in people if p.email in employees]
    others = [p for p in people if p.email not in employees]
    patients = sorted(rng.sample(staff, PATIENTS_FROM_STAFF) + rng.sample(others, PATIENTS_OTHER), key=lambda p: p.index)
    codes = [(code, weight) for chapter in DIAGNOSES.values() for code, weight in chapter]
    visits = []
    for person in patients:
        for _ in range(rng.choices([1, 2, 3, 4], weights=[35, 30, 20, 15])[0]):
            visits.append((_day_between(rng, _years_before(12), ANCHOR), person, _weighted(rng, codes)))
    visits.sort(key=lambda visit: (visit[0], visit[1].index))
    return [
        {
            "visit_id": f"V{number:06d}",
            "patient_email": person.email,
            "patient_ssn": person.ssn,
            "birth_date": person.birth_date,
            "sex": person.sex,
            "zip": person.zip,
            "visit_date": day,
            "diagnosis": code,
        }
        for number, (day, person, code) in enumerate(visits, start=1)
    ]


def crm_customers(rng: random.Random, people: list[Person]) -> list[dict[str, object]]:
    """Customers with a birth year (not date) and purchase history; inactive ones age out after 5 years."""
    rows = []
    for number, person in enumerate(sorted(rng.sample(people, CUSTOMERS), key=lambda p: p.index), start=1):
        signup = _day_between(rng, _years_before(9), ANCHOR - timedelta(days=7))
        purchases = rng.choices(range(1, 41), weights=[max(1, 40 - n) for n in range(1, 41)])[0]
        # A few customers gave the shop a different (newer) address than the other departments know.
        zip_code = rng.choice(ZIP_AREAS[rng.choice(list(ZIP_AREAS))]) if rng.random() < 0.05 else person.zip
        rows.append(
            {
                "customer_id": f"C{number:06d}",
                "email": person.email,
                "zip": zip_code,
                "birth_year": person.birth_date.year,
                "purchases": purchases,
                "total_spend": round(purchases * rng.uniform(12, 140), 2),
                "signup_date": signup,
                "last_purchase_date": _day_between(rng, signup, ANCHOR),
            }
        )
    return rows


def support_tickets(rng: random.Random, customers: list[dict[str, object]]) -> list[dict[str, object]]:
    """Tickets over five years (retention: three) raised by customers."""
    tickets = []
    for _ in range(TICKETS):
        customer = rng.choice(customers)
        tickets.append((_day_between(rng, _years_before(5), ANCHOR), customer["email"]))
    tickets.sort()
    return [
        {
            "ticket_id": f"T{number:06d}",
            "email": email,
            "ticket_date": day,
            "category": _weighted(rng, TICKET_CATEGORIES),
            "channel": _weighted(rng, CHANNELS),
            "satisfaction": rng.choices([1, 2, 3, 4, 5], weights=[8, 10, 20, 32, 30])[0],
        }
        for number, (day, email) in enumerate(tickets, start=1)
    ]


def hierarchy_rows(paths: Iterable[Sequence[str]]) -> list[dict[str, object]]:
    """ARX hierarchy rows (`level_0` = the value ... `level_n` = `*`), sorted by value."""
    return [{f"level_{level}": value for level, value in enumerate([*path, "*"])} for path in sorted(paths)]


def hierarchies() -> dict[str, list[dict[str, object]]]:
    """Generalization hierarchies of the demo's quasi-identifiers and sensitive attributes."""
    return {
        "hierarchy_job_title": hierarchy_rows((title, family) for family, (_, titles) in JOBS.items() for title, _ in titles),
        "hierarchy_diagnosis": hierarchy_rows((code, chapter) for chapter, codes in DIAGNOSES.items() for code, _ in codes),
        "hierarchy_zip": hierarchy_rows(
            (zip_code, f"{area}**", f"{area[0]}****") for area, zips in ZIP_AREAS.items() for zip_code in zips
        ),
    }


def demo_tables() -> dict[str, list[dict[str, object]]]:
    """Every seed of the demo by name, generated from one `random.Random(SEED)` in a fixed order."""
    rng = random.Random(SEED)
    people = population(rng)
    roster = hr_roster(rng, people)
    customers = crm_customers(rng, people)
    return {
        "raw_hr__roster": roster,
        "raw_clinic__visits": clinic_visits(rng, people, {str(row["email"]) for row in roster}),
        "raw_sales__customers": customers,
        "raw_support__tickets": support_tickets(rng, customers),
        **hierarchies(),
    }


def write_csv(path: Path, rows: list[dict[str, object]]) -> None:
    """One seed file; `\\n` line ends so the bytes do not depend on the platform."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def generate(out: Path = DEFAULT_OUT) -> dict[str, int]:
    """Write every seed CSV into `out`; returns rows per seed."""
    out.mkdir(parents=True, exist_ok=True)
    counts = {}
    for name, rows in demo_tables().items():
        write_csv(out / f"{name}.csv", rows)
        counts[name] = len(rows)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for the seed CSVs (default: %(default)s)")
    args = parser.parse_args()
    for name, count in generate(args.out).items():
        print(f"{name}: {count} rows")


if __name__ == "__main__":
    main()
