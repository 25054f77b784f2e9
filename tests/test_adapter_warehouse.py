"""`privacy-guard check --target/--profile/--profiles-dir`: the measuring rules through dbt's adapter.

tests/fixtures/check_project is built on DuckDB and on a throwaway PostgreSQL server (its staging
models as tables on both: pseudonymize runs only in tables on PostgreSQL). The check then measures
through `--database FILE` (DuckDB's own client), through `--target` on the DuckDB profile
(dbt-duckdb) and through `--target` on the PostgreSQL profile (dbt-postgres): the findings and
their measured evidence (expired rows, rows in small classes) must be the same three times, and
equal to the numbers counted here from the seeds. On PostgreSQL the check also reads the grants of
each relation from information_schema.role_table_grants: roles created and granted here come back.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import postgres_server
from dbt_harness import dbt, dbt_project, write_profile
from test_pseudonymization import KEY, PLUGIN

from python_checks import report_docs

pytestmark = [pytest.mark.dbt, pytest.mark.postgres]

AS_OF = "2026-01-15"


def _prepare(project: Path) -> None:
    """On both adapters alike: staging models as tables (pseudonymize refuses views on PostgreSQL),
    and the hr/clinic agreement allows one role, so the access review has grants to judge."""
    config = project / "dbt_project.yml"
    text = config.read_text().replace("+materialized: view", "+materialized: table")
    agreement = "      - id: hr_clinic_research\n"
    assert agreement in text
    config.write_text(text.replace(agreement, agreement + "        roles: [analyst]\n"))


def check(project: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "python_checks", "check", "--format", "json", "--as-of", AS_OF, "--fail-on", "never", *arguments],
        cwd=project, capture_output=True, text=True, timeout=300,
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, postgres: postgres_server.PostgresServer) -> dict[str, Any]:
    duck = dbt_project("check_project", tmp_path_factory.mktemp("duckdb_check"), profile_extra=PLUGIN)
    _prepare(duck)
    duck_build = dbt(duck, "build", env={"PRIVACY_GUARD_KEY": KEY})
    postgres.create_database("check_project")
    pg = dbt_project("check_project", tmp_path_factory.mktemp("pg_check"), output=postgres_server.dbt_output(postgres, "check_project"))
    _prepare(pg)
    pg_build = dbt(pg, "build", env={"PGOPTIONS": f"-c privacy_guard.key={KEY}"})
    for role in ("analyst", "auditor"):
        postgres.psql(f"create role {role}", database="check_project")
    postgres.psql(
        "grant select on main.marketing_targets to analyst; grant select, insert on main.stg_hr to auditor;"
        " grant select on main.research_hr_clinic to analyst, auditor",
        database="check_project",
    )
    return {"duck": duck, "pg": pg, "builds": {"duck": duck_build, "pg": pg_build}}


def document(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def measured(doc: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(f["rule"], f["node"], json.dumps(f["evidence"], sort_keys=True)) for f in doc["findings"]}


@pytest.fixture(scope="module")
def documents(built: dict[str, Any]) -> dict[str, dict[str, Any]]:
    duck, pg = built["duck"], built["pg"]
    return {
        "duckdb_file": document(check(duck, "--database", str(duck.parent / "check_project.duckdb"))),
        "duckdb_target": document(check(duck, "--target", "dev")),
        "postgres_target": document(check(pg, "--target", "dev", "--profiles-dir", str(pg))),
        "no_database": document(check(duck)),
    }


def test_both_builds_succeeded_but_the_planted_warning(built: dict[str, Any]) -> None:
    for build in built["builds"].values():
        assert build.statuses()["test.check_project.privacy_guard_k_anonymity_stg_clinic_.e0a540b459"] == "warn"
        assert {status for status in build.statuses().values()} <= {"success", "pass", "warn"}, build.stdout[-3000:]


def test_the_same_findings_and_numbers_three_ways(documents: dict[str, dict[str, Any]]) -> None:
    reference = measured(documents["duckdb_file"])
    assert measured(documents["duckdb_target"]) == reference
    # PostgreSQL adds only what its grants show (DuckDB has none): test_access_review_judges_the_real_grants.
    assert {f for f in measured(documents["postgres_target"]) if f[0] != "access_review"} == reference
    # ... and the measuring rules really ran: without a database they are skipped.
    assert {rule for rule, _, _ in reference} - {rule for rule, _, _ in measured(documents["no_database"])} == {"retention_expired"}
    assert documents["postgres_target"]["rules"] == documents["duckdb_file"]["rules"]


def test_measured_numbers_equal_an_independent_count_from_the_seeds(built: dict[str, Any], documents: dict[str, dict[str, Any]]) -> None:
    seeds = built["pg"] / "seeds"
    cutoff = dt.date.fromisoformat(AS_OF) - dt.timedelta(days=365)
    visits = [row["visit_date"] for row in csv.DictReader((seeds / "clinic_visits.csv").open())]
    expired = sum(1 for day in visits if day and dt.date.fromisoformat(day) < cutoff)
    sales = {row["customer_email"]: row for row in csv.DictReader((seeds / "sales_customers.csv").open())}
    tickets = list(csv.DictReader((seeds / "support_tickets.csv").open()))
    classes = Counter((t["age_group"], sales[t["customer_email"]]["birth_year"], sales[t["customer_email"]]["zip"]) for t in tickets if t["customer_email"] in sales)
    small = [size for size in classes.values() if size < 2]  # k = vars default_k 2
    findings = {f["rule"]: f for f in documents["postgres_target"]["findings"]}
    assert (findings["retention_expired"]["evidence"]["expired_rows"], findings["retention_expired"]["evidence"]["rows"]) == (expired, len(visits)) == (2, 6)
    linkage = findings["quasi_identifier_linkage"]["evidence"]
    assert (linkage["rows_in_small_classes"], linkage["small_classes"]) == (sum(small), len(small)) == (1, 1)


def test_grants_are_read_back_from_postgres(documents: dict[str, dict[str, Any]]) -> None:
    nodes = documents["postgres_target"]["nodes"]
    # The owner's own privileges (grantor = grantee) are not grants: only what was granted here.
    assert nodes["model.check_project.marketing_targets"]["grants"] == {"analyst": ["SELECT"]}
    assert nodes["model.check_project.stg_hr"]["grants"] == {"auditor": ["INSERT", "SELECT"]}
    assert nodes["model.check_project.research_hr_clinic"]["grants"] == {"analyst": ["SELECT"], "auditor": ["SELECT"]}
    assert nodes["seed.check_project.hr_roster"]["grants"] == {}
    # The documented report schema (every object closed) holds `grants`.
    jsonschema.Draft202012Validator(report_docs.schema()).validate(documents["postgres_target"])
    # DuckDB has no grants: the key is absent rather than empty (nothing was read).
    assert all("grants" not in node for node in documents["duckdb_file"]["nodes"].values())
    assert all("grants" not in node for node in documents["duckdb_target"]["nodes"].values())


def test_access_review_judges_the_real_grants(documents: dict[str, dict[str, Any]]) -> None:
    """research_hr_clinic is combined under hr_clinic_research (roles: [analyst]); the warehouse also
    grants it to auditor: exactly that, and nothing on DuckDB (no roles there)."""
    [finding] = [f for f in documents["postgres_target"]["findings"] if f["rule"] == "access_review"]
    assert finding["node"] == "model.check_project.research_hr_clinic"
    assert finding["evidence"]["allowed_roles"] == ["analyst"]
    assert finding["evidence"]["warehouse"] == {"not_allowed": {"auditor": ["select"]}, "broad": {}}
    assert "auditor (select) is not an allowed role [warehouse]" in finding["message"]
    assert not [f for f in documents["duckdb_target"]["findings"] if f["rule"] == "access_review"]


def test_a_revoked_grant_is_gone(built: dict[str, Any], postgres: postgres_server.PostgresServer) -> None:
    pg = built["pg"]
    postgres.psql("revoke select on main.marketing_targets from analyst", database="check_project")
    try:
        nodes = document(check(pg, "--target", "dev"))["nodes"]
    finally:
        postgres.psql("grant select on main.marketing_targets to analyst", database="check_project")
    assert nodes["model.check_project.marketing_targets"]["grants"] == {}


def unreachable(project: Path, tmp: Path) -> Path:
    """A profiles dir whose dev target points at a closed port."""
    folder = tmp / "closed"
    folder.mkdir(exist_ok=True)
    write_profile(folder, "check_project", tmp / "unused.duckdb", output=postgres_server.dbt_output(
        postgres_server.PostgresServer(tmp, postgres_server._free_port()), "check_project"))
    return folder


@pytest.mark.parametrize(("arguments", "message"), [
    (["--target", "prod"], "privacy-guard: error: --target prod: profile check_project in {pg}/profiles.yml has no such target (it has dev)"),
    (["--profile", "nope"], "privacy-guard: error: --profile nope: not in {pg}/profiles.yml (it has check_project)"),
    (["--target", "dev", "--profiles-dir", "{tmp}/closed"], "privacy-guard: error: --target dev: cannot connect (postgres): "),
    (["--target", "dev", "--database", "x.duckdb"], "privacy-guard: error: --database: give a DuckDB file or --target/--profile/--profiles-dir, not both"),
    (["--target", "dev", "--profiles-dir", "{tmp}/nowhere"], "privacy-guard: error: --profiles-dir {tmp}/nowhere: no profiles.yml"),
])
def test_bad_target_is_one_line_and_exit_2(built: dict[str, Any], tmp_path: Path, arguments: list[str], message: str) -> None:
    pg = built["pg"]
    unreachable(pg, tmp_path)
    result = check(pg, *(a.format(tmp=tmp_path, pg=pg) for a in arguments))
    assert (result.returncode, result.stdout) == (2, ""), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stderr.startswith(message.format(tmp=tmp_path, pg=pg)), result.stderr

