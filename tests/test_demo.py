"""One real `dbt build` of the demo (a tmp copy of examples/demo), checked from the outside.

What the demo promises is re-computed in Python from the DuckDB file and the generated seeds:
k/l/t over the declared quasi-identifiers, no identifier value in any analysis output, no row
past its retention, pseudonyms that are the HMAC of the e-mail. The policy (QIs, k, retention)
is read from the manifest, i.e. from the demo's YAML; the SQL that applied it is not consulted.
"""

from __future__ import annotations

import hashlib
import hmac
import importlib
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml
from dbt_harness import REPO_ROOT
from demo_build import DEMO_DIR, DEMO_KEY, DemoBuild

pytestmark = pytest.mark.dbt  # reads the session's real dbt build of the demo (conftest.py `demo`)

PLANTED = "marketing_health_targeting"
ANALYSIS_MODELS = [
    "workforce_health_research",
    "hr_pay_equity",
    "customer_service_insights",
    "clinic_diagnosis_trends",
    "support_ticket_log",
    PLANTED,
]
STAGING_MODELS = ["stg_hr__roster", "stg_clinic__visits", "stg_sales__customers", "stg_support__tickets"]
#: Every privacy test the demo attaches: (test, model). All must pass.
EXPECTED_PRIVACY_TESTS = {
    ("retention_limit", "stg_hr__roster"),
    ("retention_limit", "stg_clinic__visits"),
    ("retention_limit", "stg_sales__customers"),
    ("retention_limit", "stg_support__tickets"),
    ("k_anonymity", "workforce_health_research"),
    ("l_diversity", "workforce_health_research"),
    ("t_closeness", "workforce_health_research"),
    ("no_direct_identifiers", "workforce_health_research"),
    ("k_anonymity", "hr_pay_equity"),
    ("l_diversity", "hr_pay_equity"),
    ("no_direct_identifiers", "hr_pay_equity"),
    ("min_cell_size", "customer_service_insights"),
    ("retention_limit", "customer_service_insights"),
    ("no_direct_identifiers", "customer_service_insights"),
    ("min_cell_size", "clinic_diagnosis_trends"),
    ("retention_limit", "clinic_diagnosis_trends"),
    ("no_direct_identifiers", "clinic_diagnosis_trends"),
    ("retention_limit", "support_ticket_log"),
    ("no_direct_identifiers", "support_ticket_log"),
}
#: The contract's defaults where the demo declares no l / t (python_checks/schema).
DEFAULT_L, DEFAULT_T = 2, 0.2
#: The direct identifiers the generator writes into each raw table.
RAW_IDENTIFIERS = {
    "raw_hr__roster": ["employee_id", "email", "name"],
    "raw_clinic__visits": ["patient_email", "patient_ssn"],
    "raw_sales__customers": ["customer_id", "email"],
    "raw_support__tickets": ["email"],
}


def privacy(node: dict[str, Any]) -> dict[str, Any]:
    return node["config"]["meta"].get("privacy", {})


def columns_of_class(node: dict[str, Any], column_class: str) -> list[str]:
    return [name for name, column in node["columns"].items() if column["config"]["meta"]["privacy"].get("class") == column_class]


def classes(rows: list[dict[str, Any]], quasi_identifiers: list[str]) -> dict[tuple[Any, ...], list[dict[str, Any]]]:
    """Equivalence classes: rows grouped by their QI values (NULL is one value, as in GROUP BY)."""
    grouped: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        grouped[tuple(row[name] for name in quasi_identifiers)].append(row)
    return grouped


def test_every_node_builds_and_every_privacy_test_passes(demo: DemoBuild) -> None:
    statuses = demo.result.statuses()
    privacy_tests = {}
    for unique_id, node in demo.manifest["nodes"].items():
        metadata = node.get("test_metadata") or {}
        if node["resource_type"] == "test" and metadata.get("namespace") == "privacy_guard":
            tested = demo.manifest["nodes"][node["attached_node"]]["name"]
            privacy_tests[(metadata["name"], tested)] = statuses[unique_id]
    assert set(privacy_tests) == EXPECTED_PRIVACY_TESTS
    assert set(privacy_tests.values()) == {"pass"}
    assert {status for uid, status in statuses.items() if not uid.startswith("test.")} == {"success"}


@pytest.mark.parametrize("model", ["workforce_health_research", "hr_pay_equity"])
def test_microdata_is_k_anonymous_and_l_diverse_over_its_declared_quasi_identifiers(demo: DemoBuild, model: str) -> None:
    node = demo.node(model)
    quasi_identifiers = columns_of_class(node, "quasi_identifier")
    (sensitive,) = columns_of_class(node, "sensitive")
    rows = demo.rows(model)
    grouped = classes(rows, quasi_identifiers)
    assert len(quasi_identifiers) == 3 and len(rows) > 500
    assert min(map(len, grouped.values())) >= privacy(node)["k"]
    assert min(len({row[sensitive] for row in members}) for members in grouped.values()) >= privacy(node).get("l", DEFAULT_L)


