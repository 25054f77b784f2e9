"""Project settings: `vars.privacy_guard` of the consumer's dbt_project.yml.

dbt does not copy `vars` into manifest.json, so the checks read the project file itself. A
missing file means "no agreements, defaults everywhere"; a present but invalid block is bad
config (exit 2), because checking against a half-understood policy would give false comfort.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from python_checks import contract
from python_checks.loader import ArtifactError, read_bounded


@dataclass(frozen=True, slots=True)
class Agreement:
    """A data-use agreement: which departments may be combined, for which purposes, until when."""

    id: str
    departments: frozenset[str]
    purposes: frozenset[str] | None
    expires: dt.date | None


@dataclass(frozen=True, slots=True)
class RuleSetting:
    """The user's override of one rule (`vars.privacy_guard.rules.<rule_id>`)."""

    enabled: bool = True
    severity: str | None = None
    threshold: float | None = None


@dataclass(frozen=True, slots=True)
class Settings:
    """vars.privacy_guard over the contract's defaults."""

    source: Path | None = None
    default_k: int = 5
    agreements: dict[str, Agreement] = field(default_factory=dict)
    #: purpose -> column classes a model serving it may expose; None = no minimization policy.
    purposes: dict[str, frozenset[str]] | None = None
    rules: dict[str, RuleSetting] = field(default_factory=dict)
    #: Strict mode (`enforce: true`): rules with an enforce severity report at it.
    enforce: bool = False
    #: Column-name patterns that look personal (`personal_column_patterns`, defaults from the contract).
    personal_column_patterns: tuple[str, ...] = field(default_factory=lambda: tuple(_default("personal_column_patterns")))

    def rule(self, rule_id: str) -> RuleSetting:
        """The override for one rule (defaults when the project says nothing)."""
        return self.rules.get(rule_id, RuleSetting())


def _default(key: str) -> Any:
    return contract.definition("project")["properties"][key]["default"]


def default_project_dir(manifest_path: Path) -> Path:
    """The folder above the manifest's `target/`, else the working directory."""
    parent = manifest_path.resolve().parent
    return parent.parent if parent.name == "target" else Path.cwd()


#: dbt_project.yml is read whole; a project file is a few KB.
MAX_PROJECT_FILE_BYTES = 10 << 20
#: Values (keys, items, scalars) vars.privacy_guard may expand to: YAML aliases can make a few
#: lines expand to billions (an "alias bomb"), which validation would walk without end.
MAX_SETTINGS_VALUES = 100_000


def _refuse_expansion(block: Any, path: Path) -> None:
    """ArtifactError when the block, aliases expanded, holds more than MAX_SETTINGS_VALUES values (or a cycle)."""
    pending, seen = [block], 0
    while pending:
        value = pending.pop()
        seen += 1
        if seen > MAX_SETTINGS_VALUES:
            raise ArtifactError(
                f"settings {path}: vars.{contract.VARS_NAMESPACE} expands to more than {MAX_SETTINGS_VALUES} values (YAML aliases?); refusing it"
            )
        if isinstance(value, dict):
            pending += [*value.keys(), *value.values()]
        elif isinstance(value, list):
            pending += value


def load_settings(project_dir: Path, known_rules: frozenset[str]) -> Settings:
    """Read and validate vars.privacy_guard from project_dir/dbt_project.yml."""
    path = project_dir / "dbt_project.yml"
    if not path.exists():
        return Settings(default_k=_default("default_k"))
    text = read_bounded(path, "settings", MAX_PROJECT_FILE_BYTES)
    try:
        project = yaml.safe_load(text) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        raise ArtifactError(f"settings {path}: not valid YAML{where}") from None
    except RecursionError:
        raise ArtifactError(f"settings {path}: YAML nested too deeply") from None
    if not isinstance(project, dict):
        raise ArtifactError(f"settings {path}: expected a mapping at the top level, got {type(project).__name__}")
    variables = project.get("vars")
    if variables is not None and not isinstance(variables, dict):
        raise ArtifactError(f"settings {path}: key vars is a {type(variables).__name__}, expected a mapping")
    block = (variables or {}).get(contract.VARS_NAMESPACE)
    if block is None:
        return Settings(source=path, default_k=_default("default_k"))
    _refuse_expansion(block, path)
    prefix = f"vars.{contract.VARS_NAMESPACE}"
    errors = contract.validate("project", block)
    if errors:
        raise ArtifactError(f"settings {path}: {prefix}.{errors[0]}")
    unknown = sorted(set(block.get("rules") or {}) - known_rules)
    if unknown:
        raise ArtifactError(f"settings {path}: {prefix}.rules.{unknown[0]}: unknown rule (known: {', '.join(sorted(known_rules))})")
    agreements = {
        item["id"]: Agreement(
            id=item["id"],
            departments=frozenset(item["departments"]),
            purposes=frozenset(item["purposes"]) if "purposes" in item else None,
            expires=dt.date.fromisoformat(item["expires"]) if "expires" in item else None,
        )
        for item in block.get("agreements") or []
    }
    purposes = block.get("purposes")
    return Settings(
        source=path,
        default_k=block.get("default_k", _default("default_k")),
        agreements=agreements,
        purposes={name: frozenset(spec.get("allow") or ()) for name, spec in purposes.items()} if purposes is not None else None,
        rules={rule_id: RuleSetting(**spec) for rule_id, spec in (block.get("rules") or {}).items()},
        enforce=block.get("enforce", _default("enforce")),
        personal_column_patterns=tuple(block.get("personal_column_patterns", _default("personal_column_patterns"))),
    )
