"""The meta contract: one JSON Schema (schema/privacy_meta.schema.json), read here.

Every consumer of the contract -- the Python rules, the CLI's `validate`, the test that keeps the
dbt macro constants (`macros/_internal/_contract.sql`) in agreement -- goes through this module,
so a key is added in exactly one place.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
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


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
#: What a value of each JSON type is in Python, strictly: 1.0 as an integer, or a bool where a
#: number goes, is left to jsonschema.
_TYPES: dict[str, tuple[type, ...]] = {"object": (dict,), "array": (list,), "string": (str,), "boolean": (bool,), "integer": (int,), "number": (int, float)}


def _date(value: str) -> bool:
    if not _DATE.fullmatch(value):
        return False
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _number_check(holds: Callable[[Any, Any], bool]) -> Callable[[Any, Any, dict[str, Any]], bool]:
    # A bool is an int to Python, not a number to JSON Schema: jsonschema's call.
    return lambda expected, value, node: value.__class__ is not bool and (value.__class__ not in (int, float) or holds(value, expected))


def _conforms_to_ref(expected: Any, value: Any, node: dict[str, Any]) -> bool:
    prefix = "#/$defs/"
    return isinstance(expected, str) and expected.startswith(prefix) and conforms(schema()["$defs"][expected[len(prefix) :]], value)


def _extra_properties_conform(expected: Any, value: Any, node: dict[str, Any]) -> bool:
    named = node.get("properties", {})
    return value.__class__ is not dict or all(conforms(expected, item) for key, item in value.items() if key not in named)


#: keyword -> (its value in the schema, the instance, the whole sub-schema) -> whether it plainly holds.
#: A keyword missing here (and from _ANNOTATIONS) makes `conforms` defer to jsonschema.
_KEYWORDS: dict[str, Callable[[Any, Any, dict[str, Any]], bool]] = {
    "$ref": _conforms_to_ref,
    "type": lambda expected, value, node: value.__class__ in _TYPES.get(expected, ()),
    "properties": lambda expected, value, node: value.__class__ is not dict or all(conforms(expected[key], item) for key, item in value.items() if key in expected),
    "additionalProperties": _extra_properties_conform,
    "required": lambda expected, value, node: value.__class__ is not dict or all(key in value for key in expected),
    "items": lambda expected, value, node: value.__class__ is not list or all(conforms(expected, item) for item in value),
    "enum": lambda expected, value, node: value.__class__ is str and value in expected,
    "minLength": lambda expected, value, node: value.__class__ is not str or len(value) >= expected,
    "pattern": lambda expected, value, node: value.__class__ is not str or re.search(expected, value) is not None,
    "format": lambda expected, value, node: value.__class__ is not str or (expected == "date" and _date(value)),
    "minimum": _number_check(lambda value, bound: value >= bound),
    "maximum": _number_check(lambda value, bound: value <= bound),
    "exclusiveMinimum": _number_check(lambda value, bound: value > bound),
    "minItems": lambda expected, value, node: value.__class__ is not list or len(value) >= expected,
    "maxItems": lambda expected, value, node: value.__class__ is not list or len(value) <= expected,
    "uniqueItems": lambda expected, value, node: (
        value.__class__ is not list or not expected or (all(item.__class__ is str for item in value) and len(set(value)) == len(value))
    ),
}
#: Keywords that constrain nothing.
_ANNOTATIONS = frozenset({"description", "default", "title", "$schema", "$id", "examples"})


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
        check = _KEYWORDS.get(keyword)
        if check is None or not check(expected, value, node):
            return False
    return True
