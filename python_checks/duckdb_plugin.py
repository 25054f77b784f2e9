"""dbt-duckdb plugin that gives `privacy_guard.pseudonymize` a keyed hash without a key in SQL.

DuckDB has `sha256` but no HMAC, and an HMAC written in SQL needs the key as a literal, which dbt
would then write into compiled SQL, run SQL, logs and view DDL. Instead this plugin registers two
connection-level Python functions when dbt-duckdb opens its connection:

- `privacy_guard_hmac_sha256(value VARCHAR) -> VARCHAR`: lower-case hex HMAC-SHA256 of the value
  (UTF-8) under the key, i.e. `hmac.new(key, value.encode(), sha256).hexdigest()`;
- `privacy_guard_key_status() -> VARCHAR`: `<state>:<env var name>` with state one of `ok`,
  `missing`, `empty`, `short`, so the macro can fail the build with a message that names the
  variable -- never its value.

The key is read from the process environment inside Python, at call time, so it reaches neither
Jinja (dbt records the values `env_var()` renders, e.g. in partial_parse.msgpack) nor any SQL.

Profile (profiles.yml, the dbt-duckdb output)::

    plugins:
      - module: python_checks.duckdb_plugin
        config: {key_env_var: PRIVACY_GUARD_KEY}   # optional; must equal vars.privacy_guard.key_env_var
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Callable
from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin
from duckdb import DuckDBPyConnection
from duckdb.sqltypes import VARCHAR

from python_checks.contract import definition

#: The contract's default for vars.privacy_guard.key_env_var, which the macro checks against.
DEFAULT_KEY_ENV_VAR: str = definition("project")["properties"]["key_env_var"]["default"]
#: Shorter keys make the pseudonyms of low-entropy values (dates, postcodes) guessable by brute
#: force over the key; 16 characters is the floor, a random 32-byte hex string the recommendation.
MIN_KEY_LENGTH = 16

HMAC_FUNCTION = "privacy_guard_hmac_sha256"
STATUS_FUNCTION = "privacy_guard_key_status"


class KeyUnavailable(RuntimeError):
    """The key cannot be used; the message names the variable, never its value."""


def key_status(env_var: str) -> str:
    """`<state>:<env_var>`: whether the environment holds a usable key (the value is never returned)."""
    value = os.environ.get(env_var)
    if value is None:
        state = "missing"
    elif not value:
        state = "empty"
    elif len(value) < MIN_KEY_LENGTH:
        state = "short"
    else:
        state = "ok"
    return f"{state}:{env_var}"


def _key(env_var: str) -> bytes:
    """The key's bytes, read from the environment at call time."""
    status = key_status(env_var)
    if not status.startswith("ok:"):
        raise KeyUnavailable(f"privacy_guard: pseudonymization key unavailable ({status})")
    return os.environ[env_var].encode()


def _hmac_sha256_udf(env_var: str) -> Callable[[str], str]:
    """The per-row UDF body. The key is read from the environment on the first call that needs it
    and kept for the process: a missing key fails the statement that needs it (not the connection
    of a build that never pseudonymizes), and a per-row environment read made the UDF measurably
    slower (bench/bench_pseudonymize.py). hmac.digest is OpenSSL's one-shot HMAC."""
    loaded: list[bytes] = []

    def hmac_sha256(value: str) -> str:
        if not loaded:
            loaded.append(_key(env_var))
        return hmac.digest(loaded[0], value.encode(), "sha256").hex()

    return hmac_sha256


class Plugin(BasePlugin):
    """Registers the HMAC and key-status functions on every connection dbt-duckdb opens."""

    def initialize(self, plugin_config: dict[str, Any]) -> None:
        self.key_env_var = str(plugin_config.get("key_env_var") or DEFAULT_KEY_ENV_VAR)

    def configure_connection(self, conn: DuckDBPyConnection) -> None:
        env_var = self.key_env_var
        conn.create_function(HMAC_FUNCTION, _hmac_sha256_udf(env_var), [VARCHAR], VARCHAR)
        # side_effects: the status must be evaluated when queried, never folded or cached.
        conn.create_function(STATUS_FUNCTION, lambda: key_status(env_var), [], VARCHAR, side_effects=True)
