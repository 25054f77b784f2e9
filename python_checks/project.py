"""Finding the dbt project like dbt does: `dbt_project.yml` in the working folder or above, and its `target/`."""

from __future__ import annotations

from pathlib import Path

from python_checks.loader import ArtifactError

PROJECT_FILE = "dbt_project.yml"
TARGET = "target"


def find_project_dir(start: Path) -> Path | None:
    """The nearest folder at or above `start` holding dbt_project.yml; None outside any dbt project."""
    start = start.resolve()
    return next((folder for folder in (start, *start.parents) if (folder / PROJECT_FILE).is_file()), None)


def default_project_dir(manifest: Path) -> Path:
    """The folder above the manifest's `target/`, else the nearest dbt project enclosing it, else the working folder."""
    parent = manifest.resolve().parent
    if parent.name == TARGET:
        return parent.parent
    return find_project_dir(parent) or Path.cwd()


def resolve_artifacts(manifest: Path | None, project_dir: Path | None) -> tuple[Path, Path]:
    """(manifest, project dir) from what was given: the project defaults to the one enclosing the
    manifest (else the working folder), the manifest to the project's target/manifest.json."""
    if manifest is not None:
        return manifest, project_dir or default_project_dir(manifest)
    project = project_dir or find_project_dir(Path.cwd())
    if project is None:
        raise ArtifactError(f"no {PROJECT_FILE} in {Path.cwd()} or any folder above it: run inside a dbt project, or pass --manifest")
    found = project / TARGET / "manifest.json"
    if not found.exists():
        raise ArtifactError(f"{found}: no such file; run `dbt compile` (or `dbt build`) in {project} first")
    return found, project
