"""The run audit log: real `dbt build`s of tests/fixtures/audit_project with the hook enabled.

The fixture plants one failing test (visit_counts.repeat_visits not_null: 3 NULL rows) and one
warning (stg_clinic.diagnosis not_null, severity warn: 1 NULL row). Two builds by two users must
leave one row per executed node and invocation, matching run_results.json; a third build with
the audit switched off must add nothing. A second copy with the on-run-start hook and a slow model
is stopped by SIGINT and by SIGTERM after its first nodes were built: the next run shows both
runs as interrupted in the history.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest
from dbt_harness import dbt, dbt_project, dbt_started

pytestmark = pytest.mark.dbt

AUDIT_TABLE = "audit_log.privacy_guard_audit"
HISTORY_VIEW = "main_privacy_guard.privacy_guard_audit_history"
# Test names (their unique ids end in a hash).
FAILING_TEST = "not_null_visit_counts_repeat_visits"
WARNING_TEST = "not_null_stg_clinic_diagnosis"
HISTORY_MODEL = "model.privacy_guard.privacy_guard_audit_history"


def _rows(database: Path, sql: str) -> list[dict[str, Any]]:
    with duckdb.connect(str(database), read_only=True) as con:
        cursor = con.execute(sql)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Two audited builds (users alice, bob), then one with the audit disabled."""
    tmp = tmp_path_factory.mktemp("audit")
    project = dbt_project("audit_project", tmp)
    runs = []
    for user in ["alice", "bob"]:
        result = dbt(project, "build", env={"DBT_USER": user}, check=False)  # the planted test fails
        runs.append({"user": user, "run_results": result.run_results})
    manifest = json.loads((project / "target" / "manifest.json").read_text())
    database = tmp / "audit_project.duckdb"
    rows_before_disabled = _rows(database, f"select count(*) as n from {AUDIT_TABLE}")[0]["n"]
    disabled = dbt(project, "build", "--vars", "{privacy_guard: {audit: {enabled: false}}}", env={"DBT_USER": "carol"}, check=False)
    return {
        "project": project,
        "runs": runs,
        "manifest": manifest,
        "database": database,
        "rows_before_disabled": rows_before_disabled,
        "disabled_run_results": disabled.run_results,
        "audit": _rows(database, f"select * from {AUDIT_TABLE}"),
    }


def _executed(run: dict[str, Any]) -> list[dict[str, Any]]:
    """run_results.json's results less the hooks (the on-run-end hook is still running when it writes)."""
    return [r for r in run["run_results"]["results"] if not r["unique_id"].startswith("operation.")]


