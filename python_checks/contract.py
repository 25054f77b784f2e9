"""The meta contract: one JSON Schema (schema/privacy_meta.schema.json), read here.

Every consumer of the contract -- the Python rules, the CLI's `validate`, the test that keeps the
dbt macro constants (`macros/_internal/_contract.sql`) in agreement -- goes through this module,
so a key is added in exactly one place.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any, Literal, cast

if TYPE_CHECKING:  # jsonschema: imported when a privacy block is first validated
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

PolicyKind = Literal["node", "column", "project"]

#: The key every privacy setting is namespaced under, in `config.meta` and in `vars`.
META_NAMESPACE = "privacy"
VARS_NAMESPACE = "privacy_guard"


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    """The contract as a dict (read once)."""
    text = resources.files("python_checks").joinpath("schema/privacy_meta.schema.json").read_text()
    document: dict[str, Any] = json.loads(text)
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
    """All contract violations of one `privacy` block, most specific first; [] when valid."""
    errors = sorted(_validator(kind).iter_errors(value), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    return [_describe(error) for error in errors]
