"""Small hand-made manifests for the rule tests: one call per node instead of pasted JSON blobs."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import yaml

from python_checks.check import CheckReport, run_check

AS_OF = dt.date(2026, 1, 15)


class ManifestBuilder:
    """Builds a manifest.json (v12 layout unless told otherwise) node by node."""

    def __init__(self, project: str = "demo", adapter: str = "duckdb") -> None:
        self.project = project
        self.adapter = adapter
        self.nodes: dict[str, dict[str, Any]] = {}
        self.sources: dict[str, dict[str, Any]] = {}
        self.exposures: dict[str, dict[str, Any]] = {}

    def node(
        self,
        name: str,
        resource_type: str = "model",
        privacy: Any = None,
        columns: dict[str, Any] | None = None,
        parents: tuple[str, ...] = (),
        sql: str | None = None,
        macros: tuple[str, ...] = (),
        materialized: str = "view",
    ) -> str:
        """Add a node; `parents` and the return value are unique_ids. Columns map name -> privacy block."""
        unique_id = f"{resource_type}.{self.project}.{name}"
        entry = {
            "unique_id": unique_id,
            "name": name,
            "resource_type": resource_type,
            "package_name": self.project,
            "original_file_path": f"models/{name}.sql",
            "patch_path": f"{self.project}://models/schema.yml",
            "database": "db",
            "schema": "main",
            "alias": name,
            "relation_name": f'"db"."main"."{name}"',
            "config": {"materialized": materialized, "meta": {"privacy": privacy} if privacy is not None else {}},
            "columns": {
                column: {"name": column, "config": {"meta": {"privacy": block} if block is not None else {}}}
                for column, block in (columns or {}).items()
            },
            "depends_on": {"nodes": list(parents), "macros": list(macros)},
            "compiled_code": sql,
            "checksum": {"name": "sha256", "checksum": name},
        }
        (self.sources if resource_type == "source" else self.nodes)[unique_id] = entry
        return unique_id

    def exposure(self, name: str, parents: tuple[str, ...], privacy: Any = None) -> str:
        """Add an exposure reading `parents` (privacy in `config.meta`, as dbt >= 1.10 writes it)."""
        unique_id = f"exposure.{self.project}.{name}"
        self.exposures[unique_id] = {
            "unique_id": unique_id,
            "name": name,
            "resource_type": "exposure",
            "package_name": self.project,
            "original_file_path": "models/exposures.yml",
            "config": {"meta": {"privacy": privacy} if privacy is not None else {}},
            "depends_on": {"nodes": list(parents), "macros": []},
        }
        return unique_id

    def test(
        self,
        name: str,
        attached: str,
        namespace: str | None = "privacy_guard",
        arguments: dict[str, Any] | None = None,
        config: dict[str, Any] | None = None,
        suffix: str = "",
    ) -> str:
        """Attach a generic test `namespace.name` (with dbt's kwargs and config) to a node."""
        unique_id = f"test.{self.project}.{name}_{attached.rsplit('.', 1)[-1]}{suffix}"
        self.nodes[unique_id] = {
            "unique_id": unique_id,
            "name": f"{name}_{attached}{suffix}",
            "resource_type": "test",
            "test_metadata": {"name": name, "namespace": namespace, "kwargs": arguments or {}},
            "config": {"severity": "ERROR", "warn_if": "!= 0", "error_if": "!= 0", "fail_calc": "count(*)", "where": None, "limit": None, **(config or {})},
            "attached_node": attached,
            "depends_on": {"nodes": [attached], "macros": []},
        }
        return unique_id

    def document(self, version: int = 12) -> dict[str, Any]:
        """The manifest as a dict."""
        return {
            "metadata": {
                "dbt_schema_version": f"https://schemas.getdbt.com/dbt/manifest/v{version}.json",
                "dbt_version": "1.11.0",
                "adapter_type": self.adapter,
                "project_name": self.project,
            },
            "nodes": self.nodes,
            "sources": self.sources,
            "exposures": self.exposures,
        }

    def write(self, directory: Path, settings: dict[str, Any] | None = None) -> Path:
        """Write directory/target/manifest.json (and dbt_project.yml with vars.privacy_guard); return the manifest path."""
        (directory / "target").mkdir(parents=True, exist_ok=True)
        manifest = directory / "target" / "manifest.json"
        manifest.write_text(json.dumps(self.document()))
        project = {"name": self.project, "version": "1.0", "config-version": 2}
        if settings is not None:
            project["vars"] = {"privacy_guard": settings}
        (directory / "dbt_project.yml").write_text(yaml.safe_dump(project))
        return manifest

    def check(self, directory: Path, settings: dict[str, Any] | None = None, **options: Any) -> CheckReport:
        """Write and check the manifest (as of AS_OF)."""
        return run_check(self.write(directory, settings), as_of=AS_OF, **options)


def pairs(report: CheckReport, rule: str | None = None) -> set[tuple[str, str]]:
    """(rule, node name) of every finding, optionally of one rule only."""
    return {(f.rule, f.node.rsplit(".", 1)[-1]) for f in report.findings if rule is None or f.rule == rule}


def findings(report: CheckReport, rule: str) -> list[Any]:
    """The findings of one rule."""
    return [f for f in report.findings if f.rule == rule]
