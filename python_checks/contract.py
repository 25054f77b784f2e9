"""The meta contract: one JSON Schema (schema/privacy_meta.schema.json), read here.

Every consumer of the contract -- the Python rules, the CLI's `validate`, the test that keeps the
dbt macro constants (`macros/_internal/_contract.sql`) in agreement -- goes through this module,
so a key is added in exactly one place.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

if TYPE_CHECKING:  # jsonschema: imported when a privacy block is first validated
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

PolicyKind = Literal["node", "column", "project"]

#: The key every privacy setting is namespaced under, in `config.meta` and in `vars`.
META_NAMESPACE = "privacy"
VARS_NAMESPACE = "privacy_guard"
SCHEMA_PATH = Path(__file__).with_name("schema") / "privacy_meta.schema.json"


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    """The contract as a dict (read once)."""
    # A path beside this module, not importlib.resources (whose import costs ~15 ms of start-up).
    document: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return document


def definition(kind: PolicyKind) -> dict[str, Any]:
    """The JSON Schema of one part of the contract (node policy, column policy, project vars)."""
    found: dict[str, Any] = schema()["$defs"][f"{kind}_policy" if kind != "project" else "project_settings"]
    return found


def enum_values(name: str) -> list[str]:
    """Values of an enumerated type of the contract (`column_class`, `sensitivity`, ...)."""
    return list(schema()["$defs"][name]["enum"])


@lru_cache(maxsize=3)
def _validator(kind: PolicyKind) -> Draft202012Validator:
    from jsonschema import Draft202012Validator

    # A sub-schema keeps its `$ref`s resolvable by embedding the shared `$defs`.
    sub = {"$defs": schema()["$defs"], **definition(kind)}
    return Draft202012Validator(sub, format_checker=Draft202012Validator.FORMAT_CHECKER)


@dataclass(frozen=True)
class ContractError:
    """One violation, located by its key path below `privacy` (e.g. `retention.days`)."""

    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.key}: {self.message}" if self.key else self.message


def _describe(error: ValidationError) -> ContractError:
    path = ".".join(str(part) for part in error.absolute_path)
    # jsonschema types these fields loosely (a validator, a schema or `Unset`): read them as the JSON they are.
    validator, rule, instance = str(error.validator), cast(Any, error.schema), cast(Any, error.instance)
    if validator == "additionalProperties":
        allowed = sorted(rule.get("properties", {}))
        unknown = sorted(set(instance) - set(allowed))
        key = ".".join(filter(None, [path, unknown[0] if unknown else ""]))
        return ContractError(key, f"unknown key (allowed: {', '.join(allowed)})")
    if validator == "enum":
        return ContractError(path, f"{instance!r} is not one of {', '.join(map(str, cast(list[Any], error.validator_value)))}")
    return ContractError(path, error.message)


def validate(kind: PolicyKind, value: Any) -> list[ContractError]:
    """All contract violations of one `privacy` block, most specific first; [] when valid.

    A block `conforms` accepts is valid without asking jsonschema (importing it costs ~50 ms of
    start-up, and nearly every block is valid); anything else, invalid or merely unusual, gets
    jsonschema's verdict and its errors."""
    if conforms(definition(kind), value):
        return []
    return schema_errors(kind, value)


def schema_errors(kind: PolicyKind, value: Any) -> list[ContractError]:
    """jsonschema's violations of one block (the reference `validate` answers for all but plainly valid blocks)."""
    errors = sorted(_validator(kind).iter_errors(value), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    return [_describe(error) for error in errors]


#: Keywords that constrain nothing (annotations); any keyword outside these and `_CHECKS` makes
#: `conforms` defer to jsonschema.
_ANNOTATIONS = frozenset({"description", "default", "title", "$schema", "$id", "examples"})
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


def _is_number(value: Any) -> bool:
    return value.__class__ is int or value.__class__ is float


def _type_holds(expected: str, value: Any) -> bool:
    # Strict on purpose: 1.0 as an integer or a bool where a number goes is jsonschema's call.
    kind = value.__class__
    return {
        "object": kind is dict,
        "array": kind is list,
        "string": kind is str,
        "boolean": kind is bool,
        "integer": kind is int,
        "number": kind is int or kind is float,
    }.get(expected, False)


def _format_holds(name: str, value: Any) -> bool:
    if name != "date" or value.__class__ is not str or not _DATE.fullmatch(value):
        return False
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def conforms(node: dict[str, Any] | bool, value: Any) -> bool:
    """True only when `value` plainly satisfies the schema `node` (a sub-schema of the contract).

    A small reading of the keywords the contract uses, strict wherever JSON Schema has a corner
    (numbers written as 1.0, booleans among numbers, non-string enums or unique items, formats
    other than `date`, keywords it does not know): there it answers False and `validate` asks
    jsonschema. It never says True where jsonschema reports an error
    (tests/checks/test_contract_fast_path.py compares both over generated valid and invalid blocks).
    """
    if node is True or node is False:  # boolean sub-schemas: anything / nothing
        return node
    for keyword, expected in node.items():
        if keyword in _ANNOTATIONS:
            continue
        if keyword == "$ref":
            if not expected.startswith("#/$defs/") or not conforms(schema()["$defs"][expected[len("#/$defs/") :]], value):
                return False
        elif keyword == "type":
            if not _type_holds(expected, value):
                return False
        elif keyword == "properties":
            if value.__class__ is dict and not all(conforms(expected[key], item) for key, item in value.items() if key in expected):
                return False
        elif keyword == "additionalProperties":
            if value.__class__ is dict:
                extra = [item for key, item in value.items() if key not in node.get("properties", {})]
                if not all(conforms(expected, item) for item in extra):
                    return False
        elif keyword == "required":
            if value.__class__ is dict and not all(key in value for key in expected):
                return False
        elif keyword == "items":
            if value.__class__ is list and not all(conforms(expected, item) for item in value):
                return False
        elif keyword == "enum":
            if value.__class__ is not str or value not in expected:
                return False
        elif keyword == "minLength":
            if value.__class__ is str and len(value) < expected:
                return False
        elif keyword == "pattern":
            if value.__class__ is str and re.search(expected, value) is None:
                return False
        elif keyword == "format":
            if value.__class__ is str and not _format_holds(expected, value):
                return False
        elif keyword in ("minimum", "maximum", "exclusiveMinimum"):
            if value.__class__ is bool:
                return False
            if _is_number(value) and not {"minimum": value >= expected, "maximum": value <= expected, "exclusiveMinimum": value > expected}[keyword]:
                return False
        elif keyword == "minItems":
            if value.__class__ is list and len(value) < expected:
                return False
        elif keyword == "uniqueItems":
            if value.__class__ is list and expected and (not all(item.__class__ is str for item in value) or len(set(value)) != len(value)):
                return False
        else:
            return False
    return True
