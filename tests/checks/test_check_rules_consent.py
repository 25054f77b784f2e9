"""consent_violation and data_minimization on hand-made manifests."""

from __future__ import annotations

from pathlib import Path

from manifest_builder import ManifestBuilder, findings


def consented(purpose: str | None, consents: dict[str, list[str] | None], columns: dict | None = None) -> ManifestBuilder:
    """One seed per entry of `consents` (None = no consent declared), all feeding `report`."""
    builder = ManifestBuilder()
    parents = []
    for name, consent in consents.items():
        policy = {"department": name} | ({"consent": consent} if consent is not None else {})
        parents.append(builder.node(name, "seed", policy, columns or {"zip": {"class": "quasi_identifier"}}))
    builder.node("report", privacy={"purpose": purpose} if purpose else {}, parents=tuple(parents))
    return builder


def test_purpose_outside_the_intersection_of_consents_is_a_violation(tmp_path: Path) -> None:
    [finding] = findings(consented("marketing", {"a": ["marketing", "research"], "b": ["research"]}).check(tmp_path), "consent_violation")
    assert finding.evidence["consent"] == ["research"]
    assert "consent of b" in finding.message


def test_purpose_in_every_consent_is_fine(tmp_path: Path) -> None:
    assert findings(consented("research", {"a": ["marketing", "research"], "b": ["research"]}).check(tmp_path), "consent_violation") == []


def test_missing_consent_is_not_an_empty_consent(tmp_path: Path) -> None:
    report = consented("research", {"a": ["research"], "b": None}).check(tmp_path)
    assert findings(report, "consent_violation") == []
    assert report.analysis.policies["model.demo.report"].consent == frozenset({"research"})


def test_no_declared_consent_anywhere_is_not_a_violation(tmp_path: Path) -> None:
    assert findings(consented("research", {"a": None}).check(tmp_path), "consent_violation") == []


MINIMIZATION = {"purposes": {"reporting": {"allow": ["quasi_identifier", "none"]}}}


def test_class_the_purpose_does_not_allow_is_reported(tmp_path: Path) -> None:
    columns = {"zip": {"class": "quasi_identifier"}, "diagnosis": {"class": "sensitive"}, "key": {"class": "direct_identifier", "protection": "pseudonymized"}}
    [finding] = findings(consented("reporting", {"a": ["reporting"]}, columns).check(tmp_path, MINIMIZATION), "data_minimization")
    assert finding.evidence["columns"] == {"direct_identifier": ["key"], "sensitive": ["diagnosis"]}


def test_allowed_classes_and_unlisted_purposes_pass(tmp_path: Path) -> None:
    assert findings(consented("reporting", {"a": ["reporting"]}).check(tmp_path, MINIMIZATION), "data_minimization") == []
    columns = {"diagnosis": {"class": "sensitive"}}
    assert findings(consented("research", {"a": ["research"]}, columns).check(tmp_path / "b", MINIMIZATION), "data_minimization") == []
