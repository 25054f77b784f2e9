"""The loader over hand-written manifests of older dbt versions (the v12 one is generated in test_check_project.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from manifest_builder import ManifestBuilder, findings

from python_checks.check import run_check
from python_checks.loader import load_manifest, load_run_results
from python_checks.policy import declared_policy
from python_checks.provenance import extract
from python_checks.sql_model import dialect_for

MANIFESTS = Path(__file__).resolve().parents[1] / "fixtures" / "manifests"


def test_v1_reads_top_level_meta_compiled_sql_and_sources() -> None:
    manifest = load_manifest(MANIFESTS / "v1_dbt0.19.json")
    assert (manifest.schema_version, manifest.dbt_version, manifest.adapter_type) == (1, "0.19.2", "postgres")
    assert set(manifest.nodes) == {"seed.legacy.patients", "model.legacy.visits_by_zip", "source.legacy.crm.contacts"}
    seed = manifest.nodes["seed.legacy.patients"]
    assert seed.privacy["department"] == "clinic"
    assert seed.columns["email"].privacy == {"class": "direct_identifier"}
    assert manifest.nodes["model.legacy.visits_by_zip"].compiled_code.startswith("select p.zip")
    assert manifest.nodes["source.legacy.crm.contacts"].identifier == "contacts"
    # No attached_node before dbt 1.5: the test belongs to the node it depends on.
    [test] = manifest.tests
    assert (test.name, test.namespace, test.attached_node) == ("unique", None, "seed.legacy.patients")


def test_v4_reads_config_meta_and_exposures() -> None:
    manifest = load_manifest(MANIFESTS / "v4_dbt1.0.json")
    assert manifest.nodes["model.mid.staff"].privacy["retention"] == {"days": 90}
    assert manifest.nodes["exposure.mid.dashboard"].parents == ("model.mid.staff",)
    assert dialect_for(manifest.adapter_type) == "snowflake"


def test_v7_reads_compiled_code_and_column_config_meta() -> None:
    manifest = load_manifest(MANIFESTS / "v7_dbt1.3.json")
    node = manifest.nodes["model.later.orders"]
    assert node.compiled_code == "select top 10 customer_id from [db].[dbo].[raw_orders]"
    assert declared_policy(node).columns["customer_id"].column_class == "direct_identifier"
    assert dialect_for(manifest.adapter_type) == "tsql"


@pytest.mark.parametrize(("adapter", "dialect"), [("duckdb", "duckdb"), ("postgres", "postgres"), ("bigquery", "bigquery"), ("sqlserver", "tsql"), ("exotic", None), (None, None)])
def test_adapter_to_dialect(adapter: str | None, dialect: str | None) -> None:
    assert dialect_for(adapter) == dialect


def test_run_results_statuses(tmp_path: Path) -> None:
    path = tmp_path / "run_results.json"
    path.write_text('{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/run-results/v5.json"}, "results": [{"unique_id": "t.a", "status": "fail"}]}')
    assert load_run_results(path) == {"t.a": "fail"}


def test_catalog_columns_limit_where_columns_flow_without_sql(tmp_path: Path) -> None:
    builder = ManifestBuilder()
    raw = builder.node("raw", "seed", {"department": "a", "consent": ["x"], "retention": {"days": 1}}, {"email": {"class": "direct_identifier"}})
    builder.node("staged", parents=(raw,))  # no SQL, no documented columns
    manifest = builder.write(tmp_path)
    catalog = tmp_path / "catalog.json"
    catalog.write_text(
        '{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/catalog/v1.json"}, "sources": {},'
        ' "nodes": {"model.demo.staged": {"columns": {"ZIP": {"name": "ZIP", "type": "VARCHAR"}}}}}'
    )
    assert [f.node for f in findings(run_check(manifest), "unprotected_identifier")] == ["model.demo.staged"]
    assert findings(run_check(manifest, catalog=catalog), "unprotected_identifier") == []


def test_the_checks_and_the_docs_attach_each_test_to_the_same_node(tmp_path: Path) -> None:
    """One rule (loader.tested_node) for both: dbt's attached_node, else the only parent; a test of
    several nodes without attached_node (relationships in dbt < 1.5, a singular test) belongs to none."""
    builder = ManifestBuilder()
    hr = builder.node("hr", "seed", {"department": "hr"}, {"zip": {"class": "quasi_identifier"}})
    model = builder.node("banded", parents=(hr,), sql='select zip from "db"."main"."hr"')
    attached = builder.test("k_anonymity", model)
    only_parent = builder.test("l_diversity", model)
    builder.nodes[only_parent]["attached_node"] = None  # dbt < 1.5
    two_parents = builder.test("k_anonymity", model, suffix="_two")
    builder.nodes[two_parents].update(attached_node=None, depends_on={"nodes": [hr, model], "macros": []})
    singular = "test.demo.assert_banded"
    builder.nodes[singular] = {"unique_id": singular, "name": "assert_banded", "resource_type": "test", "depends_on": {"nodes": [model], "macros": []}}
    manifest = load_manifest(builder.write(tmp_path))
    by_loader = {test.unique_id: test.attached_node for test in manifest.tests}
    assert by_loader == {attached: model, only_parent: model, two_parents: None, singular: model}
    by_docs = {test.unique_id: uid for uid, record in extract(manifest).items() for test in record.tests}
    assert by_docs == {uid: node for uid, node in by_loader.items() if node is not None}
