"""The package parses on other adapters (postgres, and spark with `make test-spark`: no server needed to parse).

A consumer that calls every public macro and every generic test, plus the audit hooks, must parse
through the `default__` dispatch fallbacks. The list of public macros is read from macros/, so a
macro added later without a call here fails this test.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from dbt_harness import FIXTURES, REPO_ROOT, copy_project, dbt

pytestmark = pytest.mark.dbt

OTHER_ADAPTER = FIXTURES / "consumer" / "other_adapter"
POSTGRES_PROFILE = """privacy_guard_fixture:
  target: dev
  outputs:
    dev:
      type: postgres
      host: localhost
      port: 5432
      user: nobody
      password: unused
      dbname: nowhere
      schema: analytics
      threads: 1
"""
SPARK_PROFILE = """privacy_guard_fixture:
  target: dev
  outputs:
    dev:
      type: spark
      method: session
      host: NA
      schema: analytics
      threads: 1
"""
# The dry-run purge as an on-run-end hook too: a run-operation is never rendered by `dbt parse`.
HOOK = "on-run-end:\n  - \"{{ privacy_guard.write_audit_log(results) }}\"\n  - \"{{ privacy_guard.purge_expired(dry_run=true) }}\"\n"
#: The audit's on-run-start hook, put first in the consumer's own on-run-start list.
START_HOOK = "  - \"{{ privacy_guard.start_audit_run() }}\"\n"


def with_audit_hooks(dbt_project_yml: str) -> str:
    """The consumer's dbt_project.yml with both audit hooks added."""
    return dbt_project_yml.replace("on-run-start:\n", "on-run-start:\n" + START_HOOK, 1) + HOOK


def public_macros() -> set[str]:
    """Names of the package's public macros and tests (not `_private`, not adapter bodies)."""
    names = set()
    for path in (REPO_ROOT / "macros").rglob("*.sql"):
        for _kind, name in re.findall(r"\{%-?\s*(macro|test)\s+([a-z][a-z0-9_]*)\s*\(", path.read_text()):
            if not re.match(r"^(default|[a-z]+)__", name):
                names.add(name)
    return names


def test_every_public_macro_is_called_by_the_fixture() -> None:
    # The consumer's own dbt_project.yml calls validate_meta from its on-run-start hook.
    sources = [*OTHER_ADAPTER.iterdir(), FIXTURES / "consumer" / "dbt_project.yml"]
    fixture_text = "\n".join(path.read_text() for path in sources[:-1]) + with_audit_hooks(sources[-1].read_text())
    called = set(re.findall(r"privacy_guard\.([a-z][a-z0-9_]*)", fixture_text))
    assert public_macros() - called == set()


@pytest.mark.parametrize("profile", [pytest.param(POSTGRES_PROFILE, id="postgres"), pytest.param(SPARK_PROFILE, marks=pytest.mark.spark, id="spark")])
def test_consumer_using_every_macro_parses(tmp_path: Path, profile: str) -> None:
    project = copy_project("consumer", tmp_path)
    for path in OTHER_ADAPTER.iterdir():
        shutil.copy(path, project / "models" / path.name)
    config = project / "dbt_project.yml"
    config.write_text(with_audit_hooks(config.read_text()))
    assert "privacy_guard.start_audit_run()" in config.read_text()
    (project / "profiles.yml").write_text(profile)
    dbt(project, "deps", check=True)
    result = dbt(project, "parse", check=True)
    assert "Traceback" not in result.stdout + result.stderr
