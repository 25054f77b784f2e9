"""The JSON document (schema: python_checks/schema/check_report.schema.json)."""

from __future__ import annotations

from typing import Any

import orjson

from python_checks.check import CheckReport


def dumps(document: Any) -> str:
    """Indented JSON with a final newline; one encoder for every JSON the CLI writes."""
    return orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE).decode()


def render(report: CheckReport, color: bool = False) -> str:
    """The check as JSON (color is meaningless here)."""
    return dumps(report.to_document())
