"""The Jinja constants of macros/_internal/_contract.sql agree with the JSON Schema.

The macro is rendered by real dbt (`dbt compile --inline`) and compared with the schema as read
through python_checks.contract, so a key, enum value, type, bound or default added to one side
only fails here.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from dbt_harness import dbt, dbt_project
from python_checks import contract

pytestmark = pytest.mark.dbt

# JSON Schema of a property -> the type name _contract() uses for it.
def _type_name(prop: dict[str, Any]) -> str:
    if "$ref" in prop:
        prop = contract.schema()["$defs"][prop["$ref"].rsplit("/", 1)[1]]
    if "enum" in prop:
        return "string"
    if prop.get("type") == "array":
        return "list_of_mappings" if "$ref" in prop["items"] and _type_name(prop["items"]) == "mapping" else "list_of_strings"
    return {"object": "mapping"}.get(prop["type"], prop["type"])


@pytest.fixture(scope="module")
def constants(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    project = dbt_project("consumer", tmp_path_factory.mktemp("contract"))
    result = dbt(project, "compile", "--quiet", "--inline", "{{ tojson(privacy_guard._contract()) }}", check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_namespaces(constants: dict[str, Any]) -> None:
    assert (constants["meta_namespace"], constants["vars_namespace"]) == (contract.META_NAMESPACE, contract.VARS_NAMESPACE)


def test_enums_in_order(constants: dict[str, Any]) -> None:
    assert constants["column_classes"] == contract.enum_values("column_class")
    assert constants["sensitivity_levels"] == contract.enum_values("sensitivity")
    assert constants["protections"] == contract.enum_values("protection")


def test_keys_and_types(constants: dict[str, Any]) -> None:
    for name, kind in [("node_keys", "node"), ("column_keys", "column")]:
        properties = contract.definition(kind)["properties"]
        assert constants[name] == {key: _type_name(prop) for key, prop in properties.items()}
    for block in ["retention", "risk"]:
        properties = contract.schema()["$defs"][block]["properties"]
        assert constants[f"{block}_keys"] == {key: _type_name(prop) for key, prop in properties.items()}
    waiver = contract.schema()["$defs"]["waiver"]
    assert constants["waiver_keys"] == {key: _type_name(prop) for key, prop in waiver["properties"].items()}
    assert set(waiver["required"]) == set(constants["waiver_keys"])  # validate_meta requires every key
    assert constants["date_pattern"] == waiver["properties"]["expires"]["pattern"]


def test_purpose_pattern_and_bounds(constants: dict[str, Any]) -> None:
    defs = contract.schema()["$defs"]
    assert constants["purpose_pattern"] == defs["purpose"]["pattern"]
    node = contract.definition("node")["properties"]
    schema_bounds = {key: node[key] for key in ["k", "l", "t"]} | {"retention.days": defs["retention"]["properties"]["days"]}
    schema_bounds |= {f"risk.{key}": prop for key, prop in defs["risk"]["properties"].items()}
    bound_keys = {"minimum", "exclusiveMinimum", "maximum"}
    assert constants["number_bounds"] == {
        key: {bound: value for bound, value in prop.items() if bound in bound_keys} for key, prop in schema_bounds.items()
    }


def test_personal_column_patterns(constants: dict[str, Any]) -> None:
    assert constants["personal_column_patterns"] == contract.definition("project")["properties"]["personal_column_patterns"]["default"]


def test_defaults(constants: dict[str, Any]) -> None:
    project = contract.definition("project")["properties"]
    assert constants["defaults"] == {key: project[key]["default"] for key in constants["defaults"]}
    assert set(constants["defaults"]) == {"default_k", "default_l", "default_t", "key_env_var", "explain_failures"}
