"""Shared pytest set-up: the dbt harness lives in tests/dbt_harness.py."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


import pytest  # noqa: E402

import dbt_harness  # noqa: E402 -- importable only once the path above is set
import postgres_server  # noqa: E402
from demo_build import DemoBuild, shared_demo  # noqa: E402
import spark_server  # noqa: E402 -- imports pyspark only when a server starts


@pytest.fixture(scope="session")
def postgres(request: pytest.FixtureRequest) -> postgres_server.PostgresServer:
    """One throwaway PostgreSQL server for the session, stopped by a finalizer even on failure."""
    server = postgres_server.start()
    request.addfinalizer(server.stop)
    return server


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoBuild:
    """The demo built once per session (one `dbt build` shared by every worker; tests/demo_build.py)."""
    return shared_demo(tmp_path_factory)


@pytest.fixture(scope="session")
def spark(request: pytest.FixtureRequest) -> spark_server.SparkServer:
    """One local Spark Connect server (one JVM) for the session, stopped by a finalizer even on failure."""
    server = spark_server.start()
    request.addfinalizer(server.stop)
    return server


def pytest_runtest_setup(item: pytest.Item) -> None:
    """A test (and the module fixtures it sets up first) may run dbt only when marked `dbt`."""
    dbt_harness.DBT_ALLOWED = item.get_closest_marker("dbt") is not None
