"""`privacy-guard init` (issue 10): a reviewable privacy meta proposal for a planted project."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent / "checks"))
from manifest_builder import ManifestBuilder  # noqa: E402

from python_checks.cli import main  # noqa: E402
from python_checks.contract import validate  # noqa: E402

QI = {"class": "quasi_identifier"}
#: The planted personal-looking columns that no YAML classifies, where they first appear.
PLANTED = {
    ("seeds", None, "crm_export"): ["customer_id", "work_email"],
    ("sources", "app", "app_users"): ["ip_address"],
    ("models", None, "new_column"): ["postcode"],
    ("seeds", None, "half_declared"): ["email"],
}


def planted_project(tmp_path: Path) -> Path:
    builder = ManifestBuilder()
    seed = builder.node("crm_export", "seed")  # columns only in its CSV header
    builder.nodes[seed] |= {"root_path": str(tmp_path), "original_file_path": "seeds/crm_export.csv"}
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "crm_export.csv").write_text("Customer_ID,Work_Email,signup_day,plan\n1,a@example.org,2024-01-01,gold\n")
    builder.node("lookup", "seed", columns={"country_code": None, "label": None})  # nothing personal
    source = builder.node("app_users", "source", columns={"ip_address": None, "created": None})
    real_source_id = "source.demo.app.app_users"  # dbt's source ids name the source and the table
    builder.sources[real_source_id] = builder.sources.pop(source) | {"unique_id": real_source_id}
    builder.node("stg_crm", parents=(seed,), sql='select customer_id, signup_day from "db"."main"."crm_export"')  # inherits
    builder.node("new_column", parents=(seed,), sql="select plan, 'x' as postcode from \"db\".\"main\".\"crm_export\"")
    declared = {"department": "a", "consent": ["x"], "retention": {"days": 1}}
    builder.node("classified", "seed", declared, {"zip": QI, "email": {"class": "direct_identifier"}})
    builder.node("half_declared", "seed", declared, {"zip": QI, "email": None})  # meta, but email has no class
    return builder.write(tmp_path)


def run_init(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["init", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def proposed_columns(document: dict[str, Any]) -> dict[tuple[str, str | None, str], list[str]]:
    found = {}
    for section in ("seeds", "models", "snapshots"):
        for node in document.get(section, []):
            found[(section, None, node["name"])] = [column["name"] for column in node["columns"]]
    for source in document.get("sources", []):
        for table in source["tables"]:
            found[("sources", source["name"], table["name"])] = [column["name"] for column in table["columns"]]
    return found


def test_init_proposes_classes_exactly_for_the_planted_columns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifest = planted_project(tmp_path)
    code, out, _ = run_init(capsys, "--manifest", str(manifest))
    assert code == 0
    document = yaml.safe_load(out)
    assert document["version"] == 2
    assert proposed_columns(document) == PLANTED
    assert out.count("  # review: ") == sum(map(len, PLANTED.values())) + 2 * 3  # each class; department+retention of 3 undeclared nodes
    half = next(node for node in document["seeds"] if node["name"] == "half_declared")
    assert "config" not in half  # existing node meta is not proposed again


def test_filled_placeholders_satisfy_the_contract(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run_init(capsys, "--manifest", str(planted_project(tmp_path)))
    unfilled = yaml.safe_load(out)
    node_blocks = [node["config"]["meta"]["privacy"] for node in unfilled["seeds"] + unfilled["models"] + unfilled["sources"][0]["tables"] if "config" in node]
    assert len(node_blocks) == 3
    assert all(validate("node", block) for block in node_blocks)  # TODO placeholders are not valid meta
    filled = yaml.safe_load(out.replace("department: TODO", "department: sales").replace("days: TODO", "days: 365"))
    nodes = filled["seeds"] + filled["models"] + filled["sources"][0]["tables"]
    assert [validate("node", node["config"]["meta"]["privacy"]) for node in nodes if "config" in node] == [[]] * 3
    columns = [column["config"]["meta"]["privacy"] for node in nodes for column in node["columns"]]
    assert [validate("column", block) for block in columns] == [[]] * 5


def project_files(root: Path) -> dict[Path, bytes]:
    return {path: path.read_bytes() for path in root.rglob("*") if path.is_file()}


def test_out_writes_a_new_file_and_never_overwrites(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifest = planted_project(tmp_path)
    before = project_files(tmp_path)  # manifest, dbt_project.yml, the seed's CSV
    out = tmp_path / "privacy_proposal.yml"
    code, stdout, err = run_init(capsys, "--manifest", str(manifest), "--out", str(out))
    assert (code, stdout) == (0, "")
    assert project_files(tmp_path) == before | {out: out.read_bytes()}  # the one new file; nothing of the project edited
    run_init(capsys, "--manifest", str(manifest))
    assert project_files(tmp_path) == before | {out: out.read_bytes()}  # stdout only: no file at all
    assert proposed_columns(yaml.safe_load(out.read_text())) == PLANTED
    out.write_text("mine\n")
    code, stdout, err = run_init(capsys, "--manifest", str(manifest), "--out", str(out))
    assert code == 2
    assert err == f"privacy-guard: error: --out {out}: exists; init never overwrites a file\n"
    assert out.read_text() == "mine\n"


def test_a_fully_classified_project_gets_an_empty_proposal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    builder = ManifestBuilder()
    builder.node("classified", "seed", {"department": "a", "retention": {"days": 1}}, {"email": {"class": "direct_identifier"}})
    code, out, _ = run_init(capsys, "--manifest", str(builder.write(tmp_path)))
    assert code == 0
    assert yaml.safe_load(out) == {"version": 2}
    assert "nothing to propose" in out


def test_column_names_come_from_the_warehouse_when_given(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import duckdb

    builder = ManifestBuilder()
    builder.node("orders")  # no YAML columns, no SQL: only the warehouse knows its columns
    manifest = builder.write(tmp_path)
    database = tmp_path / "db.duckdb"
    with duckdb.connect(str(database)) as connection:
        connection.execute("create table main.orders (order_id int, Customer_Email varchar, amount int)")
    _, without, _ = run_init(capsys, "--manifest", str(manifest))
    assert yaml.safe_load(without) == {"version": 2}
    code, out, _ = run_init(capsys, "--manifest", str(manifest), "--database", str(database))
    assert code == 0
    assert proposed_columns(yaml.safe_load(out)) == {("models", None, "orders"): ["customer_email"]}
    # Any warehouse dbt connects to: the same names through dbt's adapter for a profile's target.
    (tmp_path / "profiles.yml").write_text(f"shop:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: '{database}'\n")
    code, through_dbt, err = run_init(capsys, "--manifest", str(manifest), "--profile", "shop", "--target", "dev", "--profiles-dir", str(tmp_path))
    assert (code, through_dbt) == (0, out), err
    assert main(["init", "--manifest", str(manifest), "--database", str(database), "--target", "dev"]) == 2
    assert "give a DuckDB file or --target/--profile/--profiles-dir, not both" in capsys.readouterr().err
