"""`privacy-guard agreements`: status per agreement, who cites it, uncited agreements, bad agreements."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from manifest_builder import ManifestBuilder

AS_OF = "2026-06-01"
POLICY = {"consent": ["research"], "retention": {"days": 365}}
AGREEMENTS = [
    # 2026-06-01 + 200 days: active; + 30 days: expiring (within 60); the day before: expired.
    {"id": "hr_clinic", "departments": ["hr", "clinic"], "purposes": ["research"], "expires": "2026-12-18",
     "owner": "dpo@example.org", "roles": ["analyst"], "review": {"id": "ERB-7", "date": "2026-01-10", "reviewers": ["ana"]}},
    {"id": "hr_sales", "departments": ["hr", "sales"], "purposes": ["research"], "expires": "2026-07-01"},
    {"id": "old_deal", "departments": ["hr", "clinic"], "expires": "2026-05-31"},
]


def privacy_guard(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The real console entry point, as a user runs it."""
    return subprocess.run([sys.executable, "-m", "python_checks", *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def project(directory: Path, agreements: list[dict], **settings: object) -> Path:
    """hr + clinic + sales seeds; `combined` and an exposure cite hr_clinic, `old_join` cites old_deal; hr_sales is cited by nobody."""
    builder = ManifestBuilder()
    hr = builder.node("hr", "seed", {"department": "hr", **POLICY}, {"zip": {"class": "quasi_identifier"}})
    clinic = builder.node("clinic", "seed", {"department": "clinic", **POLICY}, {"age": {"class": "quasi_identifier"}})
    builder.node("sales", "seed", {"department": "sales", **POLICY})
    combined = builder.node("combined", privacy={"purpose": "research", "agreement": "hr_clinic"}, parents=(hr, clinic))
    builder.node("old_join", privacy={"purpose": "research", "agreement": "old_deal"}, parents=(hr, clinic))
    builder.exposure("board_report", (combined,), {"purpose": "research", "agreement": "hr_clinic"})
    return builder.write(directory, {"agreements": agreements, **settings})


def test_json_lists_status_citations_and_uncited_agreements(tmp_path: Path) -> None:
    manifest = project(tmp_path, AGREEMENTS)
    result = privacy_guard("agreements", "--manifest", str(manifest), "--as-of", AS_OF, "--format", "json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    rows = {row["id"]: row for row in json.loads(result.stdout)["agreements"]}
    assert {i: r["status"] for i, r in rows.items()} == {"hr_clinic": "active", "hr_sales": "expiring", "old_deal": "expired"}
    assert {i: r["days_left"] for i, r in rows.items()} == {"hr_clinic": 200, "hr_sales": 30, "old_deal": -1}
    assert rows["hr_clinic"]["nodes"] == ["exposure.demo.board_report", "model.demo.combined"]
    assert rows["old_deal"]["nodes"] == ["model.demo.old_join"]
    assert rows["hr_sales"]["nodes"] == []
    assert (rows["hr_clinic"]["owner"], rows["hr_clinic"]["roles"], rows["hr_clinic"]["review"]["id"]) == ("dpo@example.org", ["analyst"], "ERB-7")
    assert (rows["hr_sales"]["owner"], rows["hr_sales"]["roles"], rows["hr_sales"]["review"]) == (None, None, None)


def test_text_names_each_agreement_and_the_uncited_one(tmp_path: Path) -> None:
    manifest = project(tmp_path, AGREEMENTS)
    result = privacy_guard("agreements", "--manifest", str(manifest), "--as-of", AS_OF, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    blocks = result.stdout.split("\n- ")[1:]
    assert [b.split(":", 1)[0] for b in blocks] == ["hr_clinic", "hr_sales", "old_deal"]
    assert "expiring, expires 2026-07-01 (30 days)" in blocks[1] and "cited by: nobody" in blocks[1]
    assert "review ERB-7 on 2026-01-10" in blocks[0] and "cited by: exposure.demo.board_report, model.demo.combined" in blocks[0]


def test_bad_agreements_are_one_line_exit_2(tmp_path: Path) -> None:
    cases = {
        "review_without_date": ({**AGREEMENTS[0], "review": {"id": "ERB-7"}}, "date"),
        "negative_roles_type": ({**AGREEMENTS[0], "roles": "analyst"}, "roles"),
        "without_expiry": ({key: value for key, value in AGREEMENTS[0].items() if key != "expires"}, "expires"),
    }
    for name, (agreement, key) in cases.items():
        manifest = project(tmp_path / name, [agreement])
        result = privacy_guard("agreements", "--manifest", str(manifest), "--as-of", AS_OF, cwd=tmp_path / name)
        assert result.returncode == 2 and result.stdout == "", (name, result)
        [line] = result.stderr.splitlines()
        assert "agreements" in line and key in line and "Traceback" not in line, (name, line)


def test_finds_the_project_and_its_manifest_like_every_command(tmp_path: Path) -> None:
    # Run from a sub-folder without --manifest/--project-dir: dbt_project.yml above it, its target/manifest.json.
    project(tmp_path, AGREEMENTS)
    (tmp_path / "models" / "staging").mkdir(parents=True)
    result = privacy_guard("agreements", "--as-of", AS_OF, "--format", "json", cwd=tmp_path / "models" / "staging")
    assert result.returncode == 0, result.stderr
    assert [row["id"] for row in json.loads(result.stdout)["agreements"]] == ["hr_clinic", "hr_sales", "old_deal"]
    # From a folder outside it, --project-dir names the project (its dbt_project.yml and target/manifest.json).
    elsewhere = tmp_path.parent / f"{tmp_path.name}_elsewhere"
    elsewhere.mkdir()
    result = privacy_guard("agreements", "--project-dir", str(tmp_path), "--as-of", AS_OF, "--format", "json", cwd=elsewhere)
    assert result.returncode == 0, result.stderr
    assert {row["id"]: row["status"] for row in json.loads(result.stdout)["agreements"]} == {"hr_clinic": "active", "hr_sales": "expiring", "old_deal": "expired"}


def test_outside_a_project_names_the_missing_dbt_project_yml(tmp_path: Path) -> None:
    result = privacy_guard("agreements", cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == f"privacy-guard: error: no dbt_project.yml in {tmp_path} or any folder above it: run inside a dbt project, or pass --manifest\n"


def test_an_agreement_naming_a_department_no_node_declares_is_refused(tmp_path: Path) -> None:
    typo = {**AGREEMENTS[0], "departments": ["hr", "clinc"]}
    for command in (["agreements"], ["check"]):
        manifest = project(tmp_path / command[0], [typo])
        result = privacy_guard(*command, "--manifest", str(manifest), "--as-of", AS_OF, cwd=tmp_path / command[0])
        assert result.returncode == 2 and result.stdout == "", (command, result)
        assert result.stderr == (
            f"privacy-guard: error: settings {tmp_path / command[0] / 'dbt_project.yml'}: vars.privacy_guard.agreements.0.departments: agreement hr_clinic names "
            "department 'clinc', which no node declares (declared: clinic, hr, sales); when it is right, list it in vars.privacy_guard.departments\n"
        )


def test_a_listed_department_list_is_the_one_agreements_are_held_to(tmp_path: Path) -> None:
    # Listed, a department nobody declares yet is fine; one outside the list is refused by name.
    planned = {**AGREEMENTS[1], "departments": ["hr", "legal"]}
    manifest = project(tmp_path / "listed", [AGREEMENTS[0], planned], departments=["hr", "clinic", "sales", "legal"])
    assert privacy_guard("agreements", "--manifest", str(manifest), "--as-of", AS_OF, cwd=tmp_path).returncode == 0
    manifest = project(tmp_path / "outside", [AGREEMENTS[0], planned], departments=["hr", "clinic", "sales"])
    result = privacy_guard("agreements", "--manifest", str(manifest), "--as-of", AS_OF, cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == (
        f"privacy-guard: error: settings {tmp_path / 'outside' / 'dbt_project.yml'}: vars.privacy_guard.agreements.1.departments: "
        "'legal' (agreement hr_sales) is not in vars.privacy_guard.departments (clinic, hr, sales)\n"
    )


def test_the_day_is_the_checks_and_a_cited_unknown_id_is_undefined(tmp_path: Path) -> None:
    # No --as-of: vars.privacy_guard.today, the day `check` judges expiry against, not the clock. The
    # docs site (`docs --as-of`, else the same var) states its Agreements view as of that day too.
    builder_dir = tmp_path / "project"
    manifest = project(builder_dir, AGREEMENTS, today=AS_OF)
    manifest_data = json.loads(manifest.read_text())
    manifest_data["nodes"]["model.demo.combined"]["config"]["meta"]["privacy"]["agreement"] = "ghost_deal"
    manifest.write_text(json.dumps(manifest_data))
    result = privacy_guard("agreements", "--manifest", str(manifest), "--format", "json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["as_of"] == AS_OF
    rows = {row["id"]: row for row in document["agreements"]}
    assert {i: r["status"] for i, r in rows.items()} == {"ghost_deal": "undefined", "hr_clinic": "active", "hr_sales": "expiring", "old_deal": "expired"}
    assert (rows["ghost_deal"]["defined"], rows["ghost_deal"]["nodes"], rows["hr_clinic"]["nodes"]) == (False, ["model.demo.combined"], ["exposure.demo.board_report"])
    for as_of, expected in ((None, "expiring"), ("2026-07-02", "expired")):
        site = tmp_path / f"site_{as_of}"
        docs = privacy_guard("docs", "--manifest", str(manifest), "--out", str(site), *(("--as-of", as_of) if as_of else ()), cwd=tmp_path)
        assert docs.returncode == 0, docs.stderr
        assert f'<tr data-agreement="hr_sales" data-status="{expected}">' in (site / "index.html").read_text()
