"""Noise macros: reproducible draws, and 20,000 draws whose distribution matches the theory.

The fixture noises 20,000 constant cells (count 100, sum 1000). The module builds it three times
(threads: 2): twice with the same seed, once with another. Theoretical moments and probabilities are
computed here from the Laplace / two-sided geometric formulas; every tolerance is five standard
errors of the statistic at this sample size (or the 0.1% Kolmogorov-Smirnov critical value), so a
correct implementation fails about once in a million runs and a wrong scale or a biased draw fails.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path
from typing import Any

import duckdb
import pytest
from dbt_harness import dbt, dbt_project

pytestmark = pytest.mark.dbt

CELLS = 20_000
TRUE_COUNT, TRUE_SUM = 100, 1000.0
SIGMAS = 5.0


def read(database: Path, table: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(database), read_only=True) as con:
        return con.sql(f"select * from {table} order by 1").fetchall()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("noise")
    project = dbt_project("macros_project", tmp)
    database = tmp / "macros_project.duckdb"
    runs = {}
    for name, extra in (("first", []), ("again", []), ("other_seed", ["--vars", "{noise_seed: 8}"])):
        dbt(project, "build", "--select", "+path:models/noise", *extra, check=True)
        runs[name] = read(database, "noised_cells")
    return {"project": project, "runs": runs, "draws": read(database, "uniform_draws")}


def column(built: dict[str, Any], index: int, true_value: float) -> list[float]:
    return [row[index] - true_value for row in built["runs"]["first"]]


def laplace_cdf(x: float, scale: float) -> float:
    return 0.5 * math.exp(x / scale) if x < 0 else 1 - 0.5 * math.exp(-x / scale)


def test_same_seed_same_noise_other_seed_other_noise(built: dict[str, Any]) -> None:
    first, again, other = built["runs"]["first"], built["runs"]["again"], built["runs"]["other_seed"]
    assert len(first) == CELLS
    assert first == again
    changed = sum(a[1:] != b[1:] for a, b in zip(first, other))
    assert changed == CELLS


def test_uniform_draw_is_the_md5_prefix(built: dict[str, Any]) -> None:
    """Both bodies (portable digit sum, duckdb hex cast) equal (n + 0.5) / 16^13 of md5's prefix."""
    for cell_id, portable, native in built["draws"]:
        n = int(hashlib.md5(str(cell_id).encode()).hexdigest()[:13], 16)
        assert portable == native == (n + 0.5) / 16**13


@pytest.mark.parametrize(("index", "true_value", "scale"), [(1, TRUE_SUM, 2 / 0.5), (2, TRUE_COUNT, 1 / 0.5)])
def test_laplace_noise_has_the_laplace_distribution(built: dict[str, Any], index: int, true_value: float, scale: float) -> None:
    noise = column(built, index, true_value)
    n = len(noise)
    mean = sum(noise) / n
    mean_abs = sum(abs(x) for x in noise) / n
    assert abs(mean) < SIGMAS * math.sqrt(2) * scale / math.sqrt(n)
    # |Laplace(b)| is exponential with mean b and standard deviation b.
    assert abs(mean_abs - scale) < SIGMAS * scale / math.sqrt(n)
    ordered = sorted(noise)
    ks = max(max(abs((i + 1) / n - laplace_cdf(x, scale)), abs(i / n - laplace_cdf(x, scale))) for i, x in enumerate(ordered))
    assert ks < 1.95 / math.sqrt(n)


def test_two_measures_of_one_row_get_independent_noise(built: dict[str, Any]) -> None:
    a, b = column(built, 1, TRUE_SUM), column(built, 2, TRUE_COUNT)
    n = len(a)
    mean_a, mean_b = sum(a) / n, sum(b) / n
    covariance = sum((x - mean_a) * (y - mean_b) for x, y in zip(a, b)) / n
    correlation = covariance / math.sqrt(sum((x - mean_a) ** 2 for x in a) / n * sum((y - mean_b) ** 2 for y in b) / n)
    assert abs(correlation) < SIGMAS / math.sqrt(n)


@pytest.mark.parametrize(("index", "epsilon", "sensitivity"), [(3, 0.5, 1), (4, 2, 3)])
def test_geometric_noise_has_the_two_sided_geometric_distribution(built: dict[str, Any], index: int, epsilon: float, sensitivity: int) -> None:
    values = [row[index] for row in built["runs"]["first"]]
    assert all(type(v) is int for v in values)
    noise = [v - TRUE_COUNT for v in values]
    n = len(noise)
    alpha = math.exp(-epsilon / sensitivity)
    for z in range(-3, 4):
        p = (1 - alpha) / (1 + alpha) * alpha ** abs(z)
        observed = sum(x == z for x in noise) / n
        assert abs(observed - p) < SIGMAS * math.sqrt(p * (1 - p) / n), z
    variance = 2 * alpha / (1 - alpha) ** 2
    assert abs(sum(noise) / n) < SIGMAS * math.sqrt(variance / n)
    expected_abs = 2 * alpha / (1 - alpha**2)
    second_moment_abs = variance
    assert abs(sum(abs(x) for x in noise) / n - expected_abs) < SIGMAS * math.sqrt((second_moment_abs - expected_abs**2) / n)


def test_missing_row_key_fails_at_parse_naming_the_macro(built: dict[str, Any]) -> None:
    project = built["project"]
    bad = project / "models" / "noise" / "bad_noise.sql"
    bad.write_text("select {{ privacy_guard.laplace_noise('true_sum', epsilon=1) }} as x from {{ ref('noise_input') }}\n")
    try:
        result = dbt(project, "parse", check=False)
    finally:
        bad.unlink()
    assert result.returncode != 0
    assert "privacy_guard.laplace_noise(true_sum): pass row_key" in result.stdout
