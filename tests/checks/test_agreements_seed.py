"""Agreements kept in a seed (`vars.privacy_guard.agreements_seed`): the same records as in vars, and bad rows named by file, row and column."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from dbt_harness import dbt, dbt_project, shared_build
from test_agreements_cli import AGREEMENTS, AS_OF, privacy_guard, project

# AGREEMENTS of test_agreements_cli as a governance spreadsheet, written by hand (not by the code under test).
HEADER = "id,departments,purposes,expires,owner,roles,review_id,review_date,reviewers\n"
ROWS = [
    "hr_clinic,hr;clinic,research,2026-12-18,dpo@example.org,analyst,ERB-7,2026-01-10,ana\n",
    "hr_sales, hr ; sales ,research,2026-07-01,,,,,\n",
    "old_deal,hr;clinic,,2026-05-31,,,,,\n",
]


def seed_project(directory: Path, rows: list[str], header: str = HEADER, vars_agreements: list[dict] | None = None, **settings: object) -> Path:
    """The project of test_agreements_cli whose agreements come from seeds/governance/data_use_agreements.csv (plus any in vars)."""
    manifest = project(directory, vars_agreements or [], agreements_seed="data_use_agreements", **settings)
    (directory / "seeds" / "governance").mkdir(parents=True)
    (directory / "seeds" / "governance" / "data_use_agreements.csv").write_text(header + "".join(rows))
    return manifest


def outputs(manifest: Path, cwd: Path) -> tuple[dict, list[tuple[str, str, str, str]]]:
    """`agreements --format json` and the findings of `check --format json` (rule, node, severity, message)."""
    listed = privacy_guard("agreements", "--manifest", str(manifest), "--as-of", AS_OF, "--format", "json", cwd=cwd)
    assert listed.returncode == 0, listed.stderr
    checked = privacy_guard("check", "--manifest", str(manifest), "--as-of", AS_OF, "--format", "json", cwd=cwd)
    assert checked.returncode == 1, checked.stderr  # the expired old_deal is cited: an error finding
    findings = [(f["rule"], f["node"], f["severity"], f["message"]) for f in json.loads(checked.stdout)["findings"]]
    return json.loads(listed.stdout), sorted(findings)


def test_agreements_in_a_seed_give_the_same_list_and_findings_as_in_vars(tmp_path: Path) -> None:
    from_vars = outputs(project(tmp_path / "vars", AGREEMENTS), tmp_path / "vars")
    from_seed = outputs(seed_project(tmp_path / "seed", ROWS), tmp_path / "seed")
    # Split between both sources, merged.
    both = outputs(seed_project(tmp_path / "both", ROWS[1:], vars_agreements=AGREEMENTS[:1]), tmp_path / "both")
    assert from_seed == from_vars and both == from_vars
    listed, findings = from_vars
    rows = {row["id"]: row for row in listed["agreements"]}
    assert {i: r["status"] for i, r in rows.items()} == {"hr_clinic": "active", "hr_sales": "expiring", "old_deal": "expired"}
    assert (rows["hr_clinic"]["roles"], rows["hr_clinic"]["review"], rows["hr_sales"]["departments"]) == (
        ["analyst"], {"id": "ERB-7", "date": "2026-01-10", "reviewers": ["ana"]}, ["hr", "sales"],
    )
    # hr_clinic covers `combined`; old_deal has expired, so `old_join` combines without a valid agreement.
    assert {(rule, node) for rule, node, _, _ in findings} == {
        ("cross_department_join", "model.demo.old_join"), ("missing_privacy_test", "model.demo.combined"), ("missing_privacy_test", "model.demo.old_join"),
    }
    assert [message for rule, _, _, message in findings if rule == "cross_department_join"] == ["model old_join combines clinic, hr but cites agreement 'old_deal', which expired on 2026-05-31"]


def test_bad_rows_are_one_line_naming_file_row_and_column(tmp_path: Path) -> None:
    seed = "seeds/governance/data_use_agreements.csv"
    cases: dict[str, tuple[list[str], dict, str]] = {
        "missing_expires": ([ROWS[0], "hr_sales,hr;sales,research,,,,,,\n"], {}, f"{seed}: row 3, column expires: empty, but required"),
        "bad_date": ([ROWS[0], "hr_sales,hr;sales,research,2026-02-30,,,,,\n"], {}, f"{seed}: row 3, column expires: '2026-02-30' is not a 'date'"),
        "bad_review_date": (["hr_sales,hr;sales,research,2026-07-01,,,ERB-1,01/02/2026,\n"], {}, f"{seed}: row 2, column review_date: '01/02/2026' does not match"),
        "review_without_date": (["hr_sales,hr;sales,research,2026-07-01,,,ERB-1,,ana\n"], {}, f"{seed}: row 2, column review_date: empty, but required"),
        "unlisted_department": (
            ROWS,
            {"departments": ["hr", "clinic"]},
            f"{seed}: row 3, column departments: 'sales' (agreement hr_sales) is not in vars.privacy_guard.departments (clinic, hr)",
        ),
        "department_no_node_declares": (
            [ROWS[0], "hr_legal,hr;legal,research,2026-07-01,,,,,\n"],
            {},
            f"{seed}: row 3, column departments: agreement hr_legal names department 'legal', which no node declares "
            "(declared: clinic, hr, sales); when it is right, list it in vars.privacy_guard.departments",
        ),
        "duplicate_in_seed": ([ROWS[0], ROWS[0]], {}, f"{seed}: row 3, column id: agreement 'hr_clinic' is defined twice (also at seed "),
        "too_many_cells": (["hr_sales,hr;sales,research,2026-07-01,,,,,,extra\n"], {}, f"{seed}: row 2: more cells than the 9 columns of the header"),
    }
    for name, (rows, settings, expected) in cases.items():
        directory = tmp_path / name
        manifest = seed_project(directory, rows, **settings)
        result = privacy_guard("check", "--manifest", str(manifest), "--as-of", AS_OF, cwd=directory)
        assert result.returncode == 2 and result.stdout == "", (name, result)
        [line] = result.stderr.splitlines()
        assert line.startswith(f"privacy-guard: error: seed {directory / expected}"), (name, line)
        assert "Traceback" not in result.stderr


def test_an_id_in_both_vars_and_the_seed_is_refused(tmp_path: Path) -> None:
    manifest = seed_project(tmp_path, ROWS, vars_agreements=AGREEMENTS[:1])
    result = privacy_guard("agreements", "--manifest", str(manifest), "--as-of", AS_OF, cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == (
        f"privacy-guard: error: seed {tmp_path / 'seeds/governance/data_use_agreements.csv'}: row 2, column id: agreement 'hr_clinic' is defined "
        f"twice (also at settings {tmp_path / 'dbt_project.yml'}: vars.privacy_guard.agreements.0)\n"
    )


def test_a_missing_seed_or_an_unknown_column_is_named(tmp_path: Path) -> None:
    manifest = project(tmp_path / "missing", [], agreements_seed="nowhere")
    result = privacy_guard("agreements", "--manifest", str(manifest), cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == (
        f"privacy-guard: error: settings {tmp_path / 'missing' / 'dbt_project.yml'}: vars.privacy_guard.agreements_seed: 'nowhere': "
        f"no nowhere.csv under the seed paths (seeds) of {tmp_path / 'missing'}\n"
    )
    manifest = seed_project(tmp_path / "column", ROWS[:1], header=HEADER.replace("roles", "groups"))
    result = privacy_guard("agreements", "--manifest", str(manifest), cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith(
        f"privacy-guard: error: seed {tmp_path / 'column' / 'seeds/governance/data_use_agreements.csv'}: unknown column 'groups' (columns: id,"
    )


def test_the_seed_is_found_under_the_projects_own_seed_paths(tmp_path: Path) -> None:
    manifest = seed_project(tmp_path, ROWS)
    (tmp_path / "seeds").rename(tmp_path / "governance_data")
    project_file = tmp_path / "dbt_project.yml"
    project_file.write_text(project_file.read_text() + "seed-paths: [governance_data]\n")
    listed = privacy_guard("agreements", "--manifest", str(manifest), "--as-of", AS_OF, "--format", "json", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert [row["id"] for row in json.loads(listed.stdout)["agreements"]] == ["hr_clinic", "hr_sales", "old_deal"]


def test_unreadable_csv_is_one_line(tmp_path: Path) -> None:
    # A cell past the csv module's field size limit (131,072 characters) and a header naming a column twice.
    cases = {
        "huge_cell": (HEADER, ["hr_sales,hr;sales,research,2026-07-01," + "x" * 200_000 + ",,,,\n"], "after row 1: not readable as CSV (field larger than field limit"),
        "column_twice": (HEADER.replace("owner", "roles"), ROWS[:1], "column 'roles' twice"),
    }
    for name, (header, rows, expected) in cases.items():
        manifest = seed_project(tmp_path / name, rows, header=header)
        result = privacy_guard("agreements", "--manifest", str(manifest), cwd=tmp_path)
        assert result.returncode == 2 and result.stdout == "", (name, result)
        [line] = result.stderr.splitlines()
        assert line.startswith(f"privacy-guard: error: seed {tmp_path / name / 'seeds/governance/data_use_agreements.csv'}: {expected}"), (name, line)


def test_the_docs_site_shows_the_seeds_agreements_as_it_shows_those_in_vars(tmp_path: Path) -> None:
    pages = []
    for name, manifest in (("vars", project(tmp_path / "vars", AGREEMENTS)), ("seed", seed_project(tmp_path / "seed", ROWS))):
        result = privacy_guard("docs", "--manifest", str(manifest), "--out", str(tmp_path / name / "site"), cwd=tmp_path / name)
        assert result.returncode == 0, result.stderr
        page = (tmp_path / name / "site" / "index.html").read_text().replace(str(tmp_path / name), "PROJECT")
        pages.append(re.sub(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC", "BUILT", page))  # the history row's build time
    assert pages[0] == pages[1]
    assert all(f'data-agreement="{agreement["id"]}"' in pages[1] for agreement in AGREEMENTS)


def test_two_seeds_of_that_name_are_refused_not_picked(tmp_path: Path) -> None:
    manifest = seed_project(tmp_path, ROWS)
    (tmp_path / "seeds" / "data_use_agreements.csv").write_text(HEADER + ROWS[0])
    result = privacy_guard("agreements", "--manifest", str(manifest), cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == (
        f"privacy-guard: error: settings {tmp_path / 'dbt_project.yml'}: vars.privacy_guard.agreements_seed: 'data_use_agreements': "
        f"2 files named data_use_agreements.csv under the seed paths (seeds) of {tmp_path}\n"
    )


# The agreements of tests/fixtures/access_project's vars, as the governance team's spreadsheet.
ACCESS_PROJECT_SEED = """id,departments,purposes,expires,roles,review_id,review_date,reviewers
reviewed,hr;clinic,research,2030-01-01,researcher,ERB-1,2026-01-10,board
stale,hr;clinic,research,2030-01-01,,ERB-0,2024-01-10,
unreviewed,hr;sales,research,2030-01-01,,,,
unreviewed_ok,hr;marketing,research,2030-01-01,,,,
"""


@pytest.mark.dbt
def test_a_real_build_with_agreements_in_a_seed_checks_as_with_them_in_vars(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    in_vars = shared_build(tmp_path_factory, "access_project").project_dir
    in_seed = dbt_project("access_project", tmp_path)
    settings = yaml.safe_load((in_seed / "dbt_project.yml").read_text())
    del settings["vars"]["privacy_guard"]["agreements"]
    settings["vars"]["privacy_guard"]["agreements_seed"] = "data_use_agreements"
    (in_seed / "dbt_project.yml").write_text(yaml.safe_dump(settings))
    (in_seed / "seeds" / "governance").mkdir()
    (in_seed / "seeds" / "governance" / "data_use_agreements.csv").write_text(ACCESS_PROJECT_SEED)
    dbt(in_seed, "build", check=True)  # dbt loads the spreadsheet like any seed
    runs = []
    for project_dir in (Path(in_vars), in_seed):
        manifest = str(project_dir / "target" / "manifest.json")
        listed = privacy_guard("agreements", "--manifest", manifest, "--format", "json", cwd=project_dir)
        checked = privacy_guard("check", "--manifest", manifest, "--format", "json", cwd=project_dir)
        assert listed.returncode == 0 and checked.returncode == 1, (listed.stderr, checked.stderr)
        findings = sorted((f["rule"], f["node"], f["severity"], f["message"]) for f in json.loads(checked.stdout)["findings"])
        runs.append((json.loads(listed.stdout), findings))
    assert runs[1] == runs[0]
    listed, findings = runs[0]
    assert [(row["id"], row["status"]) for row in listed["agreements"]] == [
        ("reviewed", "active"), ("stale", "active"), ("unreviewed", "active"), ("unreviewed_ok", "active"),
    ]
    assert {node.rsplit(".", 1)[-1] for rule, node, _, _ in findings if rule == "ethics_review"} == {"clinic_uncited", "hr_clinic_stale", "hr_sales"}
