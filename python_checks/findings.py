"""A finding: one rule's verdict on one node, in the shape every formatter writes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

#: Severities from least to most serious; `--fail-on` compares against this order.
SEVERITIES = ("info", "warning", "error")


def severity_rank(severity: str) -> int:
    """Position in SEVERITIES (higher = more serious)."""
    return SEVERITIES.index(severity)


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem on one node; `evidence` holds the facts (never data rows) a reviewer needs."""

    rule: str
    category: str
    severity: str
    node: str
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)
    hint: str = ""
    #: The `privacy.waivers` entry that silences this finding (None: it counts).
    waiver: dict[str, Any] | None = None

    def fingerprint(self) -> bytes:
        """Identity across two runs (pull-request mode): same rule, node and evidence = same finding."""
        return orjson.dumps([self.rule, self.node, self.evidence], option=orjson.OPT_SORT_KEYS)

    def to_dict(self) -> dict[str, Any]:
        """The finding as the JSON document lists it (a waived one with its `waiver`)."""
        entry = {
            "rule": self.rule,
            "category": self.category,
            "severity": self.severity,
            "node": self.node,
            "message": self.message,
            "evidence": self.evidence,
            "hint": self.hint,
        }
        if self.waiver is not None:
            entry["waiver"] = self.waiver
        return entry
