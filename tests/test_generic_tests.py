"""The privacy generic tests against real `dbt build`s of two fixture projects.

`privacy_tests_passing`: every test of every kind, arguments from meta only, must pass.
`privacy_tests_failing`: planted violations; exactly the planted tests fail, with the number of
violating classes/rows worked out by hand in the fixture's SQL comments, and the stored failures
(`--store-failures`) hold sizes and measures, never a quasi-identifier or identifier value.
"""

from __future__ import annotations

import json
import math

import duckdb
import pytest

from dbt_harness import DbtResult, dbt, dbt_project, shared_build

pytestmark = pytest.mark.dbt


def _by_name(result: DbtResult, resource_type: str = "test") -> dict[str, tuple[str, int | None]]:
    """test name (unique_id without project and hash) -> (status, failures)."""
    failures = result.failures()
    return {
        unique_id.split(".")[2]: (status, failures[unique_id])
        for unique_id, status in result.statuses().items()
        if unique_id.startswith(resource_type + ".")
    }


@pytest.fixture(scope="module")
def passing(tmp_path_factory: pytest.TempPathFactory) -> DbtResult:
    project = dbt_project("privacy_tests_passing", tmp_path_factory.mktemp("passing"))
    return dbt(project, "build", check=True)


@pytest.fixture(scope="module")
def failing(tmp_path_factory: pytest.TempPathFactory) -> DbtResult:
    # The fixture stores failures (+store_failures); tests/test_privacy_unit.py reads the same build.
    return shared_build(tmp_path_factory, "privacy_tests_failing", expect_success=False)


def test_every_test_passes_with_arguments_from_meta(passing: DbtResult) -> None:
    tests_per_model = [
        "k_anonymity_{m}_",
        "l_diversity_{m}_",
        "l_diversity_{m}_entropy",
        "l_diversity_{m}_2__recursive",
        "t_closeness_{m}_",
        "retention_limit_{m}_",
        "no_direct_identifiers_{m}_",
    ]
    expected = {
        "privacy_guard_" + name.format(m=model): ("pass", 0)
        for model in ["patients", "empty_patients"]
        for name in tests_per_model
    }
    expected["privacy_guard_min_cell_size_visit_counts_"] = ("pass", 0)
    assert _by_name(passing) == expected


# name -> (status, failures): failures counts violating classes (k, l, t), violating columns
# (no_direct_identifiers), small cells (min_cell_size) or the one summary row (retention_limit).
PLANTED = {
    "privacy_guard_k_anonymity_k_violation_": ("fail", 1),
    "privacy_guard_k_anonymity_k_violation_1": ("pass", 0),
    "privacy_guard_k_anonymity_k_violation_diagnosis": ("pass", 0),
    "k_anonymity_where_with_arguments": ("pass", 0),
    # With `where:` the test finds its model through the test node: meta defaults still apply.
    "k_anonymity_where_from_meta": ("pass", 0),
    "privacy_guard_l_diversity_l_violation_": ("fail", 1),
    "privacy_guard_l_diversity_l_violation_1": ("pass", 0),
    "privacy_guard_l_diversity_l_violation_entropy": ("fail", 2),
    "privacy_guard_l_diversity_l_violation_2__recursive": ("fail", 2),
    "privacy_guard_l_diversity_l_violation_6__recursive": ("fail", 1),
    "privacy_guard_t_closeness_t_violation_": ("fail", 2),
    "privacy_guard_t_closeness_t_violation_0_6": ("pass", 0),
    "privacy_guard_t_closeness_t_violation_salary__0_5": ("pass", 0),
    "privacy_guard_t_closeness_t_violation_equal__salary__0_5": ("fail", 1),
    "privacy_guard_retention_limit_expired_visits_": ("fail", 1),
    "privacy_guard_retention_limit_expired_visits_400": ("fail", 1),  # an argument cannot widen the model's 30 days
    "privacy_guard_retention_limit_expired_visits_399": ("fail", 1),
    "privacy_guard_no_direct_identifiers_leaky_identifiers_": ("fail", 4),
    "privacy_guard_no_direct_identifiers_leaky_identifiers_ssn_pid": ("pass", 0),
    "privacy_guard_min_cell_size_small_cells_": ("fail", 2),
    "privacy_guard_min_cell_size_small_cells_n__2": ("pass", 0),
    "privacy_guard_k_anonymity_ephemeral_people_": ("fail", 1),
    "privacy_guard_k_anonymity_no_meta_people_": ("error", None),
    "privacy_guard_retention_limit_no_meta_people_": ("error", None),
}
# Tests of tests/test_privacy_unit.py on the same build (visits_*, hostile_names, their numbers there).
OTHER_MODULE_TESTS = ("rows_", "people_", "inherited_", "hostile_")


