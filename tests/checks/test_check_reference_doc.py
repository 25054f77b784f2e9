"""docs/rules.md's hand-written "What each rule flags" table covers exactly the registered rules
(the generated table above it is checked by tests/test_docs_pages.py)."""

from __future__ import annotations

import re

from dbt_harness import REPO_ROOT

from python_checks.check import rules


def test_every_rule_is_explained_and_no_other() -> None:
    text = (REPO_ROOT / "docs" / "rules.md").read_text()
    section = text[text.index("## What each rule flags") :]
    section = section[: section.index("\n## ", 1)]
    explained = re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.MULTILINE)
    assert sorted(explained) == sorted(rule.id for rule in rules())
