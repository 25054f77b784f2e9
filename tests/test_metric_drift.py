"""metric_drift on Adult: raw model vs suppressed, top-coded (planted drift) and group-losing
versions. Expected failures come from a pure-Python computation of the per-group drift; stored
failures carry the drift, never the group's values.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable
from typing import Any

import duckdb
import pytest

from dbt_harness import ADULT_DIR, DbtResult, dbt, dbt_project
from risk_oracle import adult_rows

pytestmark = pytest.mark.dbt

BEYOND = 1e-6
Row = dict[str, Any]


def drifts(baseline: list[Row], anonymized: list[Row], group: Callable[[Row], tuple], metric: str) -> dict[tuple, float | None]:
    """Relative drift per group of count / mean(age) / sum(age); None when a side lacks the group."""
    def aggregate(rows: list[Row]) -> dict[tuple, float]:
        values: dict[tuple, list[int]] = defaultdict(list)
        for row in rows:
            values[group(row)].append(row["age"])
        return {key: {"count": len(ages), "mean": sum(ages) / len(ages), "sum": sum(ages)}[metric] for key, ages in values.items()}

    before, after = aggregate(baseline), aggregate(anonymized)
    return {
        key: (abs(after[key] - before[key]) / abs(before[key]) if key in before and key in after else None)
        for key in before.keys() | after.keys()
    }


@pytest.fixture(scope="module")
def rows() -> list[Row]:
    return [{**row, "age": int(row["age"])} for row in adult_rows()]


def versions(rows: list[Row]) -> dict[str, list[Row]]:
    sizes = Counter((row["age"], row["sex"], row["race"]) for row in rows)
    return {
        "adult": rows,
        "adult_k5": [row for row in rows if sizes[(row["age"], row["sex"], row["race"])] >= 5],
        "adult_topcoded": [{**row, "age": min(row["age"], 60)} for row in rows],
        "adult_no_amer_indian": [row for row in rows if row["race"] != "Amer-Indian-Eskimo"],
    }


def by(*columns: str) -> Callable[[Row], tuple]:
    return lambda row: tuple(row[column] for column in columns)


def cases(rows: list[Row]) -> dict[str, tuple[str, dict[str, Any], int]]:
    """test name -> (tested model, arguments, expected failure rows)."""
    models = versions(rows)
    sex_counts = drifts(rows, models["adult_k5"], by("sex"), "count")
    worst = max(sex_counts.values())
    race_means = drifts(rows, models["adult_topcoded"], by("race"), "mean")
    return {
        "k5_count_at_value": ("adult_k5", {"group_by": ["sex"], "tolerance": worst}, 0),
        "k5_count_beyond": ("adult_k5", {"group_by": ["sex"], "tolerance": worst - BEYOND}, sum(d > worst - BEYOND for d in sex_counts.values())),
        "topcoded_mean": ("adult_topcoded", {"group_by": ["race"], "means": ["age"], "count": False, "tolerance": 0.01},
                          sum(d > 0.01 for d in race_means.values())),
        "topcoded_sum_overall": ("adult_topcoded", {"sums": ["age"], "count": False, "tolerance": 0}, 1),
        "missing_group": ("adult_no_amer_indian", {"group_by": ["race"], "means": ["age"], "tolerance": 0}, 2),
        "identical": ("adult", {"baseline": "ref('adult')", "group_by": ["race", "sex"], "means": ["age"], "sums": ["age"], "tolerance": 0}, 0),
    }


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory, rows: list[Row]) -> DbtResult:
    project = dbt_project("metric_drift_project", tmp_path_factory.mktemp("drift"))
    by_model: dict[str, list[str]] = defaultdict(list)
    for name, (model, arguments, _) in cases(rows).items():
        arguments = {"baseline": "ref('adult')", **arguments}
        by_model[model].append(f"      - privacy_guard.metric_drift:\n          name: {name}\n          arguments: {json.dumps(arguments)}\n")
    by_model["adult_k5"].append("      - privacy_guard.metric_drift:\n          name: no_metric\n          arguments: {baseline: ref('adult'), count: false}\n")
    body = "".join(f"  - name: {model}\n    data_tests:\n{''.join(tests)}" for model, tests in by_model.items())
    (project / "models" / "drift_tests.yml").write_text("version: 2\nmodels:\n" + body)
    variables = json.dumps({"adult_csv": str(ADULT_DIR / "adult.csv")})
    dbt(project, "run", "--vars", variables, check=True)
    return dbt(project, "test", "--store-failures", "--vars", variables, check=False)


def test_failures_match_oracle(build: DbtResult, rows: list[Row]) -> None:
    results = {r["unique_id"].split(".")[2]: r for r in build.run_results["results"]}
    expected = {name: failures for name, (_, _, failures) in cases(rows).items()}
    assert expected["k5_count_beyond"] >= 1 and expected["topcoded_mean"] >= 1
    assert {name: results[name]["failures"] for name in expected} == expected
    assert results["no_metric"]["status"] == "error"
    assert "no metric declared: set count, means or sums" in results["no_metric"]["message"]


def test_stored_failures_carry_drift_not_groups(build: DbtResult, rows: list[Row]) -> None:
    with duckdb.connect(str(build.project_dir.parent / "metric_drift_project.duckdb"), read_only=True) as connection:
        cursor = connection.execute("select * from main_dbt_test__audit.topcoded_mean order by relative_drift")
        columns = [column[0] for column in cursor.description]
        stored = [dict(zip(columns, row)) for row in cursor.fetchall()]
        missing = connection.execute("select metric, baseline_value, anonymized_value, relative_drift, baseline_rows from main_dbt_test__audit.missing_group order by metric").fetchall()
    assert columns == ["metric", "baseline_value", "anonymized_value", "relative_drift", "baseline_rows"]
    race_means = drifts(rows, versions(rows)["adult_topcoded"], by("race"), "mean")
    assert [row["relative_drift"] for row in stored] == pytest.approx(sorted(d for d in race_means.values() if d > 0.01), rel=1e-9)
    lost = [row for row in rows if row["race"] == "Amer-Indian-Eskimo"]
    assert missing == [
        ("count", pytest.approx(len(lost)), pytest.approx(0.0), pytest.approx(1.0), len(lost)),
        ("mean(age)", pytest.approx(sum(row["age"] for row in lost) / len(lost)), None, None, len(lost)),
    ]
