"""Renderers of a CheckReport: `text` (rich console), `json` (the document), `sarif` (2.1.0).

Each is `render(report, color) -> str` in the module of its name, so the CLI can print it or
write it atomically to a file; a renderer is imported when used (text needs rich).
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # check imports every rule: the CLI imports it only when a check runs (--help stays light)
    from python_checks.check import CheckReport

Renderer = Callable[["CheckReport", bool], str]

FORMATTERS = ("json", "sarif", "text")


def renderer(name: str) -> Renderer:
    """The `render` function of format `name` (one of FORMATTERS)."""
    render: Renderer = import_module(f"python_checks.formatters.{name}").render
    return render
