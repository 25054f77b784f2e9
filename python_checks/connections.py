"""Read-only SQL against the warehouse, for the commands that measure the data (`check --database`,
`check --target`, `init --database`, `risk`, `anonymize`, `simulate-join`).

Two ways in, one interface (`SqlConnection`): a DuckDB file opened read-only (`--database PATH`),
or any dbt adapter through the project's profile (`--target`, `--profile`, `--profiles-dir`), so
the same counts are measured on PostgreSQL, Spark or any warehouse dbt connects to. Callers send
only aggregate queries; a query that fails raises `QueryError` with the database's first line.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol


from python_checks.loader import ArtifactError


class QueryError(Exception):
    """A query the warehouse refused; the message is the database's first line."""


class SqlConnection(Protocol):
    """What the measuring code needs of a warehouse connection."""

    #: Names the warehouse in messages (`dev.duckdb`, `dbt target dev (postgres)`).
    label: str
    #: The adapter type: duckdb, postgres, spark, ...
    dialect: str

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        """All rows of one query; raises QueryError."""

    def column_names(self, sql: str) -> list[str]:
        """The column names a query returns (run with `limit 0`); raises QueryError."""

    def quote(self, identifier: str) -> str:
        """The identifier quoted for this warehouse (`marital-status` needs it)."""

    def close(self) -> None:
        """Release the connection."""


def ansi_quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


class DuckDBFile:
    """A DuckDB file opened read-only."""

    dialect = "duckdb"

    def __init__(self, path: Path, option: str) -> None:
        import duckdb

        if not path.is_file():
            raise ArtifactError(f"{option} {path}: no such file")
        self.label = str(path)
        self._error = duckdb.Error
        try:
            self.connection = duckdb.connect(str(path), read_only=True)
        except duckdb.Error as error:
            raise ArtifactError(f"{option} {path}: cannot open read-only: {str(error).splitlines()[0]}") from None

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        try:
            return self.connection.execute(sql).fetchall()
        except self._error as error:
            raise QueryError(str(error).splitlines()[0]) from None

    def column_names(self, sql: str) -> list[str]:
        try:
            return [column[0] for column in self.connection.execute(f"select * from ({sql}) as described limit 0").description or []]
        except self._error as error:
            raise QueryError(str(error).splitlines()[0]) from None

    def quote(self, identifier: str) -> str:
        return ansi_quote(identifier)

    def close(self) -> None:
        self.connection.close()


@dataclass(frozen=True)
class DbtTarget:
    """Where `check --target/--profile/--profiles-dir` connects: a profile's target, as dbt resolves it."""

    project_dir: Path
    profile: str | None = None
    target: str | None = None
    profiles_dir: Path | None = None

    def resolved_profiles_dir(self) -> Path:
        """--profiles-dir, else DBT_PROFILES_DIR, else the project or working folder holding
        profiles.yml, else ~/.dbt (dbt's own order)."""
        if self.profiles_dir is not None:
            return self.profiles_dir
        if os.environ.get("DBT_PROFILES_DIR"):
            return Path(os.environ["DBT_PROFILES_DIR"])
        for folder in (self.project_dir, Path.cwd()):
            if (folder / "profiles.yml").is_file():
                return folder
        return Path.home() / ".dbt"

    def profile_name(self) -> str:
        if self.profile:
            return self.profile
        import yaml  # here, not at the top: check imports this module, and reads no YAML without --target

        project_file = self.project_dir / "dbt_project.yml"
        try:
            declared = (yaml.safe_load(project_file.read_text()) or {}).get("profile")
        except (OSError, yaml.YAMLError) as error:
            raise ArtifactError(f"--profile: cannot read the profile name from {project_file}: {str(error).splitlines()[0]}") from None
        if not isinstance(declared, str) or not declared:
            raise ArtifactError(f"--profile: {project_file} names no profile; pass --profile")
        return declared


