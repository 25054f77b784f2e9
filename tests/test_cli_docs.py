"""docs/cli.md's command table names every command, and every long option of every command is
documented on some docs/ page: a command or option added without documentation fails here."""

from __future__ import annotations

import re

import click
from dbt_harness import REPO_ROOT

from python_checks.cli import cli

DOCS = REPO_ROOT / "docs"


def commands() -> dict[str, click.Command]:
    context = click.Context(cli)
    found = {name: cli.get_command(context, name) for name in cli.list_commands(context)}
    return {name: command for name, command in found.items() if command is not None}


def test_every_command_is_in_the_command_table() -> None:
    table = (DOCS / "cli.md").read_text()
    listed = set(re.findall(r"`([a-z-]+)`", "\n".join(line.split(" | ")[0] for line in table.splitlines() if line.startswith("| `"))))
    assert set(commands()) <= listed and len(commands()) >= 9


def test_every_option_is_documented() -> None:
    pages = "\n".join(page.read_text() for page in sorted(DOCS.glob("*.md")))
    undocumented = [
        f"{name} {option}"
        for name, command in commands().items()
        for parameter in command.params
        for option in parameter.opts
        if option.startswith("--") and not re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", pages)
    ]
    assert undocumented == []
