"""Fail-closed mode: with vars.privacy_guard.enforce true, the validate_meta on-run-start hook stops
`dbt build` before any node when personal data has no policy (tests/fixtures/enforce_project)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from dbt_harness import DbtResult, dbt, dbt_project

pytestmark = pytest.mark.dbt

PREFIX = "privacy_guard.validate_meta: "
ENFORCED = "(enforce: true)"
# Every planted node of the fixture, one line each, in unique-id order.
EXPECTED = [
    "model.enforce_project.no_consent: holds personal data but declares no consent, retention (neither it nor any node upstream)",
    "model.enforce_project.owner_only: holds columns that look personal (user_id) that its privacy block does not classify",
    "model.enforce_project.untagged_reader: reads personal data of hr_people but has no privacy block of its own",
    "model.enforce_project.untagged_sql: holds columns that look personal (contact_email) but has no privacy block of its own",
    "seed.enforce_project.raw_contacts: holds columns that look personal (email) but has no privacy block of its own",
    "source.enforce_project.crm.leads: holds columns that look personal (patient_id) but has no privacy block of its own",
    "source.enforce_project.crm.visitors: holds columns that look personal (visitor_ip) but has no privacy block of its own",
]


def reported(result: DbtResult) -> list[str]:
    """What validate_meta said, one entry per line (after dbt's timestamp, when it logged the line)."""
    return [line.split(PREFIX, 1)[1].strip() for line in result.stdout.splitlines() if PREFIX in line]


def tables(database: Path) -> list[str]:
    with duckdb.connect(str(database), read_only=True) as con:
        return sorted(row[0] for row in con.sql("select table_name from information_schema.tables where table_schema = 'main'").fetchall())


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = dbt_project("enforce_project", tmp_path_factory.mktemp("enforce"))
    with duckdb.connect(str(project.parent / "enforce_project.duckdb")) as con:  # loaded by another system
        con.execute("create schema crm; create table crm.visitors (visitor_ip varchar, visited_on date)")
    return project


def test_enforce_on_fails_before_any_node_naming_each_untagged_node(project: Path) -> None:
    build = dbt(project, "build", "--vars", "{privacy_guard: {enforce: true}}", check=False)
    assert reported(build) == [line + " " + ENFORCED for line in EXPECTED]
    assert not (project / "target" / "run_results.json").exists()
    assert tables(project.parent / "enforce_project.duckdb") == []  # nothing was built
    assert "Traceback" not in build.stdout + build.stderr


def test_personal_column_patterns_of_vars_are_the_ones_enforced(project: Path) -> None:
    # Only `*_email` looks personal now: user_id, email, patient_id and visitor_ip no longer ask for a block.
    run = dbt(project, "run-operation", "privacy_guard.validate_meta", "--vars", "{privacy_guard: {enforce: true, personal_column_patterns: ['*_email']}}", check=False)
    assert reported(run) == [line + " " + ENFORCED for line in EXPECTED if not any(f"({name})" in line for name in ("user_id", "email", "patient_id", "visitor_ip"))]


def test_enforce_off_builds_everything(project: Path) -> None:
    build = dbt(project, "build", check=True)
    assert reported(build) == ["11 nodes, no problems"]  # 6 models, 3 seeds, 2 sources
    assert set(build.statuses().values()) == {"success"}
    assert tables(project.parent / "enforce_project.duckdb") == [
        "harmless", "hr_people", "lookup", "no_consent", "owner_only", "raw_contacts", "tagged_child", "untagged_reader", "untagged_sql",
    ]
