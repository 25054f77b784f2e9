"""Project settings: `vars.privacy_guard` of the consumer's dbt_project.yml.

dbt does not copy `vars` into manifest.json, so the checks read the project file itself. A
missing file means "no agreements, defaults everywhere"; a present but invalid block is bad
config (exit 2), because checking against a half-understood policy would give false comfort.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from python_checks import contract
from python_checks.loader import ArtifactError, read_bounded


@dataclass(frozen=True, slots=True)
class Agreement:
    """A data-use agreement: which departments may be combined, for which purposes, until when."""

    id: str
    departments: frozenset[str]
    purposes: frozenset[str] | None
    #: Last valid day (required: an agreement without an end is refused when the settings are read).
    expires: dt.date
    owner: str | None = None
    #: Warehouse roles allowed to read data combined under it; None = the agreement does not say.
    roles: frozenset[str] | None = None
    #: The ethics review (`id`, `date`, optional `reviewers`), as written in vars.
    review: dict[str, Any] | None = None
    #: Where it is written, for error messages: where(key) names the key in vars or the seed's row and column; where("") the agreement.
    where: Callable[[str], str] = field(default=str, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class RuleParameter:
    """One parameter a rule takes (declared by the rule's check function, rules.base), settable under
    `vars.privacy_guard.rules.<rule_id>`."""

    name: str
    kind: type[int] | type[float] | type[bool] | type[str]
    default: Any
    #: The smallest value that makes sense (None: no bound).
    minimum: float | None = None

    def parse(self, value: Any) -> Any:
        """The value as the rule receives it; ValueError saying what was expected otherwise."""
        # bool is an int in Python, not in YAML: `threshold: true` is a mistake, not 1.
        accepted = (int, float) if self.kind is float else (self.kind,)
        if isinstance(value, bool) is not (self.kind is bool) or not isinstance(value, accepted):
            raise ValueError(f"expected {_KIND_NAMES[self.kind]}, got {value!r}")
        if self.minimum is not None and value < self.minimum:
            raise ValueError(f"expected at least {self.minimum:g}, got {value!r}")
        return self.kind(value)


_KIND_NAMES: dict[type, str] = {int: "an integer", float: "a number", bool: "true or false", str: "a string"}


class Configurable(Protocol):
    """What settings need to know of a rule: the parameters it takes."""

    @property
    def parameters(self) -> tuple[RuleParameter, ...]: ...


@dataclass(frozen=True, slots=True)
class EthicsReview:
    """When a meeting point needs an ethics review (`vars.privacy_guard.ethics_review`)."""

    #: Meeting points at least this sensitive need one; None = sensitivity alone never does.
    sensitivity: str | None = None
    #: Department pairs whose combination needs one.
    department_pairs: tuple[frozenset[str], ...] = ()
    #: A review older than this many days no longer counts; None = no limit.
    max_age_days: int | None = None


@dataclass(frozen=True, slots=True)
class RuleSetting:
    """The user's override of one rule (`vars.privacy_guard.rules.<rule_id>`)."""

    enabled: bool = True
    severity: str | None = None
    #: The rule's own parameters the project sets (checked against its declaration); the rest keep their defaults.
    parameters: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Settings:
    """vars.privacy_guard over the contract's defaults."""

    source: Path | None = None
    default_k: int = 5
    #: Thresholds of l_diversity and t_closeness when neither the test nor the node's meta sets one.
    default_l: float = field(default_factory=lambda: _default("default_l"))
    default_t: float = field(default_factory=lambda: _default("default_t"))
    agreements: dict[str, Agreement] = field(default_factory=dict)
    #: purpose -> column classes a model serving it may expose; None = no minimization policy.
    purposes: dict[str, frozenset[str]] | None = None
    rules: dict[str, RuleSetting] = field(default_factory=dict)
    #: Strict mode (`enforce: true`): rules with an enforce severity report at it.
    enforce: bool = False
    #: Column-name patterns that look personal (`personal_column_patterns`, defaults from the contract).
    personal_column_patterns: tuple[str, ...] = field(default_factory=lambda: tuple(_default("personal_column_patterns")))
    #: The frozen day retention counts from (`today`); None = the real today.
    today: dt.date | None = None
    #: Whether `purge_expired` may delete from sources (`purge.sources`).
    purge_sources: bool = False
    #: The organisation's departments (`departments`); None = not listed.
    departments: frozenset[str] | None = None
    #: Which meeting points need an ethics review; None = none required.
    ethics_review: EthicsReview | None = None
    #: Roles everyone has (`access.broad_roles`), lower case, and the sensitivity from which granting them is a finding.
    broad_roles: frozenset[str] = frozenset({"public"})
    broad_sensitivity: str = "restricted"

    def rule(self, rule_id: str) -> RuleSetting:
        """The override for one rule (defaults when the project says nothing)."""
        return self.rules.get(rule_id, RuleSetting())


def _default(key: str) -> Any:
    return contract.definition("project")["properties"][key]["default"]


#: dbt_project.yml is read whole; a project file is a few KB.
MAX_PROJECT_FILE_BYTES = 10 << 20
#: Values (keys, items, scalars) dbt_project.yml may expand to: YAML aliases can make a few lines
#: expand to billions (an "alias bomb"), which reading it would walk without end.
MAX_PROJECT_VALUES = 100_000


#: Nesting depth of dbt_project.yml: a real one is a few levels deep; a recursive alias is endless.
MAX_PROJECT_DEPTH = 64


def _strings(project: Any, path: Path) -> list[tuple[str, str]]:
    """(key path, text) of every string in the project, aliases expanded.

    ArtifactError past MAX_PROJECT_VALUES values or MAX_PROJECT_DEPTH levels (a recursive alias),
    naming the setting; the depth bound also keeps the key paths short.
    """
    pending: list[tuple[tuple[str, ...], Any]] = [((), project)]
    found: list[tuple[str, str]] = []
    seen = 0
    while pending:
        where, value = pending.pop()
        seen += 1
        if seen > MAX_PROJECT_VALUES or len(where) > MAX_PROJECT_DEPTH:
            near = ".".join(map(str, where[:2]))  # the setting, not the path through the aliases
            limit = f"more than {MAX_PROJECT_VALUES} values" if seen > MAX_PROJECT_VALUES else f"more than {MAX_PROJECT_DEPTH} levels"
            raise ArtifactError(f"settings {path}: {near} expands to {limit} (YAML aliases?); refusing it")
        if isinstance(value, dict):
            pending += [((*where, str(key)), item) for key, item in value.items()]
            pending += [(where, key) for key in value]
        elif isinstance(value, list):
            pending += [((*where, str(index)), item) for index, item in enumerate(value)]
        elif isinstance(value, str):
            found.append((".".join(where), value))
    return found


def _refuse_key_reference(strings: list[tuple[str, str]], key_var: str, path: Path) -> None:
    """ArtifactError when a value of dbt_project.yml (a var, a hook, a config) calls env_var() on the pseudonymization key variable.

    dbt would render the key into that var or hook and keep it in target/; the macros refuse such a
    run at its start (macros/_internal/_refuse_key_exposure.sql), this catches it in CI before.
    Only literal references are seen (not a name assembled from pieces).
    """
    reads_key = re.compile(r"""env_var\s*\(\s*['"]""" + re.escape(key_var) + r"""['"]""")
    for where, text in sorted(strings):
        if reads_key.search(text):
            raise ArtifactError(
                f"settings {path}: {where} calls env_var('{key_var}'), the pseudonymization key variable "
                "(vars.privacy_guard.key_env_var): dbt would copy the key into target/; remove it"
            )


def _rule_settings(block: Mapping[str, Any], rules: Mapping[str, Configurable], where: str) -> dict[str, RuleSetting]:
    """`rules:` of vars.privacy_guard; ValueError naming the key of an unknown rule or parameter or a wrong value."""
    found = {}
    for rule_id, spec in block.items():
        rule = rules.get(rule_id)
        if rule is None:
            raise ValueError(f"{where}.{rule_id}: unknown rule (known: {', '.join(sorted(rules))})")
        declared = {parameter.name: parameter for parameter in rule.parameters}
        parameters = {}
        for key, value in spec.items():
            if key in ("enabled", "severity"):
                continue  # typed by the contract
            if key not in declared:
                takes = f"takes {', '.join(sorted(declared))}" if declared else "takes no parameters"
                raise ValueError(f"{where}.{rule_id}.{key}: unknown parameter ({rule_id} {takes}, besides enabled and severity)")
            try:
                parameters[key] = declared[key].parse(value)
            except ValueError as error:
                raise ValueError(f"{where}.{rule_id}.{key}: {error}") from None
        found[rule_id] = RuleSetting(spec.get("enabled", True), spec.get("severity"), parameters)
    return found


def _agreements(
    project_dir: Path, project: dict[str, Any], block: Mapping[str, Any], path: Path, departments: frozenset[str] | None
) -> dict[str, Agreement]:
    """The agreements of vars and of the seed `agreements_seed` names, one set: ArtifactError naming the key or the
    seed's row and column of an invalid agreement, a department outside a listed `departments`, or an id defined twice."""
    prefix = f"vars.{contract.VARS_NAMESPACE}"

    def in_vars(index: int) -> Callable[[str], str]:
        return lambda key: f"settings {path}: {prefix}.agreements.{index}" + (f".{key}" if key else "")

    items = [(item, in_vars(index)) for index, item in enumerate(block.get("agreements") or [])]
    if "agreements_seed" in block:
        from python_checks import agreement_seed

        seed_paths = project.get("seed-paths", ["seeds"])
        if not isinstance(seed_paths, list) or not all(isinstance(folder, str) for folder in seed_paths):
            raise ArtifactError(f"settings {path}: seed-paths: expected a list of folders, got {seed_paths!r}")
        seed = agreement_seed.seed_file(project_dir, seed_paths, block["agreements_seed"], f"settings {path}: {prefix}.agreements_seed")
        for item, where in agreement_seed.read_rows(seed):
            # The contract validates an agreement as the item of a one-agreement `agreements` list.
            errors = contract.validate("project", {"agreements": [item]})
            if errors:
                key = errors[0].key.removeprefix("agreements.0").removeprefix(".")
                raise ArtifactError(f"{where(key)}: {errors[0].message}")
            items.append((item, where))
    agreements: dict[str, Agreement] = {}
    for item, where in items:
        unknown_departments = sorted(set(item["departments"]) - departments) if departments is not None else []
        if unknown_departments:
            raise ArtifactError(
                f"{where('departments')}: {unknown_departments[0]!r} (agreement {item['id']}) "
                f"is not in {prefix}.departments ({', '.join(sorted(departments or ()))})"
            )
        if item["id"] in agreements:
            raise ArtifactError(f"{where('id')}: agreement {item['id']!r} is defined twice (also at {agreements[item['id']].where('')})")
        agreements[item["id"]] = Agreement(
            id=item["id"],
            departments=frozenset(item["departments"]),
            purposes=frozenset(item["purposes"]) if "purposes" in item else None,
            expires=dt.date.fromisoformat(item["expires"]),
            owner=item.get("owner"),
            roles=frozenset(item["roles"]) if "roles" in item else None,
            review=item.get("review"),
            where=where,
        )
    return agreements


def load_settings(project_dir: Path, rules: Mapping[str, Configurable]) -> Settings:
    """Read and validate vars.privacy_guard from project_dir/dbt_project.yml."""
    path = project_dir / "dbt_project.yml"
    if not path.exists():
        return Settings(default_k=_default("default_k"))
    text = read_bounded(path, "settings", MAX_PROJECT_FILE_BYTES)
    import yaml  # here, not at the top: without a dbt_project.yml the check never pays for importing it

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
    strings = _strings(project, path)
    block = (variables or {}).get(contract.VARS_NAMESPACE)
    if block is None:
        _refuse_key_reference(strings, _default("key_env_var"), path)
        return Settings(source=path, default_k=_default("default_k"))
    prefix = f"vars.{contract.VARS_NAMESPACE}"
    errors = contract.validate("project", block)
    if errors:
        raise ArtifactError(f"settings {path}: {prefix}.{errors[0]}")
    _refuse_key_reference(strings, block.get("key_env_var", _default("key_env_var")), path)
    try:
        rule_settings = _rule_settings(block.get("rules") or {}, rules, f"{prefix}.rules")
    except ValueError as error:
        raise ArtifactError(f"settings {path}: {error}") from None
    departments = frozenset(block["departments"]) if "departments" in block else None
    agreements = _agreements(project_dir, project, block, path, departments)
    purposes = block.get("purposes")
    review = block.get("ethics_review")
    access = block.get("access") or {}
    return Settings(
        source=path,
        default_k=block.get("default_k", _default("default_k")),
        default_l=block.get("default_l", _default("default_l")),
        default_t=block.get("default_t", _default("default_t")),
        agreements=agreements,
        purposes={name: frozenset(spec.get("allow") or ()) for name, spec in purposes.items()} if purposes is not None else None,
        rules=rule_settings,
        enforce=block.get("enforce", _default("enforce")),
        personal_column_patterns=tuple(block.get("personal_column_patterns", _default("personal_column_patterns"))),
        today=dt.date.fromisoformat(str(block["today"])) if "today" in block else None,
        purge_sources=(block.get("purge") or {}).get("sources", False),
        departments=departments,
        ethics_review=EthicsReview(
            sensitivity=review.get("sensitivity"),
            department_pairs=tuple(frozenset(pair) for pair in review.get("department_pairs") or ()),
            max_age_days=review.get("max_age_days"),
        )
        if review is not None
        else None,
        broad_roles=frozenset(role.lower() for role in access.get("broad_roles", ["public"])),
        broad_sensitivity=access.get("broad_sensitivity", "restricted"),
    )


def check_departments(settings: Settings, declared: frozenset[str]) -> None:
    """ArtifactError when an agreement names a department no node declares (unless
    `departments` lists it): a typo in an agreement would otherwise silently allow nothing.

    `declared`: the departments the manifest's nodes declare. Agreements outside a listed
    `departments` are refused when the settings are read.
    """
    if settings.departments is not None:
        return
    for agreement in sorted(settings.agreements.values(), key=lambda a: a.id):
        unknown = sorted(agreement.departments - declared)
        if unknown:
            raise ArtifactError(
                f"{agreement.where('departments')}: agreement {agreement.id} names department "
                f"{unknown[0]!r}, which no node declares (declared: {', '.join(sorted(declared)) or 'none'}); "
                f"when it is right, list it in vars.{contract.VARS_NAMESPACE}.departments"
            )