def test_research_model_is_t_close_and_suppression_removed_rows(demo: DemoBuild) -> None:
    node = demo.node("workforce_health_research")
    rows = demo.rows("workforce_health_research")
    (sensitive,) = columns_of_class(node, "sensitive")
    table = Counter(row[sensitive] for row in rows)

    def distance(members: list[dict[str, Any]]) -> float:
        """Equal-distance EMD = total variation between a class's and the table's distribution."""
        counts = Counter(row[sensitive] for row in members)
        return sum(abs(counts[value] / len(members) - table[value] / len(rows)) for value in table) / 2

    worst = max(map(distance, classes(rows, columns_of_class(node, "quasi_identifier")).values()))
    assert 0 < worst <= privacy(node).get("t", DEFAULT_T)
    staff = {row["person_key"] for row in demo.rows("stg_hr__roster")}
    staff_visits = sum(row["person_key"] in staff for row in demo.rows("stg_clinic__visits"))
    assert 0 < len(rows) < staff_visits  # the small classes really were dropped


def test_local_suppression_keeps_every_employee_and_blanks_only_rare_ones(demo: DemoBuild) -> None:
    rows = demo.rows("hr_pay_equity")
    blanked = [row for row in rows if row["age_band"] is None]
    assert len(rows) == len(demo.rows("stg_hr__roster"))
    assert 0 < len(blanked) < len(rows) / 10
    assert all(row["sex"] is None and row["job_family"] is None and row["salary_band"] for row in blanked)


@pytest.mark.parametrize(("model", "count_column"), [("customer_service_insights", "ticket_count"), ("clinic_diagnosis_trends", "visit_count")])
def test_aggregates_publish_no_cell_under_k(demo: DemoBuild, model: str, count_column: str) -> None:
    k = privacy(demo.node(model))["k"]
    counts = [row[count_column] for row in demo.rows(model)]
    published = [count for count in counts if count is not None]
    assert all(count >= k for count in published)
    assert 0 < len(published) < len(counts)  # some cells were suppressed, some published


def raw_identifier_values(demo: DemoBuild) -> set[str]:
    """Every direct identifier the generator wrote."""
    return {row[column] for seed, columns in RAW_IDENTIFIERS.items() for row in demo.seed_csv(seed) for column in columns}


def identifier_values(demo: DemoBuild) -> set[str]:
    """Every direct identifier the generator wrote, and every pseudonym the staging models made."""
    return raw_identifier_values(demo).union(*({row["person_key"] for row in demo.rows(model)} for model in STAGING_MODELS))


def cell_values(demo: DemoBuild, model: str) -> set[str]:
    return {str(value) for row in demo.rows(model) for value in row.values() if value is not None}


def test_staging_publishes_the_pseudonym_and_no_raw_identifier(demo: DemoBuild) -> None:
    raw = raw_identifier_values(demo)
    assert len(raw) > 10000
    for model in STAGING_MODELS:
        assert not cell_values(demo, model) & raw, f"{model} publishes a raw identifier"
        assert set(RAW_IDENTIFIERS[f"raw{model[3:]}"]).isdisjoint(demo.node(model)["columns"])


def test_no_identifier_value_reaches_an_analysis_model_except_the_planted_one(demo: DemoBuild) -> None:
    identifiers = identifier_values(demo)
    assert len(identifiers) > 10000
    for model in ANALYSIS_MODELS:
        leaked = cell_values(demo, model) & identifiers
        if model == PLANTED:
            assert len(leaked) > 500, "the planted model is meant to expose raw e-mails"
        else:
            assert not leaked, f"{model} exposes {len(leaked)} identifier values"


def test_no_row_outlives_its_declared_retention(demo: DemoBuild) -> None:
    checked = []
    for node in demo.manifest["nodes"].values():
        retention = privacy(node).get("retention", {}) if node["resource_type"] == "model" else {}
        if "date_column" in retention:
            cutoff = date.today() - timedelta(days=retention["days"])
            dates = [row[retention["date_column"]] for row in demo.rows(node["name"])]
            assert dates and min(dates) >= cutoff, node["name"]
            checked.append(node["name"])
    assert len(checked) == 7


@pytest.mark.parametrize(
    ("staging", "seed", "date_column", "email_column"),
    [
        ("stg_hr__roster", "raw_hr__roster", "hire_date", "email"),
        ("stg_clinic__visits", "raw_clinic__visits", "visit_date", "patient_email"),
        ("stg_sales__customers", "raw_sales__customers", "last_purchase_date", "email"),
        ("stg_support__tickets", "raw_support__tickets", "ticket_date", "email"),
    ],
)
def test_staging_keeps_exactly_the_seed_rows_inside_retention_with_the_hmac_of_their_email(
    demo: DemoBuild, staging: str, seed: str, date_column: str, email_column: str
) -> None:
    """Row for row (as a multiset): the seed rows inside retention, each with the HMAC-SHA256 of its
    e-mail under the key as `person_key`."""
    cutoff = date.today() - timedelta(days=privacy(demo.node(staging))["retention"]["days"])
    raw = demo.seed_csv(seed)
    inside = [row for row in raw if date.fromisoformat(row[date_column]) >= cutoff]
    assert 0 < len(inside) < len(raw)
    expected = Counter(hmac.new(DEMO_KEY.encode(), row[email_column].encode(), hashlib.sha256).hexdigest() for row in inside)
    assert Counter(row["person_key"] for row in demo.rows(staging)) == expected


