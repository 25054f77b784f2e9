"""What the SQL analysis cannot see is said (notes), never guessed: hard-coded relations, Python
models, SQL that does not parse, constructs read in part, a manifest without compiled SQL."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from manifest_builder import ManifestBuilder, pairs

from python_checks.check import NO_COMPILED_SQL, PYTHON_MODEL
from python_checks.cli import cli

POLICY = {"consent": ["research"], "retention": {"days": 365}}
EMAIL, QI = {"class": "direct_identifier"}, {"class": "quasi_identifier"}


def departments(builder: ManifestBuilder) -> tuple[str, str]:
    hr = builder.node("hr", "seed", {"department": "hr", **POLICY}, {"email": EMAIL, "zip": QI})
    clinic = builder.node("clinic", "seed", {"department": "clinic", **POLICY}, {"email": EMAIL, "age": QI})
    return hr, clinic


def notes(report) -> list[tuple[str | None, str]]:
    return [(note.node, note.message) for note in report.analysis.notes]


def test_a_hard_coded_relation_of_a_node_becomes_a_parent_with_a_note(tmp_path: Path) -> None:
    builder = ManifestBuilder()
    hr, _ = departments(builder)
    # depends_on names hr only: clinic is read by its schema.table name, bypassing ref().
    builder.node("combined", privacy={"purpose": "research"}, parents=(hr,), sql='select h.zip from "db"."main"."hr" h join main.clinic c on h.email = c.email')
    report = builder.check(tmp_path)
    assert notes(report) == [("model.demo.combined", "reads main.clinic by a hard-coded name, not ref()/source(): taken as a parent (seed.demo.clinic)")]
    assert report.analysis.lineage.parents["model.demo.combined"] == ("seed.demo.hr", "seed.demo.clinic")
    assert {("cross_department_join", "combined"), ("direct_identifier_join", "combined")} <= pairs(report)


def test_a_relation_no_node_builds_is_a_note_and_this_is_not(tmp_path: Path) -> None:
    builder = ManifestBuilder()
    hr, _ = departments(builder)
    builder.node("wide", parents=(hr,), sql='select h.zip, x.score from "db"."main"."hr" h join analytics.scores x on h.zip = x.zip')
    builder.node("incremental", parents=(hr,), sql='select zip from "db"."main"."hr" where zip > (select max(zip) from "db"."main"."incremental")')
    assert notes(builder.check(tmp_path)) == [("model.demo.wide", "reads analytics.scores, which no node of the manifest builds: what it holds is not seen")]


def test_a_hard_coded_name_that_closes_a_cycle_keeps_the_declared_lineage(tmp_path: Path) -> None:
    builder = ManifestBuilder()
    hr, _ = departments(builder)
    first = builder.node("first", parents=(hr,), sql='select zip from "db"."main"."hr" union all select zip from main.second')
    builder.node("second", parents=(first,), sql='select zip from "db"."main"."first"')
    report = builder.check(tmp_path)
    assert report.analysis.lineage.parents["model.demo.first"] == ("seed.demo.hr",)
    assert notes(report) == [("model.demo.first", "reads main.second by a hard-coded name, not ref()/source(): taken as a parent (model.demo.second)")]


def python_model(builder: ManifestBuilder, parent: str, columns: dict | None) -> str:
    unique_id = builder.node("scored", parents=(parent,), sql="def model(dbt, session):\n    return dbt.ref('hr')\n", columns=columns)
    builder.nodes[unique_id]["language"] = "python"
    return unique_id


def test_a_python_model_is_a_note_and_its_columns_come_from_its_yaml(tmp_path: Path) -> None:
    builder = ManifestBuilder()
    hr, _ = departments(builder)
    python_model(builder, hr, {"zip": None})
    report = builder.check(tmp_path)
    assert notes(report) == [("model.demo.scored", PYTHON_MODEL)]
    assert set(report.analysis.policies["model.demo.scored"].columns) == {"zip"}  # no invented email
    assert pairs(report, "unprotected_identifier") == set()


def test_without_yaml_columns_a_python_model_carries_every_parent_column(tmp_path: Path) -> None:
    builder = ManifestBuilder()
    hr, _ = departments(builder)
    python_model(builder, hr, None)
    report = builder.check(tmp_path)
    assert set(report.analysis.policies["model.demo.scored"].columns) == {"email", "zip"}
    assert pairs(report, "unprotected_identifier") == {("unprotected_identifier", "scored")}


def test_sql_that_does_not_parse_is_a_note_and_the_fallback_uses_the_catalog(tmp_path: Path) -> None:
    builder = ManifestBuilder()
    hr, _ = departments(builder)
    builder.node("broken", parents=(hr,), sql="select from from where", columns={"zip": None, "email": None})
    manifest = builder.write(tmp_path)
    catalog = tmp_path / "target" / "catalog.json"
    catalog.write_text(json.dumps({"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/catalog/v1.json"}, "nodes": {"model.demo.broken": {"columns": {"zip": {"name": "zip"}}}}, "sources": {}}))
    from python_checks.check import run_check

    report = run_check(manifest, catalog=catalog)
    [(node, message)] = notes(report)
    assert node == "model.demo.broken" and message.startswith("SQL not analysed (duckdb dialect)")
    assert set(report.analysis.policies["model.demo.broken"].columns) == {"zip"}  # the catalog wins over the YAML


def test_pivot_and_columns_are_notes_on_the_model(tmp_path: Path) -> None:
    builder = ManifestBuilder()
    hr, _ = departments(builder)
    builder.node("pivoted", parents=(hr,), sql="select * from main.hr pivot (count(*) for zip in ('1', '2'))")
    builder.node("regex", parents=(hr,), sql="select max(columns(*)) from main.hr")
    found = notes(builder.check(tmp_path))
    assert [(node, message.split(":")[0]) for node, message in found] == [("model.demo.pivoted", "PIVOT of main.hr"), ("model.demo.regex", "COLUMNS(...) in MAX(COLUMNS(*))")]


def unparsed(tmp_path: Path) -> Path:
    """A `dbt parse` manifest: no compiled SQL anywhere."""
    builder = ManifestBuilder()
    hr, clinic = departments(builder)
    builder.node("combined", privacy={"purpose": "research"}, parents=(hr, clinic))
    return builder.write(tmp_path)


def test_no_compiled_sql_is_said_once_at_the_top_of_every_format(tmp_path: Path) -> None:
    manifest = str(unparsed(tmp_path))
    runner = CliRunner()
    text = runner.invoke(cli, ["check", "--manifest", manifest, "--fail-on", "never"]).output
    assert text.splitlines()[1] == f"note: {NO_COMPILED_SQL}" and text.count(NO_COMPILED_SQL) == 1
    document = json.loads(runner.invoke(cli, ["check", "--manifest", manifest, "--format", "json", "--fail-on", "never"]).stdout)
    assert document["notes"] == [{"node": None, "message": NO_COMPILED_SQL}]
    sarif = json.loads(runner.invoke(cli, ["check", "--manifest", manifest, "--format", "sarif", "--fail-on", "never"]).stdout)
    assert sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"] == [{"level": "warning", "message": {"text": NO_COMPILED_SQL}}]
    # The name-based verdicts still come, qualified by the note.
    assert findings_of(document) >= {("direct_identifier_join", "model.demo.combined")}


def findings_of(document: dict) -> set[tuple[str, str]]:
    return {(f["rule"], f["node"]) for f in document["findings"]}


def test_a_note_on_a_model_is_located_in_sarif(tmp_path: Path) -> None:
    builder = ManifestBuilder()
    hr, _ = departments(builder)
    builder.node("broken", parents=(hr,), sql="select from from where")
    runner = CliRunner()
    sarif = json.loads(runner.invoke(cli, ["check", "--manifest", str(builder.write(tmp_path)), "--format", "sarif", "--fail-on", "never"]).stdout)
    [notification] = sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert notification["level"] == "note" and notification["locations"] == [{"logicalLocations": [{"fullyQualifiedName": "model.demo.broken", "kind": "module"}]}]


def test_the_docs_show_the_whole_manifest_note_without_a_node(tmp_path: Path) -> None:
    manifest = str(unparsed(tmp_path))
    runner = CliRunner()
    assert runner.invoke(cli, ["docs", "--manifest", manifest, "--out", str(tmp_path / "md"), "--format", "markdown"]).exit_code == 0
    markdown = (tmp_path / "md" / "privacy_lineage.md").read_text()
    assert f"## What the check could not see\n\n- {NO_COMPILED_SQL}\n" in markdown
    assert runner.invoke(cli, ["docs", "--manifest", manifest, "--out", str(tmp_path / "html")]).exit_code == 0
    page = (tmp_path / "html" / "index.html").read_text()
    assert f"<li>{NO_COMPILED_SQL}</li>" in page and "<code>None</code>" not in page


def test_a_manifest_without_models_needs_no_compiled_sql(tmp_path: Path) -> None:
    builder = ManifestBuilder()
    departments(builder)
    assert notes(builder.check(tmp_path)) == []
