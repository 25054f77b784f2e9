"""Every renderer makes project values inert: markdown, mermaid, terminal text, SARIF URIs, HTML.

One manifest carries hostile text in every place a project controls -- node and column names,
department, purpose, file paths, meta values: HTML, a markdown link, table pipes, mermaid syntax,
terminal escape sequences (screen clear, OSC 8 hyperlink) and a bidi override. The markdown is
parsed back with markdown-it-py (an independent CommonMark/GFM parser), the SARIF URIs are
decoded with urllib, and the terminal text is scanned for any escape sequence not of our colours.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from markdown_it import MarkdownIt
from manifest_builder import ManifestBuilder

from python_checks.check import run_check
from python_checks.docs_site import load_site
from python_checks.formatters import html, markdown, sarif, text

HOSTILE = 'e<script>alert(1)</script>"] --> n0 [x](javascript:alert(2)) |p| `c` # *b* _i_ \x1b[2J\x1b]8;;http://evil\x07l\x1b]8;;\x07\u202e'
SCRIPT_NAME = "<script>alert(1)</script>"
#: HOSTILE as a reader must see it: the escape sequences and the bidi override gone, the rest kept.
SHOWN = 'e<script>alert(1)</script>"] --> n0 [x](javascript:alert(2)) |p| `c` # *b* _i_ l'


@pytest.fixture
def written(tmp_path: Path) -> dict[str, Any]:
    builder = ManifestBuilder()
    raw = builder.node(
        f"raw {HOSTILE}",
        "seed",
        {"department": f"hr{HOSTILE}", "consent": ["analytics"], "retention": {"days": 30}, "purpose": HOSTILE},
        {f"<b>email|{HOSTILE}": {"class": "direct_identifier"}, "zip": {"class": "quasi_identifier", "protection": HOSTILE}},
    )
    builder.node(f"mart {HOSTILE}", parents=(raw,), materialized="table")
    manifest = builder.write(tmp_path)
    report = run_check(manifest)
    return {"report": report, "site": load_site(manifest)}


def test_markdown_parses_to_no_markup_and_intact_tables(written: dict[str, Any]) -> None:
    document = markdown.render(written["site"])
    assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f\u202e]", document)
    parser = MarkdownIt("commonmark", {"html": True}).enable("table")
    rendered = parser.render(document)
    tags = set(re.findall(r"<([a-z0-9]+)[\s>/]", rendered))
    # Only what markdown itself makes; the project's <script>, <b> and link never become tags.
    # (Emphasis from `*b*` / `_i_` is markdown's own and harmless; dbt names are full of `_`.)
    assert tags <= {"h1", "h2", "h3", "p", "ul", "li", "strong", "em", "code", "pre", "table", "thead", "tbody", "tr", "th", "td", "blockquote"}
    assert "href" not in rendered and "<img" not in rendered
    tokens = parser.parse(document)
    rows: list[int] = []
    widths: list[list[int]] = []
    for token in tokens:
        if token.type == "table_open":
            widths.append([])
        elif token.type == "tr_open":
            rows.append(0)
        elif token.type in ("th_open", "td_open"):
            rows[-1] += 1
        elif token.type == "tr_close":
            widths[-1].append(rows.pop())
    assert len(widths) >= 4  # per department, per rule, findings, columns of the cards
    assert all(len(set(table)) == 1 for table in widths), widths
    # The hostile name is shown as text: its visible characters survive the escaping.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered


MERMAID_LINE = re.compile(
    r'flowchart LR|  n\d+\["[^"\n]*<br/><small>[^"\n]*</small>"\]|  n\d+ (?:-->|-\.->|==>) n\d+|  class [n\d,]+ (?:dept_\d+|combined)'
    r"|  classDef (?:dept_\d+|combined) [#\w:,-]+|  linkStyle \d+ [#\w:,-]+"
)


def test_mermaid_block_holds_only_its_own_syntax(written: dict[str, Any]) -> None:
    document = markdown.render(written["site"])
    block = re.search(r"```mermaid\n(.*?)\n```", document, re.S).group(1)
    lines = block.split("\n")
    assert [line for line in lines if not MERMAID_LINE.fullmatch(line)] == []
    entities = {"quot": '"', "lt": "<", "gt": ">", "amp": "&", "35": "#", "96": "`", "124": "|"}
    labels = sorted(re.sub(r"#(\w+);", lambda m: entities[m.group(1)], label) for label in re.findall(r'\["(.*?)<br/>', block))
    assert labels == [f"mart {SHOWN}", f"raw {SHOWN}"]


def test_terminal_text_has_no_escape_sequences_but_our_colours(written: dict[str, Any]) -> None:
    report = written["report"]
    plain = text.render(report, color=False)
    assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", plain)
    assert "alert(1)" in plain  # the name is still shown
    coloured = text.render(report, color=True)
    assert set(re.findall(r"\x1b[^m]*m?", coloured)) <= {m for m in re.findall(r"\x1b\[[0-9;]*m", coloured)}
    assert "\x1b]" not in coloured and "\x1b[2J" not in coloured


def test_sarif_uris_are_percent_encoded_and_decode_to_the_path(written: dict[str, Any]) -> None:
    log = json.loads(sarif.render(written["report"]))
    nodes = written["report"].analysis.manifest.nodes
    by_id = {n.unique_id: n for n in nodes.values()}
    results = log["runs"][0]["results"]
    assert results
    for result in results:
        [location] = result["locations"]
        uri = location["physicalLocation"]["artifactLocation"]["uri"]
        node = by_id[location["logicalLocations"][0]["fullyQualifiedName"]]
        assert re.fullmatch(r"[A-Za-z0-9/%._~!$&'()*+,;=:@-]+", uri), uri
        assert unquote(uri) == node.original_file_path


def test_html_site_escapes_project_values(written: dict[str, Any]) -> None:
    page = html.render_site(written["site"])["index.html"]
    assert SCRIPT_NAME not in page and "<b>email" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "\\u003cscript\\u003e" in page  # the embedded JSON data cannot close its <script>


def test_printable_text_holds_nothing_the_terminal_pattern_removes() -> None:
    """escaping.terminal returns printable text as it is: that is only safe if every character the
    pattern removes (alone, or as the first of a sequence) is unprintable. Checked on every code point."""
    from python_checks.formatters.escaping import _TERMINAL_UNSAFE, terminal

    removed = [character for character in map(chr, range(0x110000)) if _TERMINAL_UNSAFE.match(character + "[m")]
    assert len(removed) == 32 + 33 + 5 + 4  # C0, DEL + C1, the bidi embeddings/overrides and isolates
    assert not [character for character in removed if character.isprintable()]
    assert terminal("plain model_name é") == "plain model_name é" and terminal("a\x1b[2Jb\nc\u202e") == "ab c"