def test_one_pseudonym_per_employee(demo: DemoBuild) -> None:
    rows = demo.rows("stg_hr__roster")
    assert len({row["person_key"] for row in rows}) == len(rows)


def age_group(age: int) -> str:
    """The documented breakpoint labels of generalize_numeric(breakpoints=[30, 45, 60])."""
    return "<30" if age < 30 else "30-44" if age < 45 else "45-59" if age < 60 else "60+"


def test_service_insights_counts_are_exact_and_averages_only_noised(demo: DemoBuild) -> None:
    """Recomputed from the staging tables: published counts are the true ones; the averages carry
    Laplace noise of scale 4 on sums of >= 5 tickets, so they move, but by more than 8 only with
    probability < e^-10 per cell."""
    birth_year = {row["person_key"]: row["birth_year"] for row in demo.rows("stg_sales__customers")}
    cells: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    for ticket in demo.rows("stg_support__tickets"):
        if ticket["person_key"] in birth_year:
            day = ticket["ticket_date"]
            quarter = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
            group = age_group(date.today().year - birth_year[ticket["person_key"]])
            cells[(quarter, ticket["category"], group)].append(ticket["satisfaction"])
    published = [row for row in demo.rows("customer_service_insights") if row["ticket_count"] is not None]
    assert len(published) > 50
    moved = 0
    for row in published:
        true = cells[(row["ticket_quarter"], row["category"], row["age_group"])]
        assert row["ticket_count"] == len(true)
        deviation = abs(row["avg_satisfaction_noised"] - sum(true) / len(true))
        assert deviation < 8.05
        moved += deviation > 0.05
    assert moved > len(published) / 2


def planted_findings() -> dict[tuple[str, str], str]:
    """(rule, node) -> what it teaches, read straight from examples/demo/planted_findings.yml."""
    document = yaml.safe_load((DEMO_DIR / "planted_findings.yml").read_text(encoding="utf-8"))
    return {(entry["rule"], entry["node"]): entry["teaches"] for entry in document["findings"]}


@pytest.fixture(scope="module")
def check_findings(demo: DemoBuild) -> list[dict[str, Any]]:
    """`privacy-guard check` of the build, as run_demo.py runs it (run results and database)."""
    target = demo.project / "target"
    proc = subprocess.run(
        [
            str(Path(sys.executable).with_name("privacy-guard")), "check",
            "--manifest", str(target / "manifest.json"),
            "--run-results", str(target / "run_results.json"),
            "--database", str(demo.database),
            "--format", "json",
            "--no-cache",  # the build is shared: write nothing into its target/
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 1, proc.stderr[-2000:]
    findings: list[dict[str, Any]] = orjson.loads(proc.stdout)["findings"]
    return findings


def test_the_check_reports_exactly_the_planted_findings(check_findings: list[dict[str, Any]]) -> None:
    """Every finding is listed in planted_findings.yml and every listed one is reported: a planted
    finding that disappears or an unplanted one that appears fails. All are errors, all but the two
    raw inputs it reads on the planted model."""
    planted = planted_findings()
    reported = [(f["rule"], f["node"]) for f in check_findings]
    assert sorted(reported) == sorted(planted)
    assert {f["severity"] for f in check_findings} == {"error"}
    assert {node for _, node in planted} == {
        f"model.privacy_guard_demo.{PLANTED}", "seed.privacy_guard_demo.raw_clinic__visits", "seed.privacy_guard_demo.raw_sales__customers"
    }
    assert len(planted) == 9 and all(len(teaches) > 40 for teaches in planted.values())


def test_run_demo_prints_what_each_planted_finding_teaches_and_fails_on_drift(
    check_findings: list[dict[str, Any]], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(REPO_ROOT / "scripts")
    run_demo = importlib.import_module("run_demo")

    planted = planted_findings()
    assert run_demo.explain_findings(check_findings) == 0
    out = capsys.readouterr()
    for (rule, node), teaches in planted.items():
        assert f"planted on purpose: {rule} on {node}\n    teaches: {' '.join(teaches.split())}\n" in out.out
    assert out.out.count("planted on purpose:") == len(planted)
    assert f"exactly the {len(planted)} planted findings" in out.out and out.err == ""

    missing, *kept = check_findings
    unplanted = {**missing, "rule": "unprotected_identifier", "node": "model.privacy_guard_demo.hr_pay_equity"}
    assert run_demo.explain_findings([*kept, unplanted]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"run_demo: planted but not reported: {missing['rule']} on {missing['node']} (see examples/demo/planted_findings.yml)",
        "run_demo: reported but not planted: unprotected_identifier on model.privacy_guard_demo.hr_pay_equity (see examples/demo/planted_findings.yml)",
    ]
