"""Every rule, one module per family; importing this package registers them all in REGISTRY."""

from python_checks.rules import access, consent, ethics, identifiers, joins, policy, retention, test_results, testing, unclassified, waivers
from python_checks.rules.base import REGISTRY, Context, Issue, Note, Rule

__all__ = ["REGISTRY", "Context", "Issue", "Note", "Rule", "access", "consent", "ethics", "identifiers", "joins", "policy", "retention", "test_results", "testing", "unclassified", "waivers"]
