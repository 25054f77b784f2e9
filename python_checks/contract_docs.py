"""Render the meta contract as Markdown tables, from the JSON Schema.

The tables of docs/meta-contract.md are this rendering (see docs_pages), so the schema stays the
one definition and the documentation cannot drift.
"""

from __future__ import annotations

import json
from typing import Any

from python_checks import contract

NESTED = ("retention", "risk")  # node keys whose value is a block of its own, tabled below the node's


def _type_of(prop: dict[str, Any]) -> str:
    defs = contract.schema()["$defs"]
    if "$ref" in prop:
        name = prop["$ref"].rsplit("/", 1)[-1]
        target = defs[name]
        if "enum" in target:
            return " \\| ".join(f"`{value}`" for value in target["enum"])
        if name in NESTED:
            return "`{" + ", ".join(target["properties"]) + "}`"
        return _type_of(target)
    if "enum" in prop:
        return " \\| ".join(f"`{value}`" for value in prop["enum"])
    kind = prop.get("type", "object")
    if kind == "array":
        return f"list of {_type_of(prop['items']).strip('`')}"
    return str(kind)


def _description(prop: dict[str, Any]) -> str:
    defs = contract.schema()["$defs"]
    text = prop.get("description")
    if not text and "$ref" in prop:
        text = defs[prop["$ref"].rsplit("/", 1)[-1]].get("description", "")
    parts = [text or ""]
    if "default" in prop:
        parts.append(f"Default `{json.dumps(prop['default'])}`.")
    if "minimum" in prop:
        parts.append(f"Minimum {prop['minimum']}.")
    return " ".join(part for part in parts if part).replace("|", "\\|")


def _table(definition: dict[str, Any], prefix: str = "") -> list[str]:
    rows = ["| key | type | meaning |", "|---|---|---|"]
    for key, prop in definition["properties"].items():
        rows.append(f"| `{prefix}{key}` | {_type_of(prop)} | {_description(prop)} |")
    return rows


def render() -> str:
    """The contract's tables: node, its nested blocks, column, project, agreement."""
    defs = contract.schema()["$defs"]
    lines = ["Model, seed, source table and snapshot: `config: {meta: {privacy: {...}}}`", ""]
    lines += _table(contract.definition("node"))
    for name in NESTED:
        lines += ["", f"`{name}`:", ""] + _table(defs[name], f"{name}.")
    lines += ["", "Column: `columns: [{name: ..., config: {meta: {privacy: {...}}}}]`", ""]
    lines += _table(contract.definition("column"))
    lines += ["", "Project: `vars: {privacy_guard: {...}}` in `dbt_project.yml`", ""]
    lines += _table(contract.definition("project"))
    lines += ["", "An agreement (`agreements: [...]`):", ""] + _table(defs["agreement"])
    return "\n".join(lines)


if __name__ == "__main__":  # the command these pages used to name; regenerates every page
    from python_checks.docs_pages import main

    main()
