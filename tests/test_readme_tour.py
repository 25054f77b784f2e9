"""README's 10-minute tour cannot rot: its `bash` blocks run as written, one after the other in one
shell, in a fresh folder beside a `privacy_guard` that is this repository, and every outcome the
tour's text promises is checked (findings as exact sets, the failing test's count and the
published cells against a computation from the tour's own CSV files).

The tour's `sh` block (clone, venv, pip install) is the one not run: this venv is that install
(tests/test_install.py installs the wheel into a clean venv)."""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import duckdb
import pytest
import yaml
from dbt_harness import REPO_ROOT

pytestmark = pytest.mark.dbt

FINDING = re.compile(r"^(error|warning|info)\s+(\w+)\s+(\S+?):", re.MULTILINE)


def tour_blocks() -> list[str]:
    readme = (REPO_ROOT / "README.md").read_text()
    start = readme.index("\n## The 10-minute tour\n")
    tour = readme[start : readme.index("\n## ", start + 1)]
    return re.findall(r"^```bash\n(.*?)^```", tour, flags=re.DOTALL | re.MULTILINE)


def run_tour(folder: Path) -> list[tuple[int, str]]:
    """(exit status of its last command, output) per block, all blocks in one bash."""
    (folder / "privacy_guard").symlink_to(REPO_ROOT)
    script = []
    for number, block in enumerate(tour_blocks()):
        (folder / f"block{number}.sh").write_text(block)
        script.append(f"echo '@@ block {number}'\n. {folder}/block{number}.sh\necho \"@@ status $?\"\n")
    env = {key: value for key, value in os.environ.items() if key not in ("PRIVACY_GUARD_KEY", "DBT_PROFILES_DIR", "DBT_PROJECT_DIR")}
    env |= {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}", "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1"}
    proc = subprocess.run(["bash", "-c", "".join(script)], cwd=folder, env=env, capture_output=True, text=True, timeout=900)
    parts = re.findall(r"^@@ block \d+\n(.*?)^@@ status (\d+)$", proc.stdout, flags=re.DOTALL | re.MULTILINE)
    assert len(parts) == len(script), proc.stdout[-3000:] + proc.stderr[-2000:]
    return [(int(status), output) for output, status in parts]


def findings(output: str) -> set[tuple[str, str, str]]:
    return set(FINDING.findall(output))


def cells(tour: Path) -> Counter[tuple[str, str]]:
    """Visits per (job family, diagnosis chapter), joined on the employee id in Python."""
    with open(tour / "seeds" / "hr_employees.csv") as employees:
        job = {row["employee_id"]: row["job_family"] for row in csv.DictReader(employees)}
    with open(tour / "seeds" / "clinic_visits.csv") as visits:
        return Counter((job[row["employee_id"]], row["diagnosis_chapter"]) for row in csv.DictReader(visits))


def test_the_tour_runs_as_written_and_does_what_it_says(tmp_path: Path) -> None:
    results = run_tour(tmp_path)
    tour = tmp_path / "tour"
    assert len(results) == 7, "the tour's steps changed: update this test with the text"
    (build_status, build), (check_status, check), (init_status, init), (tagged_status, tagged) = results[:4]
    (failing_status, failing), (fixed_status, fixed), (docs_status, docs) = results[4:]

    assert build_status == 0 and "Completed successfully" in build
    assert "WARNING" not in build, "the package makes dbt warn in a fresh project"

    assert check_status == 0
    assert findings(check) == {("warning", "unclassified_personal_data", "clinic_visits"), ("warning", "unclassified_personal_data", "hr_employees")}
    assert "look personal: employee_id\n" in check and "look personal: email, employee_id, zip\n" in check

    assert init_status == 0
    proposal = yaml.safe_load(init)
    proposed = {
        seed["name"]: {column["name"]: column["config"]["meta"]["privacy"]["class"] for column in seed["columns"]}
        for seed in proposal["seeds"]
    }
    assert proposed == {
        "clinic_visits": {"employee_id": "direct_identifier"},
        "hr_employees": {"email": "direct_identifier", "employee_id": "direct_identifier", "zip": "direct_identifier"},
    }
    assert {seed["config"]["meta"]["privacy"]["department"] for seed in proposal["seeds"]} == {"TODO"}
    assert all("# review" in line for line in init.splitlines() if "class:" in line or "TODO" in line)

    assert tagged_status == 1
    assert "3 nodes: privacy meta valid" in tagged
    model = "staff_health"
    assert findings(tagged) == {
        ("error", "cross_department_join", model),
        ("error", "direct_identifier_join", model),
        ("error", "missing_purpose", model),
        ("error", "quasi_identifier_linkage", model),
        ("warning", "missing_privacy_test", model),
    }
    assert "combines 4 quasi-identifiers from clinic, hr" in tagged

    small = {cell: n for cell, n in cells(tour).items() if n < 5}
    assert len(small) == 3 and small[("surgery", "mental_health")] == 1
    assert failing_status != 0
    assert "FAIL 3 privacy_guard_min_cell_size_staff_health" in failing and "Got 3 results" in failing

    assert fixed_status == 0
    assert findings(fixed) == set() and "0 findings" in fixed
    with duckdb.connect(str(tour / "tour.duckdb"), read_only=True) as database:
        published = database.sql("select job_family, diagnosis_chapter, visit_count from staff_health").fetchall()
    expected = {cell: (n if n >= 5 else None) for cell, n in cells(tour).items()}
    assert {(job, chapter): count for job, chapter, count in published} == expected
    assert [cell for cell, count in expected.items() if count is not None] == [("admin", "respiratory")]
    assert expected[("admin", "respiratory")] == 5

    assert docs_status == 0
    site = (tour / "target" / "privacy_docs" / "index.html").read_text()
    assert "staff_health" in site and "hr_clinic_research" in site