def test_exactly_the_planted_tests_fail(failing: DbtResult) -> None:
    assert {name: outcome for name, outcome in _by_name(failing).items() if not name.startswith(OTHER_MODULE_TESTS)} == PLANTED
    # A missing default is an execute-time error of that test only: every model still built.
    assert set(_by_name(failing, "model").values()) == {("success", None)}


def test_missing_defaults_name_the_model_and_the_key(failing: DbtResult) -> None:
    assert (
        "privacy_guard.k_anonymity: model.privacy_tests_failing.no_meta_people: no column declares "
        "config.meta.privacy.class: quasi_identifier and the test has no `quasi_identifiers` argument"
    ) in failing.stdout
    assert (
        "privacy_guard.retention_limit: model.privacy_tests_failing.no_meta_people: needs "
        "privacy.retention.days"
    ) in failing.stdout


def _audit_rows(failing: DbtResult) -> dict[str, list[tuple]]:
    """Stored failures: test name -> rows of its audit table."""
    database = failing.project_dir.parent / "privacy_tests_failing.duckdb"
    with duckdb.connect(str(database), read_only=True) as connection:
        names = [row[0] for row in connection.execute(
            "select table_name from information_schema.tables where table_schema = 'main_dbt_test__audit'"
        ).fetchall()]
        return {name: connection.execute(f'select * from main_dbt_test__audit."{name}"').fetchall() for name in names}


def test_stored_failures_hold_measures_not_values(failing: DbtResult) -> None:
    audit = _audit_rows(failing)
    # Every planted QI value of a violating class, and every identifier value of leaky_identifiers.
    planted_values = {"rare-sex-x", "rare-age-97", "F", "M", "50-59", "flu", "asthma", "30000"}
    planted_values |= {f"person{i}@example.org" for i in (1, 2, 3)} | {f"P-000{i}" for i in (1, 2, 3)}
    planted_values |= {f"555-010{i}" for i in (1, 2, 3)}
    stored = {str(value) for rows in audit.values() for row in rows for value in row}
    assert stored & planted_values == set()

    # What is stored is the measure, its threshold, the class's size and rows, checked against
    # values worked out by hand: (measure, threshold, [sensitive column,] size, rows[, measured]).
    assert audit["privacy_guard_k_anonymity_k_violation_"] == [("k", 5, 1, 1)]
    assert sorted(audit["privacy_guard_l_diversity_l_violation_2__recursive"], key=str) == [
        ("recursive c (l=2)", 2, "diagnosis", 6, 6, 5.0), ("recursive c (l=2)", 2, "diagnosis", 6, 6, None)]
    entropy_l = sorted(row[5] for row in audit["privacy_guard_l_diversity_l_violation_entropy"])
    expected_entropy_l = [1.0, math.exp(-(5 / 6 * math.log(5 / 6) + 1 / 6 * math.log(1 / 6)))]
    assert entropy_l == pytest.approx(expected_entropy_l, abs=1e-12)
    distances = {row[2]: row[5] for row in audit["privacy_guard_t_closeness_t_violation_"]}
    assert distances == pytest.approx({"diagnosis": 4 / 7, "salary": 3 / 7}, abs=1e-12)
    assert audit["privacy_guard_retention_limit_expired_visits_"] == [(2, 30)]
    assert sorted(audit["privacy_guard_min_cell_size_small_cells_"]) == [("k", 5, "n", 2), ("k", 5, "visits_count", 1)]
    assert sorted(row[0] for row in audit["privacy_guard_no_direct_identifiers_leaky_identifiers_"]) == [
        "email", "patient_pid", "phone", "upper_pid"]


