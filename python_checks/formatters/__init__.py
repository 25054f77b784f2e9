"""Renderers of a CheckReport: `text` (rich console), `json` (the document), `sarif` (2.1.0).

Each is `render(report, color) -> str`, so the CLI can print it or write it atomically to a file.
"""

from __future__ import annotations

from collections.abc import Callable

from python_checks.check import CheckReport
from python_checks.formatters import json, sarif, text

Renderer = Callable[[CheckReport, bool], str]

FORMATTERS: dict[str, Renderer] = {"text": text.render, "json": json.render, "sarif": sarif.render}
