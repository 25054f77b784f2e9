"""Rules declare their own parameters (keyword-only, typed, with defaults, on the check function);
`vars.privacy_guard.rules.<id>` sets them, and anything else there is bad input (exit 2)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import pytest
import yaml

from manifest_builder import findings
from python_checks.rules import REGISTRY, Context, Issue
from python_checks.rules.base import AtLeast, declared_parameters
from python_checks.settings import RuleParameter
from test_check_rules_joins import two_departments


def privacy_guard_check(manifest: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "python_checks", "check", "--manifest", str(manifest)], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_parameters_and_defaults_come_from_the_check_functions_signature() -> None:
    declared = {rule_id: rule.parameters for rule_id, rule in REGISTRY.items() if rule.parameters}
    assert declared == {
        "quasi_identifier_linkage": (RuleParameter("threshold", int, 3, 1),),
        "join_key_linkage": (RuleParameter("threshold", int, 2, 1),),
    }


def test_without_configuration_a_rule_runs_with_its_signature_default(tmp_path: Path) -> None:
    # two_departments() puts 3 QIs (zip, sex from hr; age from clinic) in the combined model: the default 3 reports it.
    [finding] = findings(two_departments().check(tmp_path), "quasi_identifier_linkage")
    assert finding.evidence["threshold"] == 3


@pytest.mark.parametrize(("threshold", "reported"), [(2, True), (3, True), (4, False)])
def test_the_configured_value_reaches_the_rule(threshold: int, reported: bool, tmp_path: Path) -> None:
    report = two_departments().check(tmp_path, {"rules": {"quasi_identifier_linkage": {"threshold": threshold}}})
    assert [finding.evidence["threshold"] for finding in findings(report, "quasi_identifier_linkage")] == ([threshold] if reported else [])


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        ({"quasi_identifier_linkage": {"treshold": 4}}, "vars.privacy_guard.rules.quasi_identifier_linkage.treshold: unknown parameter (quasi_identifier_linkage takes threshold, besides enabled and severity)"),
        ({"missing_privacy_test": {"threshold": 2}}, "vars.privacy_guard.rules.missing_privacy_test.threshold: unknown parameter (missing_privacy_test takes no parameters, besides enabled and severity)"),
        ({"quasi_identifier_linkage": {"threshold": "four"}}, "vars.privacy_guard.rules.quasi_identifier_linkage.threshold: expected an integer, got 'four'"),
        ({"quasi_identifier_linkage": {"threshold": 3.5}}, "vars.privacy_guard.rules.quasi_identifier_linkage.threshold: expected an integer, got 3.5"),
        ({"join_key_linkage": {"threshold": True}}, "vars.privacy_guard.rules.join_key_linkage.threshold: expected an integer, got True"),
        ({"join_key_linkage": {"threshold": 0}}, "vars.privacy_guard.rules.join_key_linkage.threshold: expected at least 1, got 0"),
        ({"join_key_linkage": {"enabled": "no"}}, "vars.privacy_guard.rules.join_key_linkage.enabled: 'no' is not of type 'boolean'"),
    ],
)
def test_unknown_parameter_or_wrong_type_is_one_line_exit_2(rules: dict[str, object], expected: str, tmp_path: Path) -> None:
    manifest = two_departments().write(tmp_path)
    (tmp_path / "dbt_project.yml").write_text(yaml.safe_dump({"name": "demo", "vars": {"privacy_guard": {"rules": rules}}}))
    result = privacy_guard_check(manifest, tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stderr == f"privacy-guard: error: settings {tmp_path / 'dbt_project.yml'}: {expected}\n"
    assert result.stdout == ""


def test_a_rule_that_declares_a_parameter_users_cannot_set_is_refused_at_registration() -> None:
    def positional(context: Context, threshold: int = 3) -> Iterator[Issue]:
        yield from ()

    def untyped(context: Context, *, threshold=3) -> Iterator[Issue]:  # the mistake under test: no annotation
        yield from ()

    def no_default(context: Context, *, threshold: int) -> Iterator[Issue]:
        yield from ()

    for check in (positional, untyped, no_default):
        with pytest.raises(TypeError, match=f"rule {check.__name__}: parameter threshold must be keyword-only"):
            declared_parameters(check)

    def bounded(context: Context, *, share: Annotated[float, AtLeast(0.5)] = 0.75, label: str = "x") -> Iterator[Issue]:
        yield from ()

    assert declared_parameters(bounded) == (RuleParameter("share", float, 0.75, 0.5), RuleParameter("label", str, "x"))
    assert RuleParameter("share", float, 0.75, 0.5).parse(1) == 1.0 and isinstance(RuleParameter("share", float, 0.75, 0.5).parse(1), float)


def test_the_join_rules_are_the_rules_that_declare_it_and_flag_the_edges_into_their_node(tmp_path: Path) -> None:
    assert {rule_id for rule_id, rule in REGISTRY.items() if rule.join_rule} == {
        "cross_department_join", "quasi_identifier_linkage", "direct_identifier_join", "join_key_linkage",
    }
    report = two_departments().check(tmp_path)
    flagged = {(edge["source"], edge["target"]) for edge in report.analysis.edges() if edge["flagged"]}
    assert flagged == {("seed.demo.hr", "model.demo.combined"), ("seed.demo.clinic", "model.demo.combined")}
