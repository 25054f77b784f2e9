"""Shared pytest set-up: the dbt harness lives in tests/dbt_harness.py."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


import pytest  # noqa: E402

import dbt_harness  # noqa: E402 -- importable only once the path above is set
import postgres_server  # noqa: E402


@pytest.fixture(scope="session")
def postgres(request: pytest.FixtureRequest) -> postgres_server.PostgresServer:
    """One throwaway PostgreSQL server for the session, stopped by a finalizer even on failure."""
    server = postgres_server.start()
    request.addfinalizer(server.stop)
    return server


def pytest_runtest_setup(item: pytest.Item) -> None:
    """A test (and the module fixtures it sets up first) may run dbt only when marked `dbt`."""
    dbt_harness.DBT_ALLOWED = item.get_closest_marker("dbt") is not None
