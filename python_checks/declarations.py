"""Where a node's privacy policy is declared: the YAML file and line (found with a line-aware
YAML composer), else the node's own file. Paths are relative to the project the node came from."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from python_checks.loader import ArtifactError, Node, read_bounded

#: The key of each resource type in a dbt properties YAML.
SECTIONS = {"model": "models", "seed": "seeds", "snapshot": "snapshots", "source": "sources", "exposure": "exposures"}
#: Properties files are a few KB; a larger one is not read for a line number.
MAX_YAML_BYTES = 10 << 20


@dataclass(frozen=True, slots=True)
class Declaration:
    """A file relative to the project root, and the 1-based line (1 when no better one is known)."""

    path: str
    line: int = 1

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


def yaml_path(node: Node) -> str | None:
    """The properties YAML of a node: dbt's `patch_path` (`package://models/schema.yml`), or a source's own file."""
    if node.patch_path:
        return node.patch_path.split("://", 1)[-1]
    if node.resource_type == "source" and node.original_file_path.endswith((".yml", ".yaml")):
        return node.original_file_path
    return None


def _composed(path: Path) -> yaml.Node | None:
    # compose() keeps positions and never expands aliases, so a hostile file cannot blow up here.
    try:
        composed: yaml.Node | None = yaml.compose(read_bounded(path, "properties YAML", MAX_YAML_BYTES).decode("utf-8", errors="replace"), Loader=yaml.SafeLoader)
    except (ArtifactError, yaml.YAMLError):
        return None
    return composed


def _items(mapping: yaml.Node | None, key: str) -> list[yaml.Node]:
    if not isinstance(mapping, yaml.MappingNode):
        return []
    for key_node, value in mapping.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == key and isinstance(value, yaml.SequenceNode):
            return list(value.value)
    return []


def _by_name(items: list[yaml.Node]) -> dict[str, yaml.MappingNode]:
    """Each name's first entry among `items` (the one a search down the list finds)."""
    found: dict[str, yaml.MappingNode] = {}
    for item in items:
        if isinstance(item, yaml.MappingNode):
            for key_node, value in item.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.value == "name" and isinstance(value, yaml.ScalarNode):
                    found.setdefault(value.value, item)
    return found


@dataclass(frozen=True, slots=True)
class _Entries:
    """The entries of one properties YAML by name: each section's, and each source's tables."""

    sections: dict[str, dict[str, yaml.MappingNode]]
    tables: dict[str, dict[str, yaml.MappingNode]]


@lru_cache(maxsize=512)
def _entries(path: Path) -> _Entries:
    # Indexed once per file: a report looks up one node per finding, and one YAML may declare
    # thousands of models (a search down the list per finding grows with the square of them).
    root = _composed(path)
    sources = _by_name(_items(root, SECTIONS["source"]))
    return _Entries(
        {section: _by_name(_items(root, section)) for section in SECTIONS.values()},
        {name: _by_name(_items(source, "tables")) for name, source in sources.items()},
    )


def _line(entries: _Entries, node: Node) -> int | None:
    section = SECTIONS.get(node.resource_type)
    if section is None:
        return None
    if node.resource_type == "source":
        parts = node.unique_id.split(".")  # source.<package>.<source name>.<table>
        named = entries.tables.get(parts[2], {}) if len(parts) > 3 else {}
    else:
        named = entries.sections[section]
    found = named.get(node.name)
    return found.start_mark.line + 1 if found is not None else None


@lru_cache(maxsize=512)
def _resolved(root: Path, yaml_file: str) -> Path:
    # Once per project and file, not once per finding: resolving is a system call per path part.
    return (root / yaml_file).resolve()


def declaration(node: Node, project_dir: Path | None) -> Declaration:
    """The YAML entry that declares the node; line 1 of that YAML when the entry is not found; the node's own file without YAML."""
    yaml_file = yaml_path(node)
    root = Path(node.root_path) if node.root_path else project_dir
    if yaml_file and root is not None:
        line = _line(_entries(_resolved(root, yaml_file)), node)
        if line is not None:
            return Declaration(yaml_file, line)
    return Declaration(yaml_file or node.original_file_path)
