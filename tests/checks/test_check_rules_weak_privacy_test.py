"""weak_privacy_test, and the clearance of quasi_identifier_linkage by a k_anonymity test that proves what it claims (issue 7.5, 9.5)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from manifest_builder import ManifestBuilder, findings

from python_checks.check import NO_COMPILED_SQL

QI = {"class": "quasi_identifier"}
SEED = {"consent": ["research"], "retention": {"days": 365}, "k": 4}
AGREEMENT = [{"id": "ab", "departments": ["a", "b"], "purposes": ["research"], "expires": "2099-12-31"}]


def combined(arguments: dict[str, Any] | None = None, config: dict[str, Any] | None = None, k: int | None = None) -> tuple[ManifestBuilder, str, str]:
    """Departments a (zip, sex) and b (age) meet in `combined` (3 QIs), which has one k_anonymity test."""
    builder = ManifestBuilder()
    a = builder.node("a", "seed", {"department": "a", **SEED}, {"zip": QI, "sex": QI})
    b = builder.node("b", "seed", {"department": "b", **SEED}, {"age": QI})
    privacy = {"purpose": "research", "agreement": "ab"} | ({"k": k} if k is not None else {})
    model = builder.node("combined", privacy=privacy, parents=(a, b))
    test = builder.test("k_anonymity", model, arguments=arguments, config=config)
    return builder, model, test


#: (arguments, config, model k) -> the weakness the finding must name; every one leaves the linkage standing.
WEAK = [
    ({"k": 1}, None, None, "k: 1 holds for every table"),
    ({"k": 3}, None, None, "k 3 is below the effective k 4"),
    ({"quasi_identifiers": ["zip", "sex"]}, None, None, "quasi_identifiers leave out age"),
    (None, {"where": "1=0"}, None, "where: '1=0' filters out every row"),
    (None, {"where": "false"}, None, "where: 'false' filters out every row"),
    (None, {"where": "1 = 2 and zip is not null"}, None, "filters out every row"),
    (None, {"error_if": ">1000"}, None, "error_if: '>1000' lets failing rows through"),
    (None, {"error_if": "<0"}, None, "error_if: '<0' lets failing rows through"),
    (None, {"severity": "WARN"}, None, "severity: warn on a combined or exposed model"),
    (None, {"limit": 0}, None, "limit: 0 returns no failing row"),
    (None, {"fail_calc": "0"}, None, "fail_calc: '0' replaces the count"),
    # An explicit k below the node's own declared k.
    ({"k": 5}, None, 6, "k 5 is below the effective k 6"),
]


@pytest.mark.parametrize(("arguments", "config", "k", "weakness"), WEAK)
def test_a_test_that_cannot_fail_is_reported_and_clears_nothing(
    tmp_path: Path, arguments: dict[str, Any] | None, config: dict[str, Any] | None, k: int | None, weakness: str
) -> None:
    builder, model, test = combined(arguments, config, k)
    report = builder.check(tmp_path, {"agreements": AGREEMENT})
    [weak] = findings(report, "weak_privacy_test")
    assert (weak.node, weak.evidence["test"], weak.severity) == (model, test, "error")
    assert any(weakness in reason for reason in weak.evidence["weaknesses"]), weak.evidence
    [linkage] = findings(report, "quasi_identifier_linkage")
    assert linkage.node == model
    assert linkage.evidence["k_anonymity_tests_not_counted"] == {test: weak.evidence["weaknesses"]}
    assert "its k_anonymity test does not count" in linkage.message


def test_a_test_over_every_qi_at_the_effective_k_clears_the_linkage(tmp_path: Path) -> None:
    builder, _, _ = combined({"k": 4, "quasi_identifiers": ["age", "sex", "zip"]}, {"error_if": "> 0"})
    report = builder.check(tmp_path, {"agreements": AGREEMENT})
    assert findings(report, "quasi_identifier_linkage") == [] and findings(report, "weak_privacy_test") == []


def test_no_argument_test_uses_the_effective_k_and_qis(tmp_path: Path) -> None:
    """As the Jinja helpers: no k argument means the node's effective k (here the parents' 4, above
    the model's own 3), no quasi_identifiers argument the QIs inherited through the lineage."""
    builder, _, _ = combined(k=3)
    report = builder.check(tmp_path, {"agreements": AGREEMENT})
    assert findings(report, "quasi_identifier_linkage") == [] and findings(report, "weak_privacy_test") == []


