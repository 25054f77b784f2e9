"""Project values (names, descriptions, meta values, paths) made inert for each output.

A dbt project is input like any other: a model name or a meta value may hold markup, a mermaid
directive, a terminal escape sequence or a path with spaces. Every renderer passes each project
value through the function of its medium here (HTML: Jinja's autoescape in formatters/html.py).
"""

from __future__ import annotations

import re
from urllib.parse import quote

#: ANSI/VT escape sequences (CSI, OSC, and two-character ESC sequences), then any C0/C1 control
#: character and the Unicode bidirectional overrides that reorder what a terminal shows.
_TERMINAL_UNSAFE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]|[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]"
)
_MARKDOWN_SPECIAL = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&quot;",
        "`": "&#96;",
        "|": "\\|",
        "\\": "\\\\",
        "[": "\\[",
        "]": "\\]",
    }
)
#: Inside a quoted mermaid label mermaid decodes `#name;` entities and renders HTML.
_MERMAID_SPECIAL = str.maketrans({"#": "#35;", '"': "#quot;", "<": "#lt;", ">": "#gt;", "&": "#amp;", "`": "#96;", "|": "#124;"})


def terminal(value: object) -> str:
    """Text for a terminal: escape sequences and control characters removed (a newline becomes a space)."""
    text = str(value)
    # Every character _TERMINAL_UNSAFE removes is unprintable (Unicode Cc or Cf): printable text,
    # nearly every value, needs no regex pass.
    if text.isprintable():
        return text
    return _TERMINAL_UNSAFE.sub(lambda match: " " if match.group() in "\n\r\t" else "", text)


def markdown(value: object) -> str:
    """Text for markdown (tables included): no HTML, links, images, code spans or line breaks.

    Emphasis characters (`*`, `_`) stay: they cannot inject anything, and dbt names are full of `_`.
    """
    return terminal(value).translate(_MARKDOWN_SPECIAL)


def markdown_code(value: object) -> str:
    """A markdown code span (HTML inside is shown, not run), fenced longer than any backtick run in the value.

    Not for table cells: GFM splits a cell at `|` even inside a code span.
    """
    text = terminal(value)
    fence = "`" * (1 + max((len(run) for run in re.findall(r"`+", text)), default=0))
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def mermaid(value: object) -> str:
    """Text for a quoted mermaid label."""
    return terminal(value).translate(_MERMAID_SPECIAL)


def uri_path(path: str) -> str:
    """A relative file path as a URI reference (SARIF artifactLocation.uri): percent-encoded, `/` kept."""
    return quote(path.replace("\\", "/"), safe="/")
