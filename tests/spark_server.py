"""One local Spark engine for the whole adapter suite: a Spark Connect server in a temp dir.

dbt-spark's `session` method starts a JVM inside every dbt process (tens of seconds each); with
`spark.remote` in the profile the same method opens a Spark Connect session instead, so all dbt
invocations of a test session share this one JVM. Loopback only, a free port, the Hive metastore
(Derby), the warehouse and Spark's own log in the temp dir. `stop()` is registered as a pytest
finalizer, so the JVM dies with the session even when tests fail.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from postgres_server import _free_port

STARTED = "Spark Connect server started"
#: Spark's own log4j output, INFO and up, to a file the key test greps.
LOG4J = """rootLogger.level = info
rootLogger.appenderRef.file.ref = file
appender.file.type = File
appender.file.name = file
appender.file.fileName = {log}
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = %d %p %c: %m%n
"""


@dataclass
class SparkServer:
    root: Path
    port: int
    process: subprocess.Popen[bytes]
    client: Any = None

    @property
    def url(self) -> str:
        return f"sc://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.root / "spark.log"

    def stop(self) -> None:
        # The client's gRPC threads would keep pytest from exiting.
        if self.client is not None:
            self.client.stop()
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        """Rows of one statement through a Spark Connect client of this server."""
        if self.client is None:
            from pyspark.sql import SparkSession

            self.client = SparkSession.builder.remote(self.url).getOrCreate()
        return [tuple(row) for row in self.client.sql(sql).collect()]


def _spark_home() -> Path:
    """The Spark distribution inside the pyspark wheel (imported here: `make test` has no pyspark)."""
    import pyspark

    return Path(pyspark.__file__).parent


def start(timeout: float = 300) -> SparkServer:
    root = Path(tempfile.mkdtemp(prefix="privacy_guard_spark_"))
    port = _free_port()
    (root / "log4j2.properties").write_text(LOG4J.format(log=root / "spark.log"))
    settings = {
        "spark.master": "local[2]",
        "spark.connect.grpc.binding.address": "127.0.0.1",
        "spark.connect.grpc.binding.port": str(port),
        "spark.sql.catalogImplementation": "hive",
        "spark.sql.warehouse.dir": str(root / "warehouse"),
        "spark.hadoop.javax.jdo.option.ConnectionURL": f"jdbc:derby:;databaseName={root / 'metastore_db'};create=true",
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={root} -Dlog4j2.configurationFile={root / 'log4j2.properties'}",
        "spark.sql.shuffle.partitions": "2",
        "spark.ui.enabled": "false",
    }
    (root / "spark-defaults.conf").write_text("".join(f"{key} {value}\n" for key, value in settings.items()))
    console = open(root / "console.log", "wb")
    spark_home = _spark_home()
    process = subprocess.Popen(
        [str(spark_home / "bin" / "spark-submit"), "--properties-file", str(root / "spark-defaults.conf"),
         "--class", "org.apache.spark.sql.connect.service.SparkConnectServer", "spark-internal"],
        cwd=root, stdout=console, stderr=subprocess.STDOUT, start_new_session=True,
        env={**os.environ, "SPARK_HOME": str(spark_home), "SPARK_LOCAL_IP": "127.0.0.1"},
    )
    server = SparkServer(root, port, process)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        if server.log.is_file() and STARTED in server.log.read_text(errors="replace"):
            return server
        time.sleep(1)
    console_text = (root / "console.log").read_text(errors="replace")[-3000:]
    server.stop()
    raise AssertionError(f"Spark Connect server did not start within {timeout}s:\n{console_text}")


def dbt_output(server: SparkServer, schema: str, with_key: bool = False) -> str:
    """The dbt-spark output block (YAML) for dbt_harness.copy_project(output=...).

    `method: session` with `spark.remote` connects to the shared server. with_key: the profile
    passes the pseudonymization key as the session setting spark.privacy_guard.key, read from the
    environment variable PRIVACY_GUARD_KEY (never written in the profile itself)."""
    parameters = f"  spark.remote: '{server.url}'\n"
    if with_key:
        parameters += "  spark.privacy_guard.key: \"{{ env_var('PRIVACY_GUARD_KEY') }}\"\n"
    return f"type: spark\nmethod: session\nhost: NA\nschema: {schema}\nthreads: 1\nserver_side_parameters:\n{parameters}"
