"""The key table of the JSON document (docs/json-and-sarif.md), rendered from
python_checks/schema/check_report.schema.json (see docs_pages)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

SCHEMA_PATH = Path(__file__).resolve().parent / "schema" / "check_report.schema.json"


@cache
def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SCHEMA_PATH.read_text())
    return loaded


def _definition(ref: str) -> dict[str, Any]:
    found: dict[str, Any] = schema()["$defs"][ref.rsplit("/", 1)[-1]]
    return found


def _type(prop: dict[str, Any]) -> str:
    if "$ref" in prop and "type" not in prop:
        return _type(_definition(prop["$ref"]))
    if "const" in prop:
        return f"`{json.dumps(prop['const'])}`"
    if "enum" in prop:
        return " \\| ".join(f"`{value}`" for value in prop["enum"])
    kinds = prop.get("type", "object")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    names = [f"list of {_type(prop.get('items', {}))}" if kind == "array" else kind for kind in kinds]
    return " \\| ".join(names)


def _rows(prop: dict[str, Any], path: str, seen: dict[str, str]) -> list[str]:
    """This key's row, then its children's: object keys as `path.key`, list items as `path[]`, map
    values as `path.<key>`. A definition met again is one row pointing at its first path."""
    description = prop.get("description", "")
    if "$ref" in prop and (prop["$ref"] not in seen or "type" not in _definition(prop["$ref"])):
        seen.setdefault(prop["$ref"], path)
        return _rows({**_definition(prop["$ref"]), **{k: v for k, v in prop.items() if k != "$ref"}}, path, seen)
    if "$ref" in prop:
        extra = {key: value for key, value in prop.items() if key not in ("$ref", "description")}
        rows = [f"| `{path}` | object | {description or 'Every key of'} `{seen[prop['$ref']]}`{', plus:' if extra.get('properties') else '.'} |"]
        for key, child in extra.get("properties", {}).items():
            rows += _rows(child, f"{path}.{key}", seen)
        return rows
    unnamed = path.endswith(("[]", ">")) and not description  # an item or map value: its container's row says it
    rows = [f"| `{path}` | {_type(prop)} | {description} |"] if path and not unnamed else []
    prefix = f"{path}." if path else ""
    for key, child in prop.get("properties", {}).items():
        rows += _rows(child, prefix + key, seen)
    items = prop.get("items")
    if isinstance(items, dict) and ("properties" in items or "$ref" in items):
        rows += _rows(items, f"{path}[]", seen)
    values = prop.get("additionalProperties")
    if isinstance(values, dict) and ("properties" in values or "$ref" in values):
        rows += _rows(values, f"{path}.<{_map_key(path)}>", seen)
    return rows


def _map_key(path: str) -> str:
    return {"nodes": "unique_id", "nodes.<unique_id>.columns": "column"}.get(path, "key")


def render() -> str:
    """Every key of the document with its type and meaning."""
    return "\n".join(["| key | type | meaning |", "|---|---|---|", *_rows(schema(), "", {})])
