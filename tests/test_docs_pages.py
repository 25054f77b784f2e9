"""The generated sections of docs/ are their source of truth rendered, not hand-kept copies."""

from __future__ import annotations

import re

import pytest
from dbt_harness import REPO_ROOT

from python_checks import docs_pages
from python_checks.check import rules


@pytest.mark.parametrize("section", docs_pages.SECTIONS, ids=lambda section: section.name)
def test_page_matches_a_fresh_rendering(section: docs_pages.Generated) -> None:
    assert section.path.is_relative_to(REPO_ROOT)
    assert section.current() == section.fresh(), "run: .venv/bin/python -m python_checks.docs_pages"


def test_rule_table_has_every_rule_with_its_severity_and_input() -> None:
    text = (REPO_ROOT / "docs" / "rules.md").read_text()
    rows = re.findall(r"^\| `([a-z_]+)` \| (error|warning|info)[^|]* \| ([^|]*) \|", text, flags=re.MULTILINE)
    assert {rule_id: severity for rule_id, severity, _ in rows} == {rule.id: rule.severity for rule in rules()}
    needs = {rule_id: needed.strip() for rule_id, _, needed in rows}
    assert needs["retention_expired"] == "`--database`"
    assert needs["privacy_test_failed"] == needs["unvalidated_input"] == "`--run-results`"
    assert needs["cross_department_join"] == ""
