"""Waivers (issue 7.10): `privacy.waivers` silences one rule on one node until it expires; invalid_waiver reports the rest."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from manifest_builder import AS_OF, ManifestBuilder, findings

from python_checks.formatters import sarif, text

QI = {"class": "quasi_identifier"}
SEED = {"consent": ["research"], "retention": {"days": 365}}


def waiver(rule: str, expires: str) -> dict[str, str]:
    return {"rule": rule, "reason": "approved pilot", "expires": expires, "approved_by": "dpo@example.org"}


def project() -> ManifestBuilder:
    builder = ManifestBuilder()
    a = builder.node("a", "seed", {"department": "a", **SEED}, {"zip": QI})
    b = builder.node("b", "seed", {"department": "b", **SEED}, {"age": QI})
    # Both models combine a and b without an agreement (cross_department_join) and have no purpose.
    builder.node("waived", privacy={"waivers": [waiver("cross_department_join", AS_OF.isoformat())]}, parents=(a, b))
    builder.node("expired", privacy={"waivers": [waiver("cross_department_join", "2026-01-14"), waiver("no_such_rule", "2030-01-01")]}, parents=(a, b))
    return builder


def test_a_valid_waiver_silences_one_rule_on_one_node(tmp_path: Path) -> None:
    report = project().check(tmp_path)
    active = {(f.rule, f.node) for f in report.findings}
    assert ("cross_department_join", "model.demo.expired") in active
    assert ("cross_department_join", "model.demo.waived") not in active
    assert ("missing_purpose", "model.demo.waived") in active  # the waiver covers its one rule only
    [waived] = report.analysis.waived
    assert (waived.rule, waived.node, waived.waiver) == ("cross_department_join", "model.demo.waived", waiver("cross_department_join", "2026-01-15"))
    invalid = {f.message for f in findings(report, "invalid_waiver")}
    assert invalid == {
        "model expired: waiver for cross_department_join expired on 2026-01-14",
        "model expired: waiver names unknown rule 'no_such_rule'",
    }
    document = report.to_document()
    assert document["summary"]["waived"] == 1
    assert [(f["rule"], f["node"], f["waiver"]["approved_by"]) for f in document["waived_findings"]] == [("cross_department_join", "model.demo.waived", "dpo@example.org")]
    assert document["nodes"]["model.demo.waived"]["waivers"] == [waiver("cross_department_join", "2026-01-15")]


def test_waived_findings_are_listed_in_text_and_as_sarif_suppressions(tmp_path: Path) -> None:
    report = project().check(tmp_path)
    lines = [line for line in text.render(report).splitlines() if line.startswith("waived")]
    assert lines == [
        "waived   cross_department_join     waived: model waived combines a, b but cites no data-use agreement "
        "(waiver until 2026-01-15, approved by dpo@example.org: approved pilot)"
    ]
    results = sarif.document(report)["runs"][0]["results"]
    suppressed = [r for r in results if "suppressions" in r]
    assert [(r["ruleId"], r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]) for r in suppressed] == [("cross_department_join", "model.demo.waived")]
    assert suppressed[0]["suppressions"] == [{"kind": "inSource", "status": "accepted", "justification": "approved pilot (approved by dpo@example.org, expires 2026-01-15)"}]
    assert len(results) == len(report.findings) + 1


def test_a_waived_finding_does_not_fail_the_run(tmp_path: Path) -> None:
    builder = ManifestBuilder()
    a = builder.node("a", "seed", {"department": "a", **SEED}, {"zip": QI})
    b = builder.node("b", "seed", {"department": "b", **SEED}, {"age": QI})
    waivers = [waiver("cross_department_join", "2030-01-01"), waiver("missing_purpose", "2030-01-01")]
    builder.node("combined", privacy={"waivers": waivers}, parents=(a, b))
    manifest = builder.write(tmp_path)
    args = ["check", "--manifest", str(manifest), "--as-of", "2026-01-15", "--format", "json"]
    result = subprocess.run([sys.executable, "-m", "python_checks", *args], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    document = json.loads(result.stdout)
    assert [f["rule"] for f in document["findings"]] == ["missing_privacy_test"]  # a warning: exit 0 with --fail-on error
    assert {f["rule"] for f in document["waived_findings"]} == {"cross_department_join", "missing_purpose"}


def test_a_malformed_waiver_is_invalid_policy_and_silences_nothing(tmp_path: Path) -> None:
    builder = ManifestBuilder()
    a = builder.node("a", "seed", {"department": "a", **SEED}, {"zip": QI})
    b = builder.node("b", "seed", {"department": "b", **SEED}, {"age": QI})
    builder.node("combined", privacy={"waivers": [{"rule": "cross_department_join", "reason": "no approver", "expires": "2030-01-01"}]}, parents=(a, b))
    report = builder.check(tmp_path)
    [invalid] = findings(report, "invalid_policy")
    assert invalid.message == "model combined has invalid privacy meta: waivers.0: 'approved_by' is a required property"
    assert ("cross_department_join", "model.demo.combined") in {(f.rule, f.node) for f in report.findings}
