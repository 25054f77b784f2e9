"""access_review: grants (dbt `grants` config, or a warehouse's) against the roles the policy allows.

The rule is run on a real `dbt build` of tests/fixtures/access_project (its header lists what is
planted); `compare_grants`, the comparison any grants source goes through, is checked on its own.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from dbt_harness import shared_build

from python_checks.check import CheckReport, run_check
from python_checks.rules.access import AccessReview, compare_grants, hook_grants

PREFIX = "model.access_project."
BROAD = frozenset({"public", "everyone"})


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> CheckReport:
    project = shared_build(tmp_path_factory, "access_project").project_dir
    return run_check(Path(project) / "target" / "manifest.json")


@pytest.mark.dbt
def test_exactly_the_planted_grants_are_findings(report: CheckReport) -> None:
    found = {f.node: f for f in report.findings if f.rule == "access_review"}
    assert {node: f.message for node, f in found.items()} == {
        PREFIX + "clinic_public": "model clinic_public: broad role public (select) may not read it [dbt grants config]",
        PREFIX + "hr_clinic_reshare": "model hr_clinic_reshare: marketing_analyst (select) is not an allowed role [dbt grants config]",
        PREFIX + "hr_clinic_hooked": "model hr_clinic_hooked: growth_team (select) is not an allowed role [post-hook]",
        PREFIX + "hr_roles": "model hr_roles: etl_bot (insert) is not an allowed role [dbt grants config]",
    }
    # The select * of hr_clinic_ok keeps the limit of clinic's roles narrowed by agreement `reviewed`.
    assert found[PREFIX + "hr_clinic_reshare"].evidence["allowed_roles"] == ["researcher"]
    assert found[PREFIX + "clinic_public"].evidence == {
        "allowed_roles": ["clinician", "researcher"],
        "sensitivity": "restricted",
        "dbt grants config": {"not_allowed": {}, "broad": {"public": ["select"]}},
    }


def test_creep_is_a_role_outside_the_allowed_ones_whatever_its_case() -> None:
    review = compare_grants(frozenset({"analyst"}), {"select": ["Analyst", "intern"], "insert": ["INTERN"]}, BROAD, False)
    assert review == AccessReview(not_allowed={"intern": ["insert", "select"]}, broad={})


def test_broad_roles_only_count_at_the_configured_sensitivity() -> None:
    grants = {"select": ["public", "analyst"]}
    assert compare_grants(frozenset({"analyst", "public"}), grants, BROAD, True) == AccessReview(not_allowed={}, broad={"public": ["select"]})
    assert not compare_grants(frozenset({"analyst", "public"}), grants, BROAD, False)


def test_without_allowed_roles_only_broad_grants_can_be_reported() -> None:
    assert not compare_grants(None, {"select": ["anyone_at_all"]}, BROAD, True)
    assert compare_grants(None, {"select": ["everyone"]}, BROAD, True).broad == {"everyone": ["select"]}


def test_an_empty_allowed_set_makes_every_grant_creep() -> None:
    # Upstream limits that do not overlap leave nobody allowed: any grant is creep.
    assert compare_grants(frozenset(), {"select": ["analyst"]}, BROAD, False).not_allowed == {"analyst": ["select"]}


def test_grant_statements_in_hooks_are_grants_too() -> None:
    hooks = [
        "{% if target.type == 'postgres' %}grant select on {{ this }} to growth_team, \"Ops\"{% endif %}",
        "GRANT SELECT, INSERT ON TABLE {{ this }} TO bob WITH GRANT OPTION;",
        "revoke select on {{ this }} from carol",
    ]
    assert hook_grants(hooks) == {"select": ("Ops", "bob", "growth_team"), "insert": ("bob",)}


def test_additive_grant_keys_count_as_their_privilege() -> None:
    assert compare_grants(frozenset(), {"+select": ["intern"]}, BROAD, False).not_allowed == {"intern": ["select"]}
