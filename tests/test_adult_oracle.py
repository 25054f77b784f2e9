"""k, l (distinct, entropy, recursive) and t (equal and ordered EMD) on the Adult data set: the
dbt tests agree with an independent Python computation at the boundary.

The oracle below is written from the definitions (Machanavajjhala et al. 2007 for l-diversity,
Li, Li & Venkatasubramanian 2007 for t-closeness) over plain Python rows, and cross-checked with
pycanon where pycanon is right. For every case one build runs tests with the threshold at the true
value (passes) and just beyond it (fails), t also at the median class's distance (about half fail),
and the number of violating classes each reports must equal the oracle's count.
"""

from __future__ import annotations

import csv
import json
import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import pandas as pd
import pycanon.anonymity as pycanon
import pytest

from dbt_harness import ADULT_DIR, DbtResult, dbt, dbt_project

pytestmark = pytest.mark.dbt

ADULT_CSV = ADULT_DIR / "adult.csv"
BEYOND = 1e-6  # "just beyond" a real-valued measure


def load_adult() -> list[dict[str, Any]]:
    """adult.csv rows (`;`, CRLF) with age as int, plus the band the fixture's generalized model adds."""
    with ADULT_CSV.open(newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    for row in rows:
        row["age"] = int(row["age"])
        low = row["age"] // 10 * 10
        row["age_band"] = "70+" if row["age"] >= 70 else f"{low}-{low + 9}"
    return rows


@dataclass
class Case:
    """One (quasi-identifier set, sensitive attribute) of one model, measured by the oracle."""

    model: str
    quasi_identifiers: list[str]
    sensitive: str
    distance: str  # equal | ordered: what the dbt test should pick (or is told)
    rows: list[dict[str, Any]]

    @property
    def name(self) -> str:
        qis = "_".join(q.replace("-", "_") for q in self.quasi_identifiers)
        return f"{self.model}__{qis}__{self.sensitive.replace('-', '_')}__{self.distance}"

    @cached_property
    def classes(self) -> list[Counter]:
        """Per equivalence class, the count of each sensitive value."""
        grouped: dict[tuple, Counter] = defaultdict(Counter)
        for row in self.rows:
            grouped[tuple(row[q] for q in self.quasi_identifiers)][row[self.sensitive]] += 1
        return list(grouped.values())

    def sizes(self) -> list[int]:
        return [sum(counts.values()) for counts in self.classes]

    def distinct_l(self) -> list[int]:
        return [len(counts) for counts in self.classes]

    def entropy_l(self) -> list[float]:
        result = []
        for counts in self.classes:
            size = sum(counts.values())
            result.append(math.exp(-sum(n / size * math.log(n / size) for n in counts.values())))
        return result

    def recursive_ratio(self, l: int) -> list[float]:  # noqa: E741 -- the l of l-diversity
        """r1 / (r_l + ... + r_m) per class (inf when the class has fewer than l values)."""
        result = []
        for counts in self.classes:
            ranked = sorted(counts.values(), reverse=True)
            tail = sum(ranked[l - 1:])
            result.append(ranked[0] / tail if tail else math.inf)
        return result

    def emd(self) -> list[float]:
        table = Counter(row[self.sensitive] for row in self.rows)
        values = sorted(table)
        total = len(self.rows)
        result = []
        for counts in self.classes:
            size = sum(counts.values())
            diffs = [counts.get(v, 0) / size - table[v] / total for v in values]
            if self.distance == "equal":
                result.append(0.5 * sum(abs(d) for d in diffs))
            else:
                running, acc = 0.0, 0.0
                for d in diffs:
                    running += d
                    acc += abs(running)
                result.append(acc / (len(values) - 1))
        return result


CASE_SPECS = [
    ("adult", ["sex", "race"], "occupation", "equal"),
    ("adult", ["sex", "race"], "salary-class", "equal"),
    ("adult", ["sex", "race"], "age", "ordered"),
    ("adult", ["age", "sex", "race"], "occupation", "equal"),
    ("adult", ["education", "marital-status"], "occupation", "equal"),
    ("adult_generalized", ["age_band", "sex"], "occupation", "equal"),
    ("adult_generalized", ["age_band", "sex"], "age", "ordered"),
    ("adult_generalized", ["age_band", "sex"], "age", "equal"),
    ("adult_generalized", ["age_band", "marital-status"], "occupation", "equal"),
    ("adult_generalized", ["age_band", "sex", "race"], "salary-class", "equal"),
    # Fine classes: most hold one row (one value, every other value absent), many tie at the same
    # distance; ordered, each is one segment from its value to the last (tests/test_t_closeness_many_values.py:
    # thousands of values).
    ("adult", ["education", "occupation", "native-country"], "age", "ordered"),
    ("adult", ["education", "occupation", "native-country"], "age", "equal"),
]


@pytest.fixture(scope="module")
def rows() -> list[dict[str, Any]]:
    return load_adult()


@pytest.fixture(scope="module")
def cases(rows: list[dict[str, Any]]) -> list[Case]:
    return [Case(model, qis, sensitive, distance, rows) for model, qis, sensitive, distance in CASE_SPECS]


def _boundary_tests(case: Case) -> list[tuple[str, str, dict[str, Any], int]]:
    """(test name, generic test, arguments, expected failing classes) at and beyond each measure."""
    scope = {"quasi_identifiers": case.quasi_identifiers}
    tests = []
    k = min(case.sizes())
    tests += [("k_at", "k_anonymity", {"k": k}, 0), ("k_beyond", "k_anonymity", {"k": k + 1}, case.sizes().count(k))]
    scope["sensitive_column"] = case.sensitive
    distinct = min(case.distinct_l())
    tests += [
        ("l_distinct_at", "l_diversity", {"l": distinct}, 0),
        ("l_distinct_beyond", "l_diversity", {"l": distinct + 1}, case.distinct_l().count(distinct)),
    ]
    entropy = min(case.entropy_l())
    tests += [
        ("l_entropy_at", "l_diversity", {"variant": "entropy", "l": entropy}, 0),
        ("l_entropy_beyond", "l_diversity", {"variant": "entropy", "l": entropy + BEYOND},
         sum(value < entropy + BEYOND for value in case.entropy_l())),
    ]
    ratios = case.recursive_ratio(2)
    c_star = max(ratios)
    if math.isfinite(c_star):  # strict: r1 < c * tail, so c = c* fails on the classes at c*
        tests += [
            ("l_recursive_at", "l_diversity", {"variant": "recursive", "l": 2, "c": c_star}, ratios.count(c_star)),
            ("l_recursive_beyond", "l_diversity", {"variant": "recursive", "l": 2, "c": c_star + BEYOND}, 0),
        ]
    else:
        tests += [("l_recursive_c2", "l_diversity", {"variant": "recursive", "l": 2, "c": 2},
                   sum(ratio >= 2 for ratio in ratios))]
    # l = 3 ranks each class's values (l = 2 only needs the top count): boundary at the largest
    # finite ratio; classes of fewer than 3 values (no tail) fail at any c.
    ratios = case.recursive_ratio(3)
    if any(map(math.isfinite, ratios)):
        c_star = max(filter(math.isfinite, ratios))
        tests += [(f"l3_recursive_{label}", "l_diversity", {"variant": "recursive", "l": 3, "c": c},
                   sum(ratio >= c for ratio in ratios)) for label, c in (("at", c_star), ("beyond", c_star + BEYOND))]
    t = max(case.emd())
    median = sorted(case.emd())[len(case.classes) // 2]  # every class's distance, not only the largest, counts
    distance = {"distance": case.distance} if case.distance != _natural_distance(case) else {}
    tests += [
        ("t_at", "t_closeness", {"t": t, **distance}, 0),
        ("t_beyond", "t_closeness", {"t": t - BEYOND, **distance}, sum(value > t - BEYOND for value in case.emd())),
        ("t_median", "t_closeness", {"t": median, **distance}, sum(value > median + 1e-9 for value in case.emd())),
    ]
    return [(f"{case.name}__{label}", test, {**scope, **args} if test != "k_anonymity" else {**args, "quasi_identifiers": case.quasi_identifiers}, expected)
            for label, test, args, expected in tests]


def _natural_distance(case: Case) -> str:
    """What t_closeness picks with no `distance` argument: ordered for the numeric age column."""
    return "ordered" if case.sensitive == "age" else "equal"


@pytest.fixture(scope="module")
def expected(cases: list[Case]) -> dict[str, int]:
    return {name: failing for case in cases for name, _, _, failing in _boundary_tests(case)}


@pytest.fixture(scope="module")
def build(cases: list[Case], tmp_path_factory: pytest.TempPathFactory) -> DbtResult:
    project = dbt_project("adult_oracle", tmp_path_factory.mktemp("adult_oracle"))
    tests_by_model: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for case in cases:
        for name, test, arguments, _ in _boundary_tests(case):
            tests_by_model[case.model].append({f"privacy_guard.{test}": {"name": name, "arguments": arguments}})
    properties = {"version": 2, "models": [{"name": model, "data_tests": tests} for model, tests in tests_by_model.items()]}
    (project / "models" / "oracle_tests.yml").write_text(json.dumps(properties, indent=1))
    return dbt(project, "build", "--vars", json.dumps({"adult_csv": str(ADULT_CSV)}), check=False)


def test_dbt_tests_agree_with_the_oracle_at_the_boundary(build: DbtResult, expected: dict[str, int]) -> None:
    reported = {uid.split(".")[2]: failures for uid, failures in build.failures().items() if uid.startswith("test.")}
    assert reported == expected
    statuses = {uid.split(".")[2]: status for uid, status in build.statuses().items() if uid.startswith("test.")}
    assert statuses == {name: "fail" if failing else "pass" for name, failing in expected.items()}


def test_boundaries_are_interesting(cases: list[Case]) -> None:
    """The generalized view makes k and l larger than 1, so 'at' and 'beyond' are real thresholds."""
    for case in cases:
        if case.model == "adult_generalized" and case.sensitive == "occupation":
            assert min(case.sizes()) > 1 and min(case.distinct_l()) > 1
            assert math.isfinite(max(case.recursive_ratio(2)))  # a real c boundary
    assert min(cases[0].sizes()) > 1  # sex x race on raw data


def test_oracle_matches_pycanon(rows: list[dict[str, Any]], cases: list[Case]) -> None:
    frame = pd.DataFrame(rows)
    for case in cases[:3] + cases[5:7]:  # pycanon is slow on many classes
        assert pycanon.k_anonymity(frame, case.quasi_identifiers) == min(case.sizes())
        assert pycanon.l_diversity(frame, case.quasi_identifiers, [case.sensitive]) == min(case.distinct_l())
        # pycanon truncates exp(H) to an integer: it agrees with the floor of the true value only.
        assert pycanon.entropy_l_diversity(frame, case.quasi_identifiers, [case.sensitive]) == math.floor(min(case.entropy_l()))
        # pycanon picks the EMD from the column dtype: ordered for age, equal for the strings.
        if case.distance == _natural_distance(case):
            assert pycanon.t_closeness(frame, case.quasi_identifiers, [case.sensitive]) == pytest.approx(max(case.emd()), abs=1e-12)


def test_entropy_l_is_not_truncated() -> None:
    """Two equally frequent values: exp(H) = 2 exactly, where a truncating implementation may say 1."""
    case = Case("toy", ["q"], "s", "equal", [{"q": 1, "s": "a"}, {"q": 1, "s": "b"}])
    assert case.entropy_l() == [pytest.approx(2.0, abs=1e-12)]