def test_no_argument_test_uses_the_effective_qis_and_default_k_when_nothing_is_declared(tmp_path: Path) -> None:
    builder, _, _ = combined()
    for seed in ("seed.demo.a", "seed.demo.b"):
        builder.nodes[seed]["config"]["meta"]["privacy"].pop("k")
    report = builder.check(tmp_path, {"agreements": AGREEMENT})
    assert findings(report, "quasi_identifier_linkage") == [] and findings(report, "weak_privacy_test") == []


@pytest.mark.parametrize("where", ["1=1", "true", "1 = 1 or zip is null"])
def test_a_where_that_keeps_every_row_still_clears(tmp_path: Path, where: str) -> None:
    builder, _, _ = combined({"k": 4}, {"where": where})
    report = builder.check(tmp_path, {"agreements": AGREEMENT})
    assert findings(report, "quasi_identifier_linkage") == [] and findings(report, "weak_privacy_test") == []


@pytest.mark.parametrize("where", ["null", "1 <> 1", "'a' = 'b'"])
def test_more_conditions_that_filter_every_row(tmp_path: Path, where: str) -> None:
    builder, _, _ = combined({"k": 4}, {"where": where})
    [weak] = findings(builder.check(tmp_path, {"agreements": AGREEMENT}), "weak_privacy_test")
    assert weak.evidence["weaknesses"] == [f"where: {where!r} filters out every row"]


def test_a_partial_where_does_not_clear_but_is_not_weak(tmp_path: Path) -> None:
    builder, model, test = combined({"k": 4}, {"where": "zip like '1%'"})
    report = builder.check(tmp_path, {"agreements": AGREEMENT})
    assert findings(report, "weak_privacy_test") == []
    [linkage] = findings(report, "quasi_identifier_linkage")
    assert linkage.evidence["k_anonymity_tests_not_counted"] == {test: ["where: \"zip like '1%'\" tests only part of the rows"]}


def test_severity_warn_on_a_staging_model_is_a_monitoring_choice(tmp_path: Path) -> None:
    builder = ManifestBuilder()
    seed = builder.node("a", "seed", {"department": "a", **SEED}, {"zip": QI})
    builder.test("k_anonymity", seed, config={"severity": "WARN"})
    assert findings(builder.check(tmp_path), "weak_privacy_test") == []


def run_results(directory: Path, statuses: dict[str, str], empty: bool = False) -> Path:
    path = directory / "run_results.json"
    document = {
        "metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/run-results/v6.json"},
        "args": {"which": "build", "empty": empty},
        "results": [{"unique_id": unique_id, "status": status} for unique_id, status in statuses.items()],
    }
    path.write_text(json.dumps(document))
    return path


@pytest.mark.parametrize(("status", "empty", "cleared"), [("pass", False, True), ("fail", False, False), ("pass", True, False)])
def test_with_run_results_only_a_real_pass_clears(tmp_path: Path, status: str, empty: bool, cleared: bool) -> None:
    builder, _, test = combined({"k": 4})
    report = builder.check(tmp_path, {"agreements": AGREEMENT}, run_results=run_results(tmp_path, {test: status}, empty))
    linkage = findings(report, "quasi_identifier_linkage")
    assert (linkage == []) is cleared
    if not cleared:
        assert linkage[0].evidence["k_anonymity_tests_not_counted"] == {test: [f"did not pass ({'empty run' if empty else status})"]}
    notes = [(note.node, note.message) for note in report.analysis.notes]
    # (and the whole-manifest note of check.py: this hand-made manifest has no compiled SQL)
    assert notes == ([(None, "run_results come from `dbt build --empty`: tests ran on no rows, so none counts as passed")] if empty else []) + [(None, NO_COMPILED_SQL)]


