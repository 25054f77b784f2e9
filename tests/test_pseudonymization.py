"""pseudonymize(): HMAC-SHA256 equal to Python's hmac module, and the key never written anywhere.

The fixture project runs with the dbt-duckdb plugin `python_checks.duckdb_plugin`, a known,
distinctive (canary) key and every documented option on: the audit hooks, `--debug`, a failing
pseudonymizing model, `dbt compile`, `dbt show`, `dbt docs generate`, `privacy-guard docs` and a
SARIF report. After every run of the module (passing and planted failures) the test reads every
byte written -- target/ (manifest, catalog, partial_parse.msgpack, compiled and run SQL), logs/,
the DuckDB file, the docs site and the SARIF file -- and looks for the key, its hex and its
base64 forms. Configurations that would copy the key (the audit recording its variable, a hook
or model calling env_var on it) are refused at parse/run start with one line naming them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import subprocess
import sys
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
AUDIT_HOOKS = (
    'on-run-start:\n  - "{{ privacy_guard.start_audit_run() }}"\n'
    'on-run-end:\n  - "{{ privacy_guard.write_audit_log(results) }}"\n'
)
#: A pseudonymizing model that fails at run time (a name cast to an integer).
FAILING_MODEL = "select {{ privacy_guard.pseudonymize('email') }} as email_pseudonym, cast(full_name as integer) as broken from {{ ref('people') }}\n"


def with_audit(project: Path) -> None:
    """Switch the audit on in a copy of macros_project: its hooks and vars.privacy_guard.audit."""
    config = project / "dbt_project.yml"
    text = config.read_text().replace("    default_k: 2\n", "    default_k: 2\n    audit: {enabled: true}\n")
    config.write_text(text + AUDIT_HOOKS)


def privacy_guard_cli(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "python_checks", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def pseudonyms(database: Path) -> dict[int, tuple[Any, ...]]:
    with duckdb.connect(str(database), read_only=True) as con:
        people = {row[0]: row for row in con.sql("select id, email, full_name from people").fetchall()}
        out = con.sql("select id, email_pseudonym, id_pseudonym, name_pseudonym from pseudonymized_people").fetchall()
    return {row[0]: (people[row[0]], row[1:]) for row in out}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("pseudonymization")
    project = dbt_project("macros_project", tmp, profile_extra=PLUGIN)
    with_audit(project)
    (project / "models" / "pseudonymization" / "pseudonymized_failing.sql").write_text(FAILING_MODEL)
    database = tmp / "macros_project.duckdb"
    with_key = {DEFAULT_ENV_VAR: KEY}
    runs: dict[str, DbtResult] = {}
    outputs: dict[str, subprocess.CompletedProcess[str]] = {}
    with pytest.MonkeyPatch.context() as patch:
        # "Missing" must mean missing, whatever the developer's shell exports.
        patch.delenv(DEFAULT_ENV_VAR, raising=False)
        patch.delenv(OTHER_ENV_VAR, raising=False)
        runs["ok"] = dbt(project, "build", "--select", "+pseudonymized_people", env=with_key, check=True)
        default_key_pseudonyms = pseudonyms(database)
        # Every documented way to run the project, with the key exported (the canary scan below).
        runs["debug"] = dbt(project, "--debug", "build", "--select", "+pseudonymized_people", env=with_key, check=True)
        runs["failing"] = dbt(project, "run", "--select", "pseudonymized_failing", env=with_key, check=False)
        runs["compile"] = dbt(project, "compile", "--select", "pseudonymized_people", env=with_key, check=True)
        runs["show"] = dbt(project, "show", "--select", "pseudonymized_people", env=with_key, check=True)
        runs["docs"] = dbt(project, "docs", "generate", "--select", "+pseudonymized_people", env=with_key, check=True)
        cli_env = {**os.environ, **with_key}
        target = project / "target"
        outputs["docs"] = privacy_guard_cli("docs", "--manifest", str(target / "manifest.json"), "--run-results", str(target / "run_results.json"),
                                            "--catalog", str(target / "catalog.json"), "--out", str(tmp / "privacy_docs"), cwd=project, env=cli_env)
        outputs["sarif"] = privacy_guard_cli("check", "--manifest", str(target / "manifest.json"), "--format", "sarif", "--output", str(tmp / "privacy.sarif"),
                                             "--fail-on", "never", cwd=project, env=cli_env)
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
    return {"project": project, "tmp": tmp, "runs": runs, "outputs": outputs, "default": default_key_pseudonyms, "other": other_key_pseudonyms}


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


def written_files(project: Path, tmp: Path) -> list[Path]:
    """Every file a dbt run or privacy-guard wrote for the project: target/, logs/, the DuckDB file, docs, reports."""
    files = [p for p in (project / "target").rglob("*") if p.is_file()]
    files += [p for p in (project / "logs").rglob("*") if p.is_file()]
    files += [p for p in tmp.glob(f"{project.name}.duckdb*") if p.is_file()]
    files += [p for p in (tmp / "privacy_docs").rglob("*") if p.is_file()]
    files += [p for p in tmp.glob("*.sarif") if p.is_file()]
    return files


def assert_no_key(files: list[Path], texts: list[str], keys: tuple[str, ...]) -> None:
    """No raw, hex or base64 form of any key in the files' bytes or in the texts (console output)."""
    for path in files:
        content = path.read_bytes()
        for key in keys:
            for form in leaked_forms(key):
                assert form not in content, f"{path} contains the key ({form[:8]!r}...)"
    for text in texts:
        for key in keys:
            for form in leaked_forms(key):
                assert form.decode() not in text