def _explanations(result: DbtResult) -> list[str]:
    """The lines failing privacy tests log in dbt's console output (timestamps and colours removed)."""
    lines = [line.split("  ", 1)[-1] for line in result.stdout.replace("\x1b[0m", "").splitlines()]
    return [line for line in lines if line.startswith("privacy_guard.") and " failed on " in line]


def test_a_failing_k_anonymity_says_what_failed_in_the_console(failing: DbtResult) -> None:
    """k, QIs, what is counted, classes and rows below k, the smallest class, the QI that helps most.

    k_violation over (sex, age_band): the unique person is alone in its class; without sex it is still
    alone by age_band (rare-age-97), without age_band its sex value is unique too: both leave 1 class
    of 1 row, and ties go to the first QI.
    """
    assert (
        "privacy_guard.k_anonymity failed on model.privacy_tests_failing.k_violation: k=5; quasi-identifiers sex, age_band; "
        "counting rows; 1 class below k holding 1 row; smallest class 1 row; "
        "dropping or generalizing sex helps most: without it 1 class below k holding 1 row"
    ) in _explanations(failing)


def test_every_failing_class_test_explains_itself_and_no_passing_one_does(failing: DbtResult) -> None:
    manifest = json.loads((failing.project_dir / "target" / "manifest.json").read_text())
    kinds = {"k_anonymity", "l_diversity", "t_closeness"}
    statuses = failing.statuses()
    # An ephemeral model is a CTE dbt injects after rendering: its test fails without the extra line.
    ephemeral = "model.privacy_tests_failing.ephemeral_people"
    failed_tests = [
        node for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] == "test" and (node.get("test_metadata") or {}).get("name") in kinds
        and statuses[unique_id] in {"fail", "warn"}
    ]
    failed = {(node["test_metadata"]["name"], node["attached_node"]) for node in failed_tests} - {("k_anonymity", ephemeral)}
    explained = _explanations(failing)
    assert len(explained) == len(failed_tests) - 1
    assert {(line.split(" ")[0].removeprefix("privacy_guard."), line.split(" failed on ")[1].split(":")[0]) for line in explained} == failed
    # Counts and column names only, never a value of a small class.
    assert not any(value in line for line in explained for value in ("rare-sex-x", "rare-age-97", "person-0", "999"))


#: How a k/l/t test's SQL ends when the run that explained it found no failing class (macros/tests/_explained_test_sql.sql).
SKIPPED_RERUN = "\n) as passed\nwhere 1 = 0"


def test_a_passing_class_test_runs_its_query_once_and_the_reused_verdict_is_the_querys(failing: DbtResult) -> None:
    """In `build`, a k/l/t test runs its query to know whether to explain it. When that run finds no
    failing class, dbt is given the same query under `where 1 = 0`, not a second run of it; a failing
    test's query is given whole. Run here on its own, each skipped query returns no row: the verdict
    dbt reused is the one the query gives."""
    manifest = json.loads((failing.project_dir / "target" / "manifest.json").read_text())
    statuses = failing.statuses()
    kinds = {"k_anonymity", "l_diversity", "t_closeness"}
    ephemeral = "model.privacy_tests_failing.ephemeral_people"
    # (A test that raised while compiling has no code: it errored, and ran nothing.)
    tests = {
        unique_id: node["compiled_code"].rstrip() for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] == "test" and (node.get("test_metadata") or {}).get("name") in kinds and node.get("compiled_code")
    }
    skipped = {unique_id for unique_id, code in tests.items() if code.endswith(SKIPPED_RERUN)}
    passing = {unique_id for unique_id in tests if statuses[unique_id] == "pass"}
    assert len(passing) >= 5 and len(tests) - len(passing) >= 5
    assert skipped == {unique_id for unique_id in passing if manifest["nodes"][unique_id]["attached_node"] != ephemeral}
    database = failing.project_dir.parent / "privacy_tests_failing.duckdb"
    with duckdb.connect(str(database), read_only=True) as connection:
        for unique_id in skipped:
            query = tests[unique_id].removesuffix(SKIPPED_RERUN).split("select * from (\n", 1)[1]
            assert connection.execute(f"select count(*) from ({query}) as failing").fetchone() == (0,), unique_id
