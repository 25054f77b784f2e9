"""Cost of pseudonymize's HMAC UDF against DuckDB's native sha256 on the same 1M values.

The UDF is a per-row Python call (no pyarrow in the environment for a vectorized one), so it is
expected to be several times slower than the native hash; this measures by how much, in one
process, as a ratio to the native baseline. A UDF with the key captured once is measured too, to
check that the plugin's lazy key load costs nothing over a key captured up front.

    .venv/bin/python bench/bench_pseudonymize.py [--rows N] [--repeat R]
"""

from __future__ import annotations

import argparse
import hmac
import json
import os
import secrets
import time

import duckdb
from duckdb.sqltypes import VARCHAR

from python_checks.duckdb_plugin import DEFAULT_KEY_ENV_VAR, Plugin


def best_seconds(con: duckdb.DuckDBPyConnection, expression: str, rows: int, repeat: int) -> float:
    """Fastest of `repeat` runs hashing every value (max() needs every hash)."""
    sql = f"select max({expression}), count(*) from (select 'person-' || i as v from range({rows}) as r(i)) as t"
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        _, counted = con.sql(sql).fetchone()
        timings.append(time.perf_counter() - start)
        assert counted == rows
    return min(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    os.environ[DEFAULT_KEY_ENV_VAR] = secrets.token_hex(32)
    con = duckdb.connect()
    Plugin("privacy_guard", {}).configure_connection(con)
    key = os.environ[DEFAULT_KEY_ENV_VAR].encode()
    con.create_function("captured_key_hmac", lambda v: hmac.digest(key, v.encode(), "sha256").hex(), [VARCHAR], VARCHAR)
    native = best_seconds(con, "sha256(v)", args.rows, args.repeat)
    udf = best_seconds(con, "privacy_guard_hmac_sha256(v)", args.rows, args.repeat)
    naive = best_seconds(con, "captured_key_hmac(v)", args.rows, args.repeat)
    print(json.dumps({
        "rows": args.rows,
        "native_sha256_s": round(native, 3),
        "pseudonymize_udf_s": round(udf, 3),
        "captured_key_udf_s": round(naive, 3),
        "udf_over_native": round(udf / native, 2),
        "udf_over_captured_key": round(udf / naive, 2),
    }))


if __name__ == "__main__":
    main()
