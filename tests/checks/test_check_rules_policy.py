"""missing_policy and invalid_policy on hand-made manifests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from manifest_builder import ManifestBuilder, findings, pairs
from python_checks.cli import main


def test_missing_keys_are_reported_where_the_gap_starts(tmp_path: Path) -> None:
    builder = ManifestBuilder()
    raw = builder.node("raw", "seed", {"department": "hr"}, {"email": {"class": "direct_identifier"}})
    staged = builder.node("staged", parents=(raw,), sql='select * from "db"."main"."raw"')
    builder.node("declared", privacy={"retention": {"days": 30}}, parents=(staged,), sql='select * from "db"."main"."staged"')
    found = {f.node.rsplit(".", 1)[-1]: f.evidence["missing"] for f in findings(builder.check(tmp_path), "missing_policy")}
    # staged inherits the same gap (not blamed again); declared fills retention, consent still missing upstream.
    assert found == {"raw": ["retention", "consent"]}


def test_non_personal_nodes_need_no_policy(tmp_path: Path) -> None:
    builder = ManifestBuilder()
    builder.node("calendar", "seed", None, {"day": {"class": "none"}})
    assert findings(builder.check(tmp_path), "missing_policy") == []


def test_inherited_policy_is_enough(tmp_path: Path) -> None:
    builder = ManifestBuilder()
    raw = builder.node("raw", "seed", {"department": "hr", "consent": ["a"], "retention": {"days": 1}}, {"zip": {"class": "quasi_identifier"}})
    builder.node("staged", parents=(raw,), sql='select zip from "db"."main"."raw"')
    assert findings(builder.check(tmp_path), "missing_policy") == []


def test_malformed_meta_is_a_finding_not_a_crash(tmp_path: Path) -> None:
    builder = ManifestBuilder()
    builder.node("bad_type", "seed", {"department": "hr", "consent": "research"})
    builder.node("bad_class", "seed", {"department": "hr"}, {"email": {"class": "identifier"}})
    builder.node("not_a_mapping", "seed", ["hr"])
    builder.node("fine", "seed", {"department": "hr", "consent": ["research"]})
    report = builder.check(tmp_path)
    assert pairs(report, "invalid_policy") == {("invalid_policy", "bad_type"), ("invalid_policy", "bad_class"), ("invalid_policy", "not_a_mapping")}
    by_node = {f.node.rsplit(".", 1)[-1]: f.evidence["errors"] for f in findings(report, "invalid_policy")}
    assert by_node["bad_type"] == ["consent: 'research' is not of type 'array'"]
    assert by_node["bad_class"][0].startswith("columns.email.class: 'identifier' is not one of")
    # The valid keys of a partly invalid block still count.
    assert report.analysis.policies["seed.demo.bad_type"].departments == frozenset({"hr"})
    assert report.analysis.policies["seed.demo.bad_type"].consent is None


def test_invalid_meta_alone_exits_1_and_every_command_still_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Exit 2 is for artifacts that cannot be read; a readable manifest with a bad value is a finding.
    builder = ManifestBuilder()
    builder.node("bad_type", "seed", {"department": "hr", "consent": "<b>research</b>", "retention": {"days": 30}})
    manifest = builder.write(tmp_path)
    assert main(["check", "--manifest", str(manifest), "--format", "json"]) == 1
    document = json.loads(capsys.readouterr().out)
    assert [(f["rule"], f["node"]) for f in document["findings"]] == [("invalid_policy", "seed.demo.bad_type")]
    site = tmp_path / "site"
    assert main(["docs", "--manifest", str(manifest), "--out", str(site)]) == 0
    page = (site / "index.html").read_text() + "".join(path.read_text() for path in site.rglob("*.js"))
    # Escaped in the HTML (the finding's text) and in the page's script data; never as markup.
    assert "&lt;b&gt;research&lt;/b&gt;" in page and "\\u003cb\\u003eresearch" in page
    assert "<b>research" not in page
    capsys.readouterr()
    codes = {command: main([command, "--manifest", str(manifest)]) for command in ("inventory", "init", "validate", "agreements")}
    assert codes == {"inventory": 0, "init": 0, "validate": 1, "agreements": 0}  # validate reports it; none fails to run
    assert "seed.demo.bad_type: consent: '<b>research</b>' is not of type 'array'\n" in capsys.readouterr().out
