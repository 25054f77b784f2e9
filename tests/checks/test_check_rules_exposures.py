"""Exposures are consumers (issue 7.7): their purpose meets consent and agreements, and two departments meet there."""

from __future__ import annotations

from pathlib import Path

from manifest_builder import ManifestBuilder, pairs

QI = {"class": "quasi_identifier"}
ID = {"class": "direct_identifier"}


def test_findings_about_an_exposure_sit_on_the_exposure(tmp_path: Path) -> None:
    builder = ManifestBuilder()
    a = builder.node("a", "seed", {"department": "a", "consent": ["care"], "retention": {"days": 9}, "k": 2}, {"zip": QI, "sex": QI})
    b = builder.node("b", "seed", {"department": "b", "consent": ["care", "research"], "retention": {"days": 9}, "k": 2}, {"age": QI})
    builder.test("k_anonymity", a)
    builder.test("k_anonymity", b)
    builder.exposure("wrong_purpose", (a,), {"purpose": "research"})  # consent of a lacks research
    builder.exposure("right_purpose", (a,), {"purpose": "care"})
    builder.exposure("two_departments", (a, b), {"purpose": "care"})  # meets a and b without an agreement
    builder.exposure("two_departments_agreed", (a, b), {"purpose": "care", "agreement": "ab"})
    report = builder.check(tmp_path, {"agreements": [{"id": "ab", "departments": ["a", "b"], "purposes": ["care"], "expires": "2099-12-31"}]})
    exposure_findings = {pair for pair in pairs(report) if pair[1] in {"wrong_purpose", "right_purpose", "two_departments", "two_departments_agreed"}}
    assert exposure_findings == {
        ("consent_violation", "wrong_purpose"),
        ("cross_department_join", "two_departments"),
        # A dashboard that shows both departments side by side links their 3 QIs: no test can guard it.
        ("quasi_identifier_linkage", "two_departments"),
        ("quasi_identifier_linkage", "two_departments_agreed"),
    }
    assert all(f.node.startswith("exposure.demo.") for f in report.findings if f.node.rsplit(".", 1)[-1] in {p[1] for p in exposure_findings})


def test_exposure_reading_raw_identifiers_of_two_departments_links_them(tmp_path: Path) -> None:
    builder = ManifestBuilder()
    a = builder.node("a", "seed", {"department": "a", "consent": ["care"], "retention": {"days": 9}}, {"email": ID})
    b = builder.node("b", "seed", {"department": "b", "consent": ["care"], "retention": {"days": 9}}, {"email": ID})
    builder.exposure("joined_in_the_bi_tool", (a, b), {"purpose": "care", "agreement": "ab"})
    report = builder.check(tmp_path, {"agreements": [{"id": "ab", "departments": ["a", "b"], "purposes": ["care"], "expires": "2099-12-31"}]})
    [finding] = [f for f in report.findings if f.rule == "direct_identifier_join"]
    assert finding.node == "exposure.demo.joined_in_the_bi_tool"
    assert finding.evidence == {"columns": ["email"], "departments": ["a", "b"], "basis": "shared column names (an exposure has no SQL)"}
