"""The Spark engine's session, errors, and a run submitted to a real standalone cluster."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from _support import TOLERANT, content_line, write_day, write_known_days
from c360.config import EngineConfig
from c360.engines.spark import SUBMIT_SCRIPT
from c360.engines.spark_session import start_session
from c360.errors import EngineError
from c360.shells.cli import app

pytestmark = [pytest.mark.spark, pytest.mark.slow]
BIN = Path(sys.executable).parent


def _spark_env(**extra: str) -> dict[str, str]:
    """The environment of Spark's scripts: this interpreter's PySpark, on both sides."""
    import pyspark

    return {**os.environ, "SPARK_HOME": str(Path(pyspark.__file__).parent),
            "PYSPARK_PYTHON": sys.executable, "PYSPARK_DRIVER_PYTHON": sys.executable,
            **extra}  # fmt: skip


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(condition: object, what: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.5)
    pytest.fail(f"timed out waiting for {what}")


def _alive_workers(ui_port: int) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{ui_port}/json/", timeout=2) as answer:
            return int(json.load(answer).get("aliveworkers", 0))
    except OSError:
        return 0


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A standalone master and two workers (one core, 2 GB each) on 127.0.0.1."""
    root = tmp_path_factory.mktemp("spark-cluster")
    env = _spark_env(SPARK_LOG_DIR=str(root / "logs"), SPARK_WORKER_DIR=str(root))
    port, ui = _free_port(), _free_port()
    spark_class = str(BIN / "spark-class")
    processes = [
        subprocess.Popen(
            [
                spark_class,
                "org.apache.spark.deploy.master.Master",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--webui-port",
                str(ui),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    ]
    try:
        _wait(lambda: _alive_workers(ui) == 0 and _port_open(port), "the Spark master")
        for i in range(2):
            processes.append(
                subprocess.Popen(
                    [
                        spark_class,
                        "org.apache.spark.deploy.worker.Worker",
                        f"spark://127.0.0.1:{port}",
                        "--host",
                        "127.0.0.1",
                        "--cores",
                        "1",
                        "--memory",
                        "2g",
                        "--webui-port",
                        str(_free_port()),
                        "--work-dir",
                        str(root / f"worker{i}"),
                    ],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        _wait(lambda: _alive_workers(ui) == 2, "two Spark workers")
        yield f"spark://127.0.0.1:{port}"
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def test_spark_submit_runs_c360_on_a_standalone_cluster(cluster: str, tmp_path: Path) -> None:
    content = tmp_path / "in"
    write_known_days(content)
    env = _spark_env()
    submitted = subprocess.run(
        [str(BIN / "spark-submit"), "--master", cluster, "--executor-memory", "1g",
         "--total-executor-cores", "2", str(SUBMIT_SCRIPT), "run", "--engine", "spark",
         "--content", str(content), "--lake", str(tmp_path / "lake"),
         "--warehouse", str(tmp_path / "cluster.duckdb"), "--allow-dq-failures"],
        env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert submitted.returncode == 0, submitted.stdout[-3000:] + submitted.stderr[-3000:]
    assert "rows accepted" in submitted.stdout

    # The cluster's tables equal the embedded engine's on the same input.
    from c360.app import C360
    from c360.config import load_config

    C360(config=load_config(env={}, overrides=TOLERANT)).run(
        content, warehouse=str(tmp_path / "duck.duckdb"), lake=tmp_path / "duck-lake"
    )
    import duckdb

    for table in ("customer_content_stats", "fact_usage", "quarantine_content", "dim_contract"):
        rows = []
        for name in ("cluster", "duck"):
            con = duckdb.connect(str(tmp_path / f"{name}.duckdb"), read_only=True)
            rows.append(con.sql(f"SELECT * FROM {table} ORDER BY ALL").fetchall())
            con.close()
        assert rows[0] == rows[1], table
        assert rows[0], table


def test_an_unreachable_master_is_one_line(tmp_path: Path) -> None:
    write_day(tmp_path / "in", __import__("datetime").date(2022, 4, 1), [content_line()])
    result = CliRunner().invoke(
        app,
        ["run", "--engine", "spark", "--spark-master", f"spark://127.0.0.1:{_free_port()}",
         "--content", str(tmp_path / "in"), "--lake", str(tmp_path / "lake"),
         "--warehouse", str(tmp_path / "w.duckdb")],
    )  # fmt: skip
    assert result.exit_code == 1
    assert "cannot reach the Spark master spark://127.0.0.1:" in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1


def test_a_master_that_is_not_a_url_is_one_line() -> None:
    with pytest.raises(EngineError, match=r"'127\.0\.0\.1:7077' is not a master URL"):
        start_session(EngineConfig(name="spark", spark_master="127.0.0.1:7077"))


def test_no_java_is_one_line(tmp_path: Path) -> None:
    """In a fresh process whose PATH has no java and no JAVA_HOME."""
    write_day(tmp_path / "in", __import__("datetime").date(2022, 4, 1), [content_line()])
    env = {k: v for k, v in os.environ.items() if k not in ("JAVA_HOME", "PYSPARK_GATEWAY_PORT")}
    env["PATH"] = str(tmp_path / "empty-bin")
    result = subprocess.run(
        [str(BIN / "c360"), "run", "--engine", "spark", "--content", str(tmp_path / "in"),
         "--lake", str(tmp_path / "lake"), "--warehouse", str(tmp_path / "w.duckdb")],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "error: the Spark engine needs Java 17 or 21: install a JDK (e.g. "
        "openjdk-17-jre-headless) or set JAVA_HOME"
    ]
    assert shutil.which("java") is not None  # the machine itself has Java


def test_jvm_errors_become_one_line_naming_the_action() -> None:
    from c360.engines.spark_session import translated

    heap = RuntimeError(
        "An error occurred while calling o57.parquet.\n"
        ": org.apache.spark.SparkException: Job aborted due to stage failure\n"
        "java.lang.OutOfMemoryError: Java heap space\n\tat java.base/java.util.Arrays"
    )
    with (
        pytest.raises(EngineError, match=r"^Spark ran out of memory writing x: raise"),
        translated("writing x"),
    ):
        raise heap
    worker = RuntimeError(
        "An exception was thrown from the Python worker. Please see the stack trace below.\n"
        'Traceback (most recent call last):\n  File "x.py", line 1\n'
        "TypeError: normalize() argument 2 must be str, not float\n"
    )
    with (
        pytest.raises(
            EngineError, match=r"^Spark failed reading y: TypeError: normalize\(\) argument 2"
        ),
        translated("reading y"),
    ):
        raise worker
