"""Shared pytest set-up: the dbt harness lives in tests/dbt_harness.py."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


import pytest  # noqa: E402

import postgres_server  # noqa: E402


@pytest.fixture(scope="session")
def postgres(request: pytest.FixtureRequest) -> postgres_server.PostgresServer:
    """One throwaway PostgreSQL server for the session, stopped by a finalizer even on failure."""
    server = postgres_server.start()
    request.addfinalizer(server.stop)
    return server