class DbtAdapterConnection:
    """A connection through dbt's adapter for a profile's target (any adapter dbt has installed)."""

    def __init__(self, where: DbtTarget) -> None:
        from argparse import Namespace  # here: check imports this module, and needs argparse only for dbt

        from dbt.adapters.factory import get_adapter, register_adapter
        from dbt.config.profile import Profile, read_profile
        from dbt.config.renderer import ProfileRenderer
        from dbt.flags import set_from_args
        from dbt.mp_context import get_mp_context
        from dbt_common.events.event_manager_client import cleanup_event_logger
        from dbt_common.exceptions import DbtBaseException

        self._error = DbtBaseException
        profiles_dir = where.resolved_profiles_dir()
        name = where.profile_name()
        profiles_file = profiles_dir / "profiles.yml"
        set_from_args(Namespace(profiles_dir=str(profiles_dir), project_dir=str(where.project_dir)), None)
        cleanup_event_logger()  # dbt's console logger would print into a report on stdout
        try:
            raw = read_profile(str(profiles_dir))
            if not raw:
                raise ArtifactError(f"--profiles-dir {profiles_dir}: no profiles.yml")
            if name not in raw:
                raise ArtifactError(f"--profile {name}: not in {profiles_file} (it has {', '.join(sorted(raw)) or 'none'})")
            outputs = (raw[name] or {}).get("outputs") or {}
            if where.target is not None and where.target not in outputs:
                raise ArtifactError(f"--target {where.target}: profile {name} in {profiles_file} has no such target (it has {', '.join(sorted(outputs)) or 'none'})")
            profile = Profile.from_raw_profiles(raw, name, ProfileRenderer({}), target_override=where.target)
        except DbtBaseException as error:
            raise ArtifactError(f"--profile {name} ({profiles_file}): {_first_line(error)}") from None
        self.dialect = profile.credentials.type
        self.label = f"dbt target {profile.target_name} of profile {name} ({self.dialect})"
        try:
            register_adapter(profile, get_mp_context())  # type: ignore[arg-type]  # a Profile is what dbt debug passes too
            self._adapter = get_adapter(profile)  # type: ignore[arg-type]
            self._adapter.connections.set_connection_name("privacy_guard")
            self.rows("select 1")
        except (DbtBaseException, QueryError) as error:
            raise ArtifactError(f"--target {profile.target_name}: cannot connect ({self.dialect}): {_first_line(error)}") from None

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        try:
            _, cursor = self._adapter.connections.add_query(sql, auto_begin=False)
            return [tuple(row) for row in cursor.fetchall()]
        except self._error as error:
            raise QueryError(_first_line(error)) from None

    def column_names(self, sql: str) -> list[str]:
        try:
            _, cursor = self._adapter.connections.add_query(f"select * from ({sql}) as described limit 0", auto_begin=False)
            cursor.fetchall()
            return [str(column[0]) for column in cursor.description or []]
        except self._error as error:
            raise QueryError(_first_line(error)) from None

    def quote(self, identifier: str) -> str:
        return str(self._adapter.quote(identifier))

    def close(self) -> None:
        self._adapter.cleanup_connections()


def _first_line(error: BaseException) -> str:
    """The message without dbt's `Database Error in ...` header lines or trailing blanks."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    meaningful = [line for line in lines if not line.lower().startswith(("database error", "runtime error", "compilation error"))]
    return (meaningful or lines or [type(error).__name__])[0]


def open_warehouse(database: Path | None, target: DbtTarget | None) -> SqlConnection | None:
    """The connection a measuring command asked for: a DuckDB file or a dbt target (not both)."""
    if database is not None and target is not None:
        raise ArtifactError("--database: give a DuckDB file or --target/--profile/--profiles-dir, not both")
    if database is not None:
        return DuckDBFile(database, "--database")
    if target is not None:
        return DbtAdapterConnection(target)
    return None
