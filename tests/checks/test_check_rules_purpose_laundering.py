"""purpose_laundering (issue 7.6): a purpose declared below the meeting point is checked against the agreement the data came under."""

from __future__ import annotations

from pathlib import Path

from manifest_builder import ManifestBuilder, findings

QI = {"class": "quasi_identifier"}
SEED = {"consent": ["research", "marketing"], "retention": {"days": 365}}
AGREEMENTS = [{"id": "ab", "departments": ["a", "b"], "purposes": ["research"], "expires": "2099-12-31"}]


def test_select_star_of_an_agreed_model_for_another_purpose_is_laundering(tmp_path: Path) -> None:
    builder = ManifestBuilder()
    a = builder.node("a", "seed", {"department": "a", **SEED}, {"zip": QI})
    b = builder.node("b", "seed", {"department": "b", **SEED}, {"age": QI})
    agreed = builder.node("agreed", privacy={"agreement": "ab", "purpose": "research"}, parents=(a, b))
    relabelled = builder.node("relabelled", privacy={"purpose": "marketing"}, parents=(agreed,), sql='select * from "db"."main"."agreed"')
    builder.node("below_relabelled", parents=(relabelled,))  # inherits marketing: reported once, where declared
    builder.node("same_purpose", privacy={"purpose": "research"}, parents=(agreed,))
    builder.exposure("campaign", (agreed,), {"purpose": "marketing"})
    builder.exposure("study", (agreed,), {"purpose": "research"})
    builder.node("single_department", privacy={"purpose": "marketing"}, parents=(a,))  # no agreement above: consent decides
    report = builder.check(tmp_path, {"agreements": AGREEMENTS})
    found = {f.node: f for f in findings(report, "purpose_laundering")}
    assert set(found) == {"model.demo.relabelled", "exposure.demo.campaign"}
    assert found["model.demo.relabelled"].evidence == {"purpose": "marketing", "agreements": {"ab": agreed}}
    assert found["exposure.demo.campaign"].message == "exposure campaign serves purpose 'marketing', which agreement ab (of agreed) does not allow"
    assert findings(report, "consent_violation") == []  # both departments consented to marketing: only the agreement forbids it


def test_a_new_meeting_point_below_does_not_escape_the_first_agreement(tmp_path: Path) -> None:
    builder = ManifestBuilder()
    a = builder.node("a", "seed", {"department": "a", **SEED}, {"zip": QI})
    b = builder.node("b", "seed", {"department": "b", **SEED}, {"age": QI})
    c = builder.node("c", "seed", {"department": "c", **SEED}, {"sex": QI})
    agreed = builder.node("agreed", privacy={"agreement": "ab", "purpose": "research"}, parents=(a, b))
    # a, b and c meet again, under an agreement that allows marketing: ab still does not.
    builder.node("wider", privacy={"agreement": "abc", "purpose": "marketing"}, parents=(agreed, c))
    agreements = AGREEMENTS + [{"id": "abc", "departments": ["a", "b", "c"], "purposes": ["marketing"], "expires": "2099-12-31"}]
    report = builder.check(tmp_path, {"agreements": agreements})
    [finding] = findings(report, "purpose_laundering")
    assert (finding.node, finding.evidence) == ("model.demo.wider", {"purpose": "marketing", "agreements": {"ab": agreed}})
    assert findings(report, "cross_department_join") == []  # its own agreement covers a, b, c and marketing
