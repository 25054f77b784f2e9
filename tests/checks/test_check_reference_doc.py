"""docs/rules.md lists every rule with its real default severity (the doc cannot drift)."""

from __future__ import annotations

import re

from dbt_harness import REPO_ROOT

from python_checks.check import rules


def test_every_rule_is_documented_with_its_severity() -> None:
    text = (REPO_ROOT / "docs" / "rules.md").read_text()
    documented = dict(re.findall(r"^\| `([a-z_]+)` \| (error|warning|info) \|", text, flags=re.MULTILINE))
    assert documented == {rule.id: rule.severity for rule in rules()}