def test_the_key_is_in_no_file_dbt_or_privacy_guard_wrote(built: dict[str, Any]) -> None:
    project, tmp = built["project"], built["tmp"]
    files = written_files(project, tmp)
    names = {p.name for p in files}
    assert {"manifest.json", "catalog.json", "partial_parse.msgpack", "dbt.log", "macros_project.duckdb", "index.html", "privacy.sarif"} <= names
    assert any("run" in p.parts and p.name == "pseudonymized_people.sql" for p in files)
    assert built["runs"]["failing"].returncode == 1 and "pseudonymized_failing" in built["runs"]["failing"].stdout
    assert all(result.returncode == 0 for result in built["outputs"].values()), {k: r.stderr for k, r in built["outputs"].items()}
    with duckdb.connect(str(tmp / "macros_project.duckdb"), read_only=True) as con:  # the audit wrote its rows
        assert con.sql("select count(*) from main.privacy_guard_audit").fetchone()[0] > 0
        # The 9 build/run commands, less the 2 whose --vars replace vars.privacy_guard (audit off).
        assert con.sql("select count(*) from main.privacy_guard_audit_runs").fetchone()[0] == 7
    texts = [text for result in built["runs"].values() for text in (result.stdout, result.stderr)]
    texts += [text for result in built["outputs"].values() for text in (result.stdout, result.stderr)]
    assert_no_key(files, texts, (KEY, OTHER_KEY))


@pytest.fixture(scope="module")
def refused(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Configurations that would copy the key: the audit recording its variable, a hook and a model calling env_var on it."""
    tmp = tmp_path_factory.mktemp("key_refused")
    project = dbt_project("macros_project", tmp, profile_extra=PLUGIN)
    with_key = {DEFAULT_ENV_VAR: KEY}
    runs = {"audit_records_key": dbt(project, "parse", "--vars", f"{{privacy_guard: {{audit: {{enabled: true, user_env_vars: [USER, {DEFAULT_ENV_VAR}]}}}}}}", env=with_key, check=False)}
    with_audit(project)
    config = project / "dbt_project.yml"
    text = config.read_text()
    config.write_text(text.replace("  - \"{{ privacy_guard.start_audit_run() }}\"\n", "  - \"{{ privacy_guard.start_audit_run() }}\"\n  - \"select '{{ env_var('PRIVACY_GUARD_KEY') }}' as leaked\"\n"))
    runs["hook_reads_key"] = dbt(project, "build", "--select", "people", env=with_key, check=False)
    config.write_text(text)
    (project / "models" / "leaky.sql").write_text("select '{{ env_var(\"PRIVACY_GUARD_KEY\") }}' as leaked\n")
    runs["model_reads_key"] = dbt(project, "build", "--select", "people", env=with_key, check=False)
    return {"project": project, "tmp": tmp, "runs": runs}


@pytest.mark.parametrize(
    ("run", "message"),
    [
        ("audit_records_key", f"vars.privacy_guard.audit.user_env_vars lists {DEFAULT_ENV_VAR}, the pseudonymization key variable"),
        ("hook_reads_key", f"hook operation.macros_project.macros_project-on-run-start-1 calls env_var('{DEFAULT_ENV_VAR}')"),
        ("model_reads_key", f"model.macros_project.leaky (models/leaky.sql) calls env_var('{DEFAULT_ENV_VAR}')"),
    ],
)
def test_configurations_that_would_copy_the_key_are_refused(refused: dict[str, Any], run: str, message: str) -> None:
    result = refused["runs"][run]
    assert result.returncode != 0
    lines = [line for line in result.stdout.splitlines() if "privacy_guard: refusing to run" in line]
    assert len(lines) == 1 and message in lines[0], result.stdout[-3000:]
    # Refused before any node ran: no seed was loaded.
    assert "OK loaded seed" not in result.stdout


def test_a_refused_run_writes_the_key_only_where_dbt_parses_it(refused: dict[str, Any]) -> None:
    """dbt's parser itself keeps values read with env_var() in partial_parse.msgpack (the refusal says to delete target/); nothing else holds the key."""
    files = [p for p in written_files(refused["project"], refused["tmp"]) if p.name != "partial_parse.msgpack"]
    assert any(p.name == "dbt.log" for p in files)
    assert_no_key(files, [text for result in refused["runs"].values() for text in (result.stdout, result.stderr)], (KEY,))


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
