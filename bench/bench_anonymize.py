"""Anonymization search on Adult end to end, and the risk report against a bare GROUP BY.

1. `anonymize` on Adult (all 9 columns, k=5, non-uniform entropy, 0% and 4% suppression) from the
   DuckDB file to the optimum: total seconds (goal < 2 s), of which the warehouse histogram, and
   lattice nodes grouped against the lattice size.
2. `risk` on N generated rows (default 10M; four quasi-identifiers) against the bare
   `GROUP BY` of the same columns, in the same process: ratio (goal <= 1.5x). With a privacy
   unit the report joins each row back to its class, which is measured too.

    .venv/bin/python bench/bench_anonymize.py [--rows N] [--repeat R] [--adult-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb

from python_checks.anonymize import Requirement, anonymize_relation, read_hierarchies
from python_checks.relation import Relation
from python_checks.risk import measure_risk

ADULT_COLUMNS = ["sex", "age", "race", "marital-status", "education", "native-country", "workclass", "occupation", "salary-class"]
GENERATED_QIS = ["age", "sex", "zip3", "birth_month"]


def best_seconds(function: Callable[[], object], repeat: int) -> float:
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        timings.append(time.perf_counter() - start)
    return min(timings)


def bench_anonymize(folder: Path, adult_dir: Path, repeat: int) -> dict[str, object]:
    database = folder / "adult.duckdb"
    with duckdb.connect(str(database)) as connection:
        connection.execute(f"create table adult as select * from read_csv('{adult_dir / 'adult.csv'}', delim=';', header=true)")
    files = {column: adult_dir / f"adult_hierarchy_{column}.csv" for column in ADULT_COLUMNS}
    # end to end = what the command does: read the hierarchy files, the histogram, the search
    results: dict[str, object] = {}
    for suppression in (0.0, 0.04):
        outcome = {}

        def run(suppression: float = suppression, outcome: dict = outcome) -> None:
            with Relation(database, "adult") as relation:
                hierarchies = read_hierarchies(ADULT_COLUMNS, files)
                outcome["result"] = anonymize_relation(relation, ADULT_COLUMNS, hierarchies, Requirement(5, suppression))

        def histogram_only() -> None:
            with Relation(database, "adult") as relation:
                relation.histogram(ADULT_COLUMNS)

        total = best_seconds(run, repeat)
        result = outcome["result"]
        results[f"suppression_{suppression:g}"] = {
            "levels": list(result.best.levels),
            "end_to_end_s": round(total, 3),
            "histogram_s": round(best_seconds(histogram_only, repeat), 3),
            "nodes_checked": result.nodes_checked,
            "lattice_size": result.lattice_size,
            "checked_share": round(result.nodes_checked / result.lattice_size, 3),
        }
    return results


def bench_risk(folder: Path, rows: int, repeat: int) -> dict[str, object]:
    database = folder / "people.duckdb"
    with duckdb.connect(str(database)) as connection:
        connection.execute(
            "create table people as select i // 2 as person_id, cast(hash(i) % 90 as integer) as age,"
            " case when hash(i + 1) % 2 = 0 then 'f' else 'm' end as sex, cast(hash(i + 2) % 900 as integer) as zip3,"
            f" cast(hash(i + 3) % 12 as integer) + 1 as birth_month from range({rows}) as r(i)"
        )
    columns = ", ".join(GENERATED_QIS)
    with Relation(database, "people") as relation:
        bare = best_seconds(lambda: relation.connection.execute(f"select count(*) from (select count(*) from people group by {columns})").fetchone(), repeat)
        report = best_seconds(lambda: measure_risk(relation, GENERATED_QIS), repeat)
        people = best_seconds(lambda: measure_risk(relation, GENERATED_QIS, privacy_unit="person_id"), repeat)
    return {
        "rows": rows,
        "bare_group_by_s": round(bare, 3),
        "risk_report_s": round(report, 3),
        "risk_over_group_by": round(report / bare, 2),
        "risk_with_privacy_unit_s": round(people, 3),
        "privacy_unit_over_group_by": round(people / bare, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--adult-dir", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "datasets" / "adult")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        print(json.dumps({"anonymize_adult": bench_anonymize(Path(folder), args.adult_dir, args.repeat),
                          "risk": bench_risk(Path(folder), args.rows, args.repeat)}, indent=2))


if __name__ == "__main__":
    main()