def _by_invocation(audited: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for row in audited["audit"]:
        grouped.setdefault(row["invocation_id"], []).append(row)
    return grouped


def test_one_row_per_executed_node_and_invocation(audited: dict[str, Any]) -> None:
    grouped = _by_invocation(audited)
    expected_ids = [run["run_results"]["metadata"]["invocation_id"] for run in audited["runs"]]
    assert sorted(grouped) == sorted(expected_ids)
    for run in audited["runs"]:
        rows = grouped[run["run_results"]["metadata"]["invocation_id"]]
        results = _executed(run)
        assert len(results) == 12  # 2 seeds, 4 models + the history model, 5 tests
        assert len(rows) == len(results)
        assert {r["unique_id"]: (r["status"], r["failures"]) for r in rows} == {
            r["unique_id"]: (r["status"], r["failures"]) for r in results
        }


def test_planted_failures_and_warning_are_recorded(audited: dict[str, Any]) -> None:
    nodes = audited["manifest"]["nodes"]
    for rows in _by_invocation(audited).values():
        by_id = {nodes[r["unique_id"]]["name"]: r for r in rows}
        assert (by_id[FAILING_TEST]["status"], by_id[FAILING_TEST]["failures"]) == ("fail", 3)
        assert (by_id[WARNING_TEST]["status"], by_id[WARNING_TEST]["failures"]) == ("warn", 1)
        failing = sorted(name for name, r in by_id.items() if r["status"] in {"fail", "warn", "error"})
        assert failing == sorted([FAILING_TEST, WARNING_TEST])


def test_who_when_and_which_dbt(audited: dict[str, Any]) -> None:
    grouped = _by_invocation(audited)
    for run in audited["runs"]:
        metadata = run["run_results"]["metadata"]
        rows = grouped[metadata["invocation_id"]]
        assert {r["user_name"] for r in rows} == {run["user"]}
        assert {r["dbt_version"] for r in rows} == {metadata["dbt_version"]}
        assert {r["target_name"] for r in rows} == {"dev"}
        assert len({r["run_started_at"] for r in rows}) == 1
        for row in rows:
            assert row["run_started_at"] <= row["node_started_at"] <= row["node_finished_at"]
        timings = {r["unique_id"]: r["execution_time"] for r in _executed(run)}
        assert {r["unique_id"]: float(r["execution_time_s"]) for r in rows} == pytest.approx(timings, abs=1e-5)


def test_privacy_settings_equal_the_node_meta(audited: dict[str, Any]) -> None:
    nodes = audited["manifest"]["nodes"]
    declared = 0
    for row in audited["audit"]:
        node = nodes[row["unique_id"]]
        privacy = node["config"].get("meta", {}).get("privacy", {})
        assert json.loads(row["privacy_json"]) == privacy, row["unique_id"]
        columns = {
            name: column["config"]["meta"]["privacy"]
            for name, column in node["columns"].items()
            if column.get("config", {}).get("meta", {}).get("privacy")
        }
        assert json.loads(row["column_privacy_json"]) == columns, row["unique_id"]
        declared += bool(privacy)
    # 2 seeds, 4 fixture models and the history model declare a policy, in both audited runs.
    assert declared == 2 * 7


def test_history_view_orders_runs(audited: dict[str, Any]) -> None:
    history = _rows(audited["database"], f"select invocation_id, runs_ago, count(*) as n from {HISTORY_VIEW} group by all")
    first, second = (run["run_results"]["metadata"]["invocation_id"] for run in audited["runs"])
    assert {(h["invocation_id"], h["runs_ago"]) for h in history} == {(first, 1), (second, 0)}
    # The history model itself ran (and was audited) in both builds.
    assert all(HISTORY_MODEL in {r["unique_id"] for r in rows} for rows in _by_invocation(audited).values())


def test_disabled_audit_writes_nothing(audited: dict[str, Any]) -> None:
    assert len(audited["audit"]) == audited["rows_before_disabled"]
    ran = {r["unique_id"] for r in audited["disabled_run_results"]["results"]}
    assert "model.audit_project.visit_counts" in ran
    assert HISTORY_MODEL not in ran  # the history model follows the audit switch


RUNS_TABLE = "audit_log.privacy_guard_audit_runs"
SLOW_MODEL = "slow_report"


def _interrupted_build(project: Path, signum: int) -> dict[str, Any]:
    """`dbt build`, stopped with `signum` once the seeds are built and the slow model has started."""
    proc = dbt_started(project, "build")
    seen: list[str] = []
    assert proc.stdout is not None
    for line in proc.stdout:
        seen.append(line)
        if "START sql table model" in line and SLOW_MODEL in line:
            proc.send_signal(signum)
            break
    output = "".join(seen) + proc.stdout.read()
    proc.stdout.close()
    returncode = proc.wait(timeout=120)
    return {"returncode": returncode, "output": output}


@pytest.fixture(scope="module")
def interrupted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Build stopped by SIGINT, one stopped by SIGTERM, then a complete build (without the slow model)."""
    tmp = tmp_path_factory.mktemp("audit_interrupted")
    project = dbt_project("audit_project", tmp)
    config = project / "dbt_project.yml"
    config.write_text(config.read_text().replace("on-run-end:", 'on-run-start:\n  - "{{ privacy_guard.start_audit_run() }}"\non-run-end:'))
    # Runs after the seeds (it reads one); sleeps long enough to be stopped while it runs.
    (project / "models" / f"{SLOW_MODEL}.sql").write_text("select count(*) as n, max(sleep_ms(8000)) as slept from {{ ref('hr_employees') }}\n")
    database = tmp / "audit_project.duckdb"
    stopped = [_interrupted_build(project, signum) for signum in (signal.SIGINT, signal.SIGTERM)]
    seeds_after_first = _rows(database, "select count(*) as n from main.hr_employees")[0]["n"]
    complete = dbt(project, "build", "--exclude", SLOW_MODEL, env={"DBT_USER": "dave"}, check=False)  # the planted test fails
    return {
        "stopped": stopped,
        "seeds_after_first": seeds_after_first,
        "complete": complete.run_results,
        "runs": _rows(database, f"select * from {RUNS_TABLE} order by run_started_at"),
        "history": _rows(database, f"select * from {HISTORY_VIEW} order by runs_ago desc, unique_id"),
    }


def test_interrupted_runs_are_marked_at_the_next_run(interrupted: dict[str, Any]) -> None:
    sigint, sigterm = interrupted["stopped"]
    assert sigint["returncode"] != 0 and sigterm["returncode"] != 0
    assert interrupted["seeds_after_first"] > 0  # nodes were rebuilt before the stop
    runs = interrupted["runs"]
    assert len(runs) == 3
    assert [r["run_finished_at"] is None for r in runs] == [True, True, False]
    assert {r["command"] for r in runs} == {"build"}
    latest = interrupted["complete"]["metadata"]["invocation_id"]
    assert runs[2]["invocation_id"] == latest
    by_run: dict[str, list[dict[str, Any]]] = {}
    for row in interrupted["history"]:
        by_run.setdefault(row["invocation_id"], []).append(row)
    first, second = runs[0]["invocation_id"], runs[1]["invocation_id"]
    for invocation, runs_ago in [(first, 2), (second, 1)]:
        [row] = by_run[invocation]  # one row per unfinished run, no node rows
        assert (row["run_status"], row["runs_ago"], row["unique_id"], row["status"]) == ("interrupted", runs_ago, None, None)
    completed = by_run[latest]
    assert {r["run_status"] for r in completed} == {"completed"} and {r["runs_ago"] for r in completed} == {0}
    assert len(completed) == len(_executed({"run_results": interrupted["complete"]}))


def test_docs_history_lists_the_audited_runs(audited: dict[str, Any], tmp_path: Path) -> None:
    """`docs --database`: one row per audited invocation; the counts come from the audit rows and the manifest."""
    project = audited["project"]
    target = project / "target"
    run = subprocess.run(
        [sys.executable, "-m", "python_checks", "docs", "--manifest", str(target / "manifest.json"), "--project-dir", str(project),
         "--run-results", str(target / "run_results.json"), "--database", str(audited["database"]), "--out", str(tmp_path / "site")],
        capture_output=True, text=True,
    )
    assert run.returncode == 0, run.stderr
    html = (tmp_path / "site" / "index.html").read_text()
    table = re.search(r'<table class="summary" id="audit-runs">.*?</table>', html, re.S).group(0)
    shown = [[re.sub(r"<[^>]+>", "", cell) for cell in re.findall(r"<td>(.*?)</td>", row)] for row in re.findall(r"<tr data-invocation[^>]*>(.*?)</tr>", table)]
    # Released models of the fixture: personal models that are not staging; their k_anonymity/min_cell_size tests.
    nodes = audited["manifest"]["nodes"]
    protecting = {t["unique_id"] for t in nodes.values() if t["resource_type"] == "test" and (t.get("test_metadata") or {}).get("name") in {"k_anonymity", "min_cell_size"}
                  and not nodes[t["attached_node"]]["name"].startswith("stg_")}
    expected = []
    for invocation in sorted(_by_invocation(audited).values(), key=lambda rows: rows[0]["run_started_at"]):
        statuses = {row["unique_id"]: row["status"] for row in invocation}
        expected.append([invocation[0]["user_name"], str(len(invocation)), str(sum(s in {"fail", "error"} for s in statuses.values())),
                         str(len(protecting & set(statuses))), f"{sum(statuses.get(t) == 'pass' for t in protecting)} of 2"])
    assert [row[1:] for row in shown] == expected
    assert [row[0] for row in expected] == ["alice", "bob"] and expected[0][3] == "1"
