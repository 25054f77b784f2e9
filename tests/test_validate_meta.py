"""`dbt run-operation privacy_guard.validate_meta` on a fixture with planted contract violations."""

from __future__ import annotations

from pathlib import Path

import pytest

from dbt_harness import DbtResult, dbt, dbt_project

pytestmark = pytest.mark.dbt

PATTERN = "^[a-z][a-z0-9_]*$"
# Every planted problem of tests/fixtures/bad_meta, one line each, in the order reported
# (nodes sorted by unique id, keys in YAML order).
EXPECTED = [
    f"exposure.bad_meta.bad_dashboard: privacy.purpose must be a purpose name matching {PATTERN} (got 'Ads team')",
    "model.bad_meta.bad_node: privacy.departmnet is not a known key (allowed: agreement, consent, department, k, l, owner, privacy_unit, purpose, rationale, retention, risk, roles, sensitivity, t, waivers)",
    "model.bad_meta.bad_node: privacy.consent must be a list of strings (got 'marketing')",
    f"model.bad_meta.bad_node: privacy.purpose must be a purpose name matching {PATTERN} (got 'Marketing Team')",
    "model.bad_meta.bad_node: privacy.k must be >= 1 (got 0)",
    "model.bad_meta.bad_node: privacy.l must be a number (got 'two')",
    "model.bad_meta.bad_node: privacy.t must be > 0 and <= 1 (got 1.5)",
    "model.bad_meta.bad_node: privacy.sensitivity must be one of public, internal, confidential, restricted (got 'secret')",
    "model.bad_meta.bad_node: privacy.agreement must not be empty",
    "model.bad_meta.bad_node: columns.email.privacy.class must be one of direct_identifier, quasi_identifier, sensitive, none (got 'pii')",
    "model.bad_meta.bad_node: columns.email.privacy.protection must be one of pseudonymized, generalized, masked, suppressed, noised (got 'hashed')",
    "model.bad_meta.bad_node: columns.id.privacy.hierarchy must be a string (got 5)",
    f"model.bad_meta.bad_retention: privacy.consent must hold purpose names matching {PATTERN} (got 'Ads')",
    "model.bad_meta.bad_retention: privacy.retention.days must be an integer (got 'thirty')",
    "model.bad_meta.bad_retention: privacy.retention.date_column must be a string (got 3)",
    "model.bad_meta.bad_retention: privacy.retention.keep is not a known key (allowed: date_column, days)",
    "model.bad_meta.bad_retention: privacy.waivers.0.approved_by is required",
    "model.bad_meta.bad_retention: privacy.waivers.0.expires must be a date YYYY-MM-DD (got 'soon')",
    "model.bad_meta.bad_retention: privacy.waivers.0.approvd_by is not a known key (allowed: approved_by, expires, reason, rule)",
    "seed.bad_meta.bad_seed: privacy.k must be an integer (got True)",
    "seed.bad_meta.bad_seed: privacy.retention.days is required",
    "snapshot.bad_meta.bad_snapshot: privacy.k must be >= 1 (got -1)",
    "source.bad_meta.crm.contacts: privacy.retention must be a mapping (got 30)",
    "vars.privacy_guard: default_k must be an integer (got 'five')",
]


@pytest.fixture(scope="module")
def bad_meta(tmp_path_factory: pytest.TempPathFactory) -> tuple[DbtResult, DbtResult]:
    project = dbt_project("bad_meta", tmp_path_factory.mktemp("bad_meta"))
    parse = dbt(project, "parse", check=True)
    return parse, dbt(project, "run-operation", "privacy_guard.validate_meta", check=False)


def test_as_on_run_start_hook_it_stops_the_build(tmp_path: Path) -> None:
    project = dbt_project("bad_meta", tmp_path)
    with (project / "dbt_project.yml").open("a") as dbt_project_yml:
        dbt_project_yml.write('on-run-start:\n  - "{{ privacy_guard.validate_meta() }}"\n')
    build = dbt(project, "build", check=False)
    assert build.returncode != 0
    assert "privacy_guard.validate_meta: model.bad_meta.bad_node: privacy.k must be >= 1 (got 0)" in build.stdout
    # The hook failed before any node ran: dbt wrote no run results at all.
    assert not (project / "target" / "run_results.json").exists()


def test_every_planted_problem_is_one_line_naming_node_and_key(bad_meta: tuple[DbtResult, DbtResult]) -> None:
    _, validate = bad_meta
    reported = [
        line.strip().removeprefix("privacy_guard.validate_meta: ")
        for line in validate.stdout.splitlines()
        if line.strip().startswith("privacy_guard.validate_meta: ")
    ]
    assert reported == EXPECTED
    assert "model.bad_meta.good_node" not in validate.stdout


def test_bad_meta_exits_non_zero_without_a_traceback(bad_meta: tuple[DbtResult, DbtResult]) -> None:
    parse, validate = bad_meta
    # dbt itself treats meta as free-form: parsing succeeds, only validate_meta objects.
    assert parse.returncode == 0
    assert validate.returncode == 1
    assert "Traceback" not in validate.stdout + validate.stderr