def test_a_strong_test_clears_next_to_a_weak_one_which_is_still_reported(tmp_path: Path) -> None:
    builder, model, _ = combined()
    weak = builder.test("k_anonymity", model, arguments={"k": 1}, suffix="_k1")
    report = builder.check(tmp_path, {"agreements": AGREEMENT})
    assert findings(report, "quasi_identifier_linkage") == []
    assert [(f.node, f.evidence["test"]) for f in findings(report, "weak_privacy_test")] == [(model, weak)]


SENSITIVE = {"class": "sensitive"}


def seed_test(name: str, arguments: dict[str, Any] | None, privacy: dict[str, Any] | None) -> tuple[ManifestBuilder, str, str]:
    """One seed (k 4; QIs zip, sex; sensitive diagnosis, salary) with one privacy_guard test."""
    builder = ManifestBuilder()
    columns = {"zip": QI, "sex": QI, "diagnosis": SENSITIVE, "salary": SENSITIVE}
    seed = builder.node("a", "seed", {"department": "a", **SEED, **(privacy or {})}, columns)
    return builder, seed, builder.test(name, seed, arguments=arguments)


#: (test, arguments, the seed's own l/t, vars) -> the one weakness reported: what an engineer would
#: write to silence a failing l or t test without touching the policy.
DIVERSITY_WEAK = [
    ("l_diversity", {"l": 1}, None, None, "l: 1 holds for every class that holds anyone"),
    ("l_diversity", {"l": 0.5, "variant": "entropy"}, None, None, "l: 0.5 holds for every class that holds anyone"),
    ("l_diversity", None, {"l": 1}, None, "l: 1 holds for every class that holds anyone"),
    ("l_diversity", {"l": 2}, {"l": 3}, None, "l 2 is below the node's l 3"),
    ("l_diversity", {"l": 2.5}, None, {"default_l": 3}, "l 2.5 is below the project's default_l 3"),
    ("l_diversity", {"l": 2, "variant": "recursive", "c": 3}, {"l": 3}, None, "l 2 is below the node's l 3"),
    ("l_diversity", {"quasi_identifiers": ["zip"]}, None, None, "quasi_identifiers leave out sex"),
    ("l_diversity", {"sensitive_column": "diagnosis"}, None, None, "sensitive_column leaves out salary"),
    ("t_closeness", {"t": 1}, None, None, "t: 1 holds for every table (a distance is at most 1)"),
    ("t_closeness", {"t": 7}, None, None, "t: 7 holds for every table (a distance is at most 1)"),
    ("t_closeness", None, {"t": 1}, None, "t: 1 holds for every table (a distance is at most 1)"),
    ("t_closeness", {"t": 0.5}, {"t": 0.3}, None, "t 0.5 is above the node's t 0.3"),
    ("t_closeness", {"t": 0.25}, None, None, "t 0.25 is above the project's default_t 0.2"),
    ("t_closeness", {"quasi_identifiers": "sex"}, None, None, "quasi_identifiers leave out zip"),
    ("t_closeness", {"sensitive_column": ["salary"], "distance": "ordered"}, None, None, "sensitive_column leaves out diagnosis"),
]


@pytest.mark.parametrize(("name", "arguments", "privacy", "variables", "weakness"), DIVERSITY_WEAK)
def test_l_and_t_tests_weaker_than_the_policy_are_reported(
    tmp_path: Path, name: str, arguments: dict[str, Any] | None, privacy: dict[str, Any] | None, variables: dict[str, Any] | None, weakness: str
) -> None:
    builder, seed, test = seed_test(name, arguments, privacy)
    [weak] = findings(builder.check(tmp_path, variables), "weak_privacy_test")
    assert (weak.node, weak.evidence["test"], weak.evidence["test_name"]) == (seed, test, name)
    assert weak.evidence["weaknesses"] == [weakness]


