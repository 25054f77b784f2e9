"""A throwaway PostgreSQL server for the adapter suite: initdb + pg_ctl in a temp dir.

Loopback only, trust auth, a free port; run as the `postgres` user when we are root (initdb
refuses root). `stop()` is registered as a pytest finalizer, so the server dies with the session
even when tests fail.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg2


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    assert found, f"no PostgreSQL {name}: run scripts/install_system_deps.sh postgres (make test-postgres does)"
    return found[-1]


def _as_owner(args: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class PostgresServer:
    data_dir: Path
    port: int
    user: str = "postgres"
    host: str = "127.0.0.1"

    def stop(self) -> None:
        subprocess.run(_as_owner([_bin("pg_ctl"), "-D", str(self.data_dir), "-m", "immediate", "stop"]), capture_output=True)
        shutil.rmtree(self.data_dir.parent, ignore_errors=True)

    def psql(self, sql: str, database: str = "postgres", env: dict[str, str] | None = None) -> str:
        proc = subprocess.run(
            ["psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", self.host, "-p", str(self.port), "-U", self.user, "-d", database, "-c", sql],
            capture_output=True, text=True, env={**os.environ, **(env or {})},
        )
        assert proc.returncode == 0, proc.stderr
        return proc.stdout.strip()

    def query(self, sql: str, database: str, parameters: list[Any] | None = None) -> list[tuple[Any, ...]]:
        """Rows of one statement, typed by psycopg2 (NULL is None)."""
        with psycopg2.connect(host=self.host, port=self.port, user=self.user, dbname=database) as connection:
            with connection.cursor() as cursor:
                cursor.execute(sql, parameters)
                return cursor.fetchall()

    def load_csv(self, database: str, table: str, csv_file: Path, integer_columns: list[str], delimiter: str = ";") -> None:
        """A table (schema created) with the CSV's header as columns, text except integer_columns, and its rows."""
        header = csv_file.open(encoding="utf-8").readline().strip().split(delimiter)
        columns = ", ".join(f'"{name}" {"integer" if name in integer_columns else "text"}' for name in header)
        schema = table.split(".")[0]
        with psycopg2.connect(host=self.host, port=self.port, user=self.user, dbname=database) as connection:
            with connection.cursor() as cursor, csv_file.open(encoding="utf-8") as rows:
                cursor.execute(f"create schema if not exists {schema}; create table {table} ({columns})")
                cursor.copy_expert(f"copy {table} from stdin with (format csv, header true, delimiter '{delimiter}')", rows)

    def create_database(self, name: str) -> None:
        self.psql(f'create database "{name}"')
        self.psql("create extension if not exists pgcrypto", database=name)


def start() -> PostgresServer:
    root = Path(tempfile.mkdtemp(prefix="privacy_guard_pg_"))
    data = root / "data"
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    port = _free_port()
    subprocess.run(_as_owner([_bin("initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"]), check=True, capture_output=True)
    options = f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(_as_owner([_bin("pg_ctl"), "-D", str(data), "-o", options, "-w", "-l", str(data / "server.log"), "start"]), check=True, capture_output=True)
    return PostgresServer(data, port)


def dbt_output(server: PostgresServer, database: str) -> str:
    """The dbt-postgres output block (YAML) for dbt_harness.copy_project(output=...)."""
    return (
        f"type: postgres\nhost: {server.host}\nport: {server.port}\nuser: {server.user}\n"
        f"password: ''\ndbname: {database}\nschema: main\nthreads: 2"
    )
