"""missing_privacy_test and unvalidated_input on hand-made manifests."""

from __future__ import annotations

import json
from pathlib import Path

from manifest_builder import ManifestBuilder, findings

QI = {"class": "quasi_identifier"}


def test_model_with_quasi_identifiers_needs_a_k_anonymity_test(tmp_path: Path) -> None:
    builder = ManifestBuilder()
    seed = builder.node("raw", "seed", {"department": "a", "consent": ["x"], "retention": {"days": 1}}, {"zip": QI})
    builder.node("tested", parents=(seed,))
    builder.node("other_test_only", parents=(seed,))
    builder.node("untested", parents=(seed,))
    builder.node("aggregate", parents=(seed,))
    builder.test("k_anonymity", "model.demo.tested")
    builder.test("min_cell_size", "model.demo.aggregate")
    builder.test("l_diversity", "model.demo.other_test_only")
    builder.test("k_anonymity", "model.demo.untested", namespace="someone_else")
    report = builder.check(tmp_path)
    found = findings(report, "missing_privacy_test")
    assert {f.node for f in found} == {"model.demo.other_test_only", "model.demo.untested"}
    assert {f.severity for f in found} == {"warning"}
    assert report.exit_code("error") == 0 and report.exit_code("warning") == 1


PSEUDONYM = {"class": "direct_identifier", "protection": "pseudonymized"}


def test_identified_model_is_left_to_the_identifier_rules(tmp_path: Path) -> None:
    builder = ManifestBuilder()
    seed = builder.node("raw", "seed", {"department": "a", "consent": ["x"], "retention": {"days": 1}}, {"zip": QI})
    builder.node("identified", columns={"email": {"class": "direct_identifier"}}, parents=(seed,))
    builder.node("deidentified", columns={"email": {"class": "none"}}, parents=(seed,))
    report = builder.check(tmp_path)
    assert {f.node for f in findings(report, "missing_privacy_test")} == {"model.demo.deidentified"}
    assert "model.demo.identified" in {f.node for f in findings(report, "unprotected_identifier")}


def test_pseudonymized_staging_is_not_asked_but_its_releases_are(tmp_path: Path) -> None:
    """Issue 7.10: a model keyed on pseudonyms only that no exposure reads and where no departments
    meet is a staging step; the same model read by an exposure, or combining departments, is a release."""
    builder = ManifestBuilder()
    seed_a = builder.node("raw_a", "seed", {"department": "a", "consent": ["x"], "retention": {"days": 1}}, {"zip": QI, "key": PSEUDONYM})
    seed_b = builder.node("raw_b", "seed", {"department": "b", "consent": ["x"], "retention": {"days": 1}}, {"age": QI, "key": PSEUDONYM})
    builder.node("staging", parents=(seed_a,))
    exposed = builder.node("exposed", parents=(seed_a,))
    builder.exposure("dashboard", (exposed,), {"purpose": "x"})
    builder.node("combined", privacy={"purpose": "x"}, parents=(seed_a, seed_b))
    report = builder.check(tmp_path)
    assert {f.node for f in findings(report, "missing_privacy_test")} == {"model.demo.exposed", "model.demo.combined"}


def run_results(directory: Path, statuses: dict[str, str]) -> Path:
    path = directory / "run_results.json"
    path.write_text(
        json.dumps(
            {
                "metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/run-results/v6.json"},
                "results": [{"unique_id": unique_id, "status": status} for unique_id, status in statuses.items()],
            }
        )
    )
    return path


def test_inputs_of_a_cross_department_model_must_have_passing_privacy_tests(tmp_path: Path) -> None:
    builder = ManifestBuilder()
    passing = builder.node("passing", "seed", {"department": "a"}, {"zip": QI})
    failing = builder.node("failing", "seed", {"department": "b"}, {"age": QI})
    never = builder.node("never", "seed", {"department": "c"}, {"sex": QI})
    untested = builder.node("untested", "seed", {"department": "d"}, {"job": QI})
    builder.node("combined", parents=(passing, failing, never, untested))
    statuses = {
        builder.test("k_anonymity", passing): "pass",
        builder.test("k_anonymity", failing): "fail",
    }
    builder.test("no_direct_identifiers", never)
    report = builder.check(tmp_path, run_results=run_results(tmp_path, statuses))
    found = {f.node.rsplit(".", 1)[-1]: f for f in findings(report, "unvalidated_input")}
    assert set(found) == {"failing", "never", "untested"}
    assert "did not pass (fail)" in found["failing"].message
    assert "did not pass (not run)" in found["never"].message
    assert "no privacy test" in found["untested"].message
    assert found["failing"].evidence["consumers"] == ["model.demo.combined"]
