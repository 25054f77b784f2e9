"""The dbt side and the Python side agree on every model's quasi-identifiers, k and privacy unit.

One fixture (tests/fixtures/policy_agreement) is built once; `privacy-guard check` reads its
manifest, and the Jinja helper the generic tests use (macros/_internal/_lineage.sql) is rendered
by real dbt on the same project. Lineage cases: a personal parent without k (default_k), a lower
own k (the maximum wins), an own class overriding an inherited one, a column classed QI on one
side and sensitive on the other (the most identifying wins), two different units (none
inherited), retention (the minimum wins, a longer own one does not extend it) and a model without personal data.
"""

from __future__ import annotations

import json
import shutil
from typing import Any

import pytest

from dbt_harness import dbt, dbt_project
from python_checks.check import run_check

pytestmark = pytest.mark.dbt

# Rendered by dbt: for every model of the project, what the generic tests would default to.
JINJA = """
{%- set out = {} -%}
{%- for node in graph.nodes.values() if node.resource_type == 'model' and node.package_name == project_name -%}
  {%- set relation = api.Relation.create(database=node.database, schema=node.schema, identifier=node.alias) -%}
  {%- set target = privacy_guard._target_of(node, relation, 'agreement', 'test') -%}
  {%- set effective = privacy_guard._effective_of(target) -%}
  {%- set qis = privacy_guard._resolve_columns(target, 'quasi_identifier', 'quasi_identifiers', none, required=false, inherit=true) -%}
  {%- do out.update({node.unique_id: {'k': effective.k, 'privacy_unit': effective.privacy_unit, 'retention_days': effective.retention_days, 'quasi_identifiers': qis | map('lower') | sort}}) -%}
{%- endfor -%}
{{ tojson(out) }}
"""


@pytest.fixture(scope="module")
def sides(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], dict[str, Any]]:
    project = dbt_project("policy_agreement", tmp_path_factory.mktemp("agreement"))
    dbt(project, "run", check=True)
    manifest = project.parent / "manifest.json"
    shutil.copy(project / "target" / "manifest.json", manifest)
    nodes = run_check(manifest, project_dir=project).to_document()["nodes"]
    python = {
        unique_id: {"k": node["k"], "privacy_unit": node["privacy_unit"], "retention_days": node["retention_days"], "quasi_identifiers": sorted(node["quasi_identifiers"])}
        for unique_id, node in nodes.items() if unique_id.startswith("model.")
    }
    rendered = dbt(project, "compile", "--quiet", "--inline", JINJA, check=True)
    return python, json.loads(rendered.stdout.strip().splitlines()[-1])


def test_both_sides_agree_on_every_model(sides: tuple[dict[str, Any], dict[str, Any]]) -> None:
    python, jinja = sides
    assert jinja == python


def test_the_agreed_values_are_the_lineage_rules(sides: tuple[dict[str, Any], dict[str, Any]]) -> None:
    """Not two identical mistakes: the values worked out by hand from the fixture."""
    _, jinja = sides
    model = "model.policy_agreement."
    assert jinja == {
        model + "clinic_visits": {"k": 4, "privacy_unit": "patient_pid", "retention_days": 365, "quasi_identifiers": ["age_band", "zip"]},
        model + "hr_roster": {"k": 5, "privacy_unit": "employee_pid", "retention_days": 90, "quasi_identifiers": ["age_band"]},
        model + "combined": {"k": 5, "privacy_unit": None, "retention_days": 90, "quasi_identifiers": ["age_band", "zip"]},
        model + "clinic_child": {"k": 4, "privacy_unit": "patient_pid", "retention_days": 365, "quasi_identifiers": ["zip"]},
        model + "clinic_grandchild": {"k": 4, "privacy_unit": "patient_pid", "retention_days": 365, "quasi_identifiers": ["zip"]},
        model + "not_personal": {"k": None, "privacy_unit": None, "retention_days": None, "quasi_identifiers": []},
    }
