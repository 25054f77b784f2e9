"""Every relative link of README.md, ARCHITECTURE.md and docs/*.md leads to a file that exists and,
with a `#fragment`, to a heading of that file (GitHub's anchors), so moving a section cannot
silently break the pages that point at it."""

from __future__ import annotations

import re
from pathlib import Path

from dbt_harness import REPO_ROOT

PAGES = [REPO_ROOT / "README.md", REPO_ROOT / "ARCHITECTURE.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def _prose(page: Path) -> list[str]:
    """The lines outside fenced code blocks, inline code spans blanked."""
    lines, fenced = [], False
    for line in page.read_text().splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced:
            lines.append(re.sub(r"`[^`]*`", "``", line))
    return lines


def _anchors(page: Path) -> set[str]:
    """GitHub's heading ids: lower case, punctuation other than - and _ dropped, spaces as -,
    a repeated id numbered -1, -2..."""
    seen: dict[str, int] = {}
    anchors = set()
    fenced = False
    for line in page.read_text().splitlines():
        if line.startswith("```"):
            fenced = not fenced
        match = None if fenced else re.match(r"#{1,6} (.+)", line)
        if match:
            slug = re.sub(r"[^\w\- ]", "", match.group(1).strip().lower()).replace(" ", "-")
            count = seen.get(slug, 0)
            seen[slug] = count + 1
            anchors.add(slug if count == 0 else f"{slug}-{count}")
    return anchors


def _broken_links(page: Path) -> list[str]:
    broken = []
    for line in _prose(page):
        for target in LINK.findall(line):
            if re.match(r"[a-z]+:", target):
                continue  # http(s), mailto: not checked offline
            path, _, fragment = target.partition("#")
            file = (page.parent / path).resolve() if path else page
            if not file.exists():
                broken.append(f"{page.name}: {target} (no such file)")
            elif fragment and file.suffix == ".md" and fragment not in _anchors(file):
                broken.append(f"{page.name}: {target} (no such heading)")
    return broken


def test_every_relative_link_resolves() -> None:
    broken = [problem for page in PAGES for problem in _broken_links(page)]
    assert broken == []


def test_the_checker_sees_links_and_broken_ones(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text("# Other page\n\n## A `code` heading (with parens)\n")
    page = tmp_path / "page.md"
    page.write_text(
        "# Page\n\n[ok](other.md#a-code-heading-with-parens) [self](#page) [gone](missing.md)\n"
        "[bad](other.md#nope) `[in code](nowhere.md)`\n```\n[fenced](nowhere.md)\n```\n"
    )
    assert _broken_links(page) == ["page.md: missing.md (no such file)", "page.md: other.md#nope (no such heading)"]


def test_every_docs_page_is_linked_from_readme() -> None:
    readme = (REPO_ROOT / "README.md").read_text()
    unlinked = [page.name for page in PAGES[2:] if f"](docs/{page.name})" not in readme]
    assert unlinked == []
