"""The Spark session of the Spark engine: started (or joined, under ``spark-submit``) with the
rules' two engine functions defined, and Spark's errors turned into one line."""

from __future__ import annotations

import os
import re
import shutil
import socket
import sys
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from c360.errors import EngineError, InputError
from c360.rules._keys import KEY_DIGITS, KEY_FUNCTION
from c360.rules.search import NFC_FUNCTION

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from c360.config import EngineConfig

#: The rules' surrogate-key function, as a Spark SQL function (same value as DuckDB's macro).
KEY_FUNCTION_SQL = (
    f"CREATE OR REPLACE TEMPORARY FUNCTION {KEY_FUNCTION}(x STRING) RETURNS BIGINT "
    f"RETURN CAST(conv(substr(md5(x), 1, {KEY_DIGITS}), 16, 10) AS BIGINT)"
)
_LOG4J = Path(__file__).with_name("log4j2.properties")
#: A line naming an error's type and message, e.g. ``TypeError: ...``, ``java.io.IOException: ...``
_CAUSE = re.compile(r"^[\w.$]*(Error|Exception)(\s*\[[A-Z_.]+\])?: \S")


def start_session(config: EngineConfig, *, scratch: str | None = None) -> SparkSession:
    """A Spark session for ``config`` (the active one when it has the same master).

    Raises:
        EngineError: Java is missing, the master cannot be reached, or Spark fails to start.
    """
    # Under spark-submit the JVM is already running with the master and resources it was given.
    submitted = "PYSPARK_GATEWAY_PORT" in os.environ
    if not submitted:
        _check_master(config.spark_master)
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:  # pragma: no cover - create_engine reports the missing extra
        raise EngineError("the Spark engine needs pyspark: pip install 'c360[spark]'") from exc
    master = config.spark_master
    if config.threads and master.startswith("local"):
        master = f"local[{config.threads}]"
    active = SparkSession.getActiveSession()
    if active is not None and (submitted or active.conf.get("spark.master") == master):
        return _prepared(active)
    if active is not None:
        active.stop()
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        raise EngineError(
            "the Spark engine needs Java 17 or 21: install a JDK (e.g. openjdk-17-jre-headless) "
            "or set JAVA_HOME"
        )
    # Python workers run this interpreter (with c360's dependencies) unless told otherwise.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    options = {
        "spark.app.name": "c360",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.driver.memory": config.spark_driver_memory or driver_memory(),
        "spark.sql.shuffle.partitions": str(config.spark_shuffle_partitions),
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
        "spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile={_LOG4J}",
        "spark.executor.extraJavaOptions": f"-Dlog4j2.configurationFile={_LOG4J}",
    }
    if scratch:
        Path(scratch).mkdir(parents=True, exist_ok=True)
        options["spark.local.dir"] = scratch
        # Spark makes this folder even when unused; keep it out of the working directory.
        options["spark.sql.warehouse.dir"] = str(Path(scratch) / "spark-warehouse")
    options.update(config.spark_conf)
    builder = SparkSession.builder if submitted else SparkSession.builder.master(master)
    for key, value in options.items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except Exception as exc:
        raise EngineError(f"Spark failed to start: {_first_line(exc)}") from exc
    return _prepared(session)


def driver_memory(total: int | None = None) -> str:
    """The driver's heap when none is configured: 40 % of the machine's memory, between 2 and
    32 GB (in ``local[*]`` every task runs in the driver; the rest is left to the Python
    workers, the page cache and the OS).

    >>> driver_memory(24 << 30), driver_memory(4 << 30), driver_memory(512 << 30)
    ('9g', '2g', '32g')
    """
    if total is None:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return f"{min(32, max(2, total * 2 // 5 >> 30))}g"


def _prepared(session: SparkSession) -> SparkSession:
    """Define the rules' engine functions in ``session``."""
    from pyspark.sql.functions import udf

    session.sparkContext.setLogLevel("ERROR")
    session.sql(KEY_FUNCTION_SQL)
    # A lambda is shipped to the Python workers by value: they need not import c360.
    nfc = udf(
        lambda v: unicodedata.normalize("NFC", v) if isinstance(v, str) else None,
        "string",
        useArrow=True,
    )
    session.udf.register(NFC_FUNCTION, nfc)
    return session


def _check_master(master: str) -> None:
    """Fail fast, with one line, when a ``spark://`` master does not answer."""
    if not master.startswith("spark://"):
        if not (master.startswith(("local", "yarn", "k8s://", "mesos://"))):
            raise EngineError(
                f"Spark master {master!r} is not a master URL: use local[*], "
                "spark://host:7077, yarn or k8s://https://host:443"
            )
        return
    for address in master.removeprefix("spark://").split(","):
        parsed = urlparse(f"spark://{address}")
        host, port = parsed.hostname, parsed.port or 7077
        try:
            with socket.create_connection((host or "", port), timeout=5):
                return
        except OSError:
            continue
    raise EngineError(
        f"cannot reach the Spark master {master}: is it running, and is the URL right?"
    )


@contextmanager
def translated(
    action: str, *, error: type[EngineError] | type[InputError] = EngineError
) -> Iterator[None]:
    """Spark and JVM errors as one line naming what c360 was doing."""
    try:
        yield
    except (EngineError, InputError):
        raise
    except Exception as exc:
        text = str(exc)
        if "OutOfMemoryError" in text or "Java heap space" in text:
            raise EngineError(
                f"Spark ran out of memory {action}: raise engine.spark_driver_memory or "
                "spark.executor.memory (engine.spark_conf), or lower the window"
            ) from exc
        raise error(f"Spark failed {action}: {_first_line(exc)}") from exc


def _first_line(exc: BaseException) -> str:
    """The line of a (JVM or Python worker) error that says what went wrong."""
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    causes = [line for line in lines if _CAUSE.match(line)]
    if causes:
        return causes[-1]
    return lines[0] if lines else type(exc).__name__
