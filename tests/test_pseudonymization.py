"""pseudonymize(): HMAC-SHA256 equal to Python's hmac module, and the key never written anywhere.

The fixture project runs with the dbt-duckdb plugin `python_checks.duckdb_plugin` and a known,
distinctive key. After every build of the module (passing and planted failures) the test reads
every byte dbt left behind -- target/ (manifest, partial_parse.msgpack, compiled and run SQL),
logs/ and the DuckDB file -- and looks for the key, its hex and its base64 forms.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from pathlib import Path
from typing import Any

import duckdb
import pytest
from dbt_harness import DbtResult, dbt, dbt_project, write_profile

pytestmark = pytest.mark.dbt

KEY = "pg-test-key-Qx7v_Nk2-zz91-LEAKCANARY"
OTHER_KEY = "hr-test-key-Wb4m_Tr8-yy37-LEAKCANARY"
DEFAULT_ENV_VAR = "PRIVACY_GUARD_KEY"
OTHER_ENV_VAR = "HR_PSEUDONYM_KEY"
PLUGIN = "plugins:\n  - module: python_checks.duckdb_plugin"


def pseudonyms(database: Path) -> dict[int, tuple[Any, ...]]:
    with duckdb.connect(str(database), read_only=True) as con:
        people = {row[0]: row for row in con.sql("select id, email, full_name from people").fetchall()}
        out = con.sql("select id, email_pseudonym, id_pseudonym, name_pseudonym from pseudonymized_people").fetchall()
    return {row[0]: (people[row[0]], row[1:]) for row in out}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("pseudonymization")
    project = dbt_project("macros_project", tmp, profile_extra=PLUGIN)
    database = tmp / "macros_project.duckdb"
    with_key = {DEFAULT_ENV_VAR: KEY}
    runs: dict[str, DbtResult] = {}
    with pytest.MonkeyPatch.context() as patch:
        # "Missing" must mean missing, whatever the developer's shell exports.
        patch.delenv(DEFAULT_ENV_VAR, raising=False)
        patch.delenv(OTHER_ENV_VAR, raising=False)
        runs["ok"] = dbt(project, "build", "--select", "+pseudonymized_people", env=with_key, check=True)
        default_key_pseudonyms = pseudonyms(database)
        runs["missing"] = dbt(project, "run", "--select", "pseudonymized_people", check=False)
        runs["short"] = dbt(project, "run", "--select", "pseudonymized_people", env={DEFAULT_ENV_VAR: "too-short"}, check=False)
        runs["view"] = dbt(project, "run", "--select", "pseudonymized_view", env=with_key, check=False)
        other_vars = f"{{privacy_guard: {{key_env_var: {OTHER_ENV_VAR}}}}}"
        runs["mismatch"] = dbt(project, "run", "--select", "pseudonymized_people", "--vars", other_vars, env={OTHER_ENV_VAR: OTHER_KEY}, check=False)
        write_profile(project, "macros_project", database, f"{PLUGIN}\n    config: {{key_env_var: {OTHER_ENV_VAR}}}")
        runs["other_env_var"] = dbt(project, "run", "--select", "pseudonymized_people", "--vars", other_vars, env={OTHER_ENV_VAR: OTHER_KEY}, check=True)
        other_key_pseudonyms = pseudonyms(database)
        write_profile(project, "macros_project", database)
        runs["no_plugin"] = dbt(project, "run", "--select", "pseudonymized_people", env=with_key, check=False)
    return {"project": project, "tmp": tmp, "runs": runs, "default": default_key_pseudonyms, "other": other_key_pseudonyms}


def expected(key: str, value: Any) -> str | None:
    return None if value is None else hmac.new(key.encode(), str(value).encode(), hashlib.sha256).hexdigest()


@pytest.mark.parametrize(("which", "key"), [("default", KEY), ("other", OTHER_KEY)])
def test_pseudonyms_equal_python_hmac(built: dict[str, Any], which: str, key: str) -> None:
    rows = built[which]
    assert len(rows) == 11
    for (person_id, email, name), (email_pseudonym, id_pseudonym, name_pseudonym) in rows.values():
        assert email_pseudonym == expected(key, email)
        assert id_pseudonym == expected(key, person_id)
        assert name_pseudonym == expected(key, name)
    assert any(name is None for (_, _, name), _ in rows.values()), "a NULL stays NULL"
    assert any(name and not name.isascii() for (_, _, name), _ in rows.values()), "UTF-8 text"


def test_other_key_gives_other_pseudonyms(built: dict[str, Any]) -> None:
    assert all(built["default"][i][1][0] != built["other"][i][1][0] for i in built["default"] if built["default"][i][0][1])


def leaked_forms(key: str) -> list[bytes]:
    raw = key.encode()
    return [raw, raw.hex().encode(), raw.hex().upper().encode(), base64.b64encode(raw), base64.urlsafe_b64encode(raw), base64.b64encode(raw).rstrip(b"=")]


def test_the_key_is_in_no_file_dbt_wrote(built: dict[str, Any]) -> None:
    project, tmp = built["project"], built["tmp"]
    files = [p for p in (project / "target").rglob("*") if p.is_file()]
    files += [p for p in (project / "logs").rglob("*") if p.is_file()]
    files += [p for p in tmp.glob("macros_project.duckdb*") if p.is_file()]
    names = {p.name for p in files}
    assert {"manifest.json", "partial_parse.msgpack", "dbt.log", "macros_project.duckdb"} <= names
    assert any("run" in p.parts and p.name == "pseudonymized_people.sql" for p in files)
    for path in files:
        content = path.read_bytes()
        for key in (KEY, OTHER_KEY):
            for form in leaked_forms(key):
                assert form not in content, f"{path} contains the key ({form[:8]!r}...)"
    for result in built["runs"].values():
        for key in (KEY, OTHER_KEY):
            assert key not in result.stdout and key not in result.stderr


@pytest.mark.parametrize(
    ("run", "message"),
    [
        ("missing", f"privacy_guard.pseudonymize: environment variable {DEFAULT_ENV_VAR} is not set"),
        ("short", f"privacy_guard.pseudonymize: the key in environment variable {DEFAULT_ENV_VAR} is shorter than 16 characters"),
        ("view", "privacy_guard.pseudonymize: materialize this model as a table"),
        ("mismatch", f"vars.privacy_guard.key_env_var is {OTHER_ENV_VAR} but the duckdb plugin reads {DEFAULT_ENV_VAR}"),
        ("no_plugin", "add `plugins: [{module: python_checks.duckdb_plugin}]` to this target's output in profiles.yml"),
    ],
)
def test_unusable_set_up_fails_the_build_with_one_clear_line(built: dict[str, Any], run: str, message: str) -> None:
    result = built["runs"][run]
    assert result.returncode == 1
    lines = [line for line in result.stdout.splitlines() if "privacy_guard.pseudonymize" in line]
    assert len(lines) == 1 and message in lines[0], result.stdout[-2000:]
    assert "too-short" not in result.stdout