#: As strict as the policy or stricter, every QI and sensitive column (names in any case): nothing to report.
DIVERSITY_STRONG = [
    ("l_diversity", None, None, None),
    ("l_diversity", {"l": 3}, {"l": 3}, None),
    ("l_diversity", {"l": 4, "variant": "entropy", "quasi_identifiers": ["SEX", "zip"]}, {"l": 3}, None),
    ("l_diversity", {"l": 2, "variant": "recursive", "c": 3, "sensitive_column": ["salary", "diagnosis"]}, None, None),
    ("l_diversity", {"l": 1.5}, None, {"default_l": 1.5}),
    ("t_closeness", None, None, None),
    ("t_closeness", None, {"t": 0.9}, None),
    ("t_closeness", {"t": 0.1, "distance": "equal"}, {"t": 0.3}, None),
    ("t_closeness", {"t": 0.5}, None, {"default_t": 0.5}),
    # A threshold the check cannot evaluate keeps the test from clearing; it is no weakness (and no crash).
    ("t_closeness", {"t": "{{ var('t') }}"}, None, None),
    ("l_diversity", {"l": "{{ var('l') }}"}, {"l": 3}, None),
]


@pytest.mark.parametrize(("name", "arguments", "privacy", "variables"), DIVERSITY_STRONG)
def test_l_and_t_tests_at_the_policy_or_stricter_are_not_reported(
    tmp_path: Path, name: str, arguments: dict[str, Any] | None, privacy: dict[str, Any] | None, variables: dict[str, Any] | None
) -> None:
    builder, _, _ = seed_test(name, arguments, privacy)
    assert findings(builder.check(tmp_path, variables), "weak_privacy_test") == []


#: reidentification_risk (seed k 4: max_risk defaults to 1/4) -> the weaknesses reported, in order.
RISK_WEAK = [
    ({"max_risk": 0.5}, None, ["max_risk 0.5 is above 1/k = 0.25"]),
    ({"max_risk": 0.3}, {"risk": {"max_risk": 0.2}}, ["max_risk 0.3 is above the node's max_risk 0.2"]),
    ({"max_risk": 1}, None, ["max_risk 1 is above 1/k = 0.25", "max_risk: 1 holds for every class that holds anyone"]),
    (None, {"risk": {"max_risk": 1}}, ["max_risk: 1 holds for every class that holds anyone"]),
    ({"max_records_at_risk": 0.1}, None, ["max_records_at_risk 0.1 is above the default 0"]),
    (None, {"risk": {"max_records_at_risk": 1}}, ["max_records_at_risk: 1 lets every record be at risk"]),
    ({"max_average_risk": 0.5}, {"risk": {"max_average_risk": 0.2}}, ["max_average_risk 0.5 is above the node's max_average_risk 0.2"]),
    ({"quasi_identifiers": ["zip"]}, None, ["quasi_identifiers leave out sex"]),
]


@pytest.mark.parametrize(("arguments", "privacy", "weaknesses"), RISK_WEAK)
def test_risk_tests_weaker_than_the_policy_are_reported(
    tmp_path: Path, arguments: dict[str, Any] | None, privacy: dict[str, Any] | None, weaknesses: list[str]
) -> None:
    builder, seed, test = seed_test("reidentification_risk", arguments, privacy)
    [weak] = findings(builder.check(tmp_path), "weak_privacy_test")
    assert (weak.node, weak.evidence["test"], weak.evidence["weaknesses"]) == (seed, test, weaknesses)


#: At the policy or stricter; a silenced record criterion next to an average that is still checked.
RISK_STRONG = [
    (None, None),
    ({"max_risk": 0.2, "quasi_identifiers": ["sex", "zip"]}, None),
    ({"max_average_risk": 0.1}, None),
    ({"max_records_at_risk": 1, "max_average_risk": 0.5}, {"risk": {"max_records_at_risk": 1}}),
    ({"max_risk": 0.5}, {"k": 2}),
    ({"max_risk": "{{ var('max_risk') }}"}, None),
]


@pytest.mark.parametrize(("arguments", "privacy"), RISK_STRONG)
def test_risk_tests_at_the_policy_or_stricter_are_not_reported(tmp_path: Path, arguments: dict[str, Any] | None, privacy: dict[str, Any] | None) -> None:
    builder, _, _ = seed_test("reidentification_risk", arguments, privacy)
    assert findings(builder.check(tmp_path), "weak_privacy_test") == []
