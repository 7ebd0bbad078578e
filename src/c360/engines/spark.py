"""The Apache Spark engine: the same rules, compiled by Ibis to Spark SQL (SPEC 3).

Only reading, writing and the session are Spark-specific here. Raw content lines are decoded
with Spark 4's VARIANT functions, which tell a JSON integer from a string or a decimal as
DuckDB's ``json_type`` does; the rules' two engine functions are defined when the session
starts: ``c360_key`` as a SQL function and ``c360_nfc`` as an Arrow-batched Python function.

Every output is one Parquet file written atomically: Spark writes a folder next to the target,
and its single part file is renamed onto the target. Rows keep the order of their input, so
writes coalesce to one partition. Content files are read all at once: each file's lines go to
one task in line order, and each bronze file is written by that task (a bronze row's position
is its line number). The lake must be
on a file system the driver and every executor see (a local disk for ``local[*]``, a shared
mount for a cluster).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import sys
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

import ibis
import pyarrow as pa
import pyarrow.parquet as pq

from c360.engines.base import Engine, _move_partitions
from c360.errors import EngineError, InputError
from c360.io.lines import read_lines
from c360.rules._keys import KEY_DIGITS, KEY_FUNCTION
from c360.rules.search import NFC_FUNCTION, SOURCE_COLUMNS

if TYPE_CHECKING:
    import ibis.expr.types as ir
    from pyspark.sql import DataFrame, SparkSession

    from c360.config import EngineConfig
    from c360.io.files import SearchDay, SourceFile

#: The rules' surrogate-key function, as a Spark SQL function (same value as DuckDB's macro).
KEY_FUNCTION_SQL = (
    f"CREATE OR REPLACE TEMPORARY FUNCTION {KEY_FUNCTION}(x STRING) RETURNS BIGINT "
    f"RETURN CAST(conv(substr(md5(x), 1, {KEY_DIGITS}), 16, 10) AS BIGINT)"
)
#: JSON integer types as Spark's ``schema_of_variant`` names them.
_INTEGER_VARIANTS = "('BIGINT', 'INT', 'SMALLINT', 'TINYINT')"
# One parse per line (try_parse_json: NULL when the line is not one JSON value); the VARIANT
# keeps each value's JSON type, so TotalDuration's integer-ness and AppName's string-ness are
# checked as the DuckDB engine checks them. Two traversals of it: `_id`, and `_source` cast to a
# struct whose fields are text (Contract, Mac) or left as VARIANT (AppName, TotalDuration: their
# JSON type decides their validity). The cast fails, so the struct is null, exactly when
# `_source` is not an object; a JSON type is only asked for the two VARIANT fields, and for
# AppName only when its text is not a known app (a known app's name can only come from a JSON
# string). Measured on 4.8 M lines: 36 s with a traversal per field and a type per field, 18 s
# this way.
_CONTENT_SQL = """
SELECT
    source_file,
    file_date,
    _block,
    _position,
    CASE WHEN v IS NOT NULL THEN FALSE
        ELSE line IS NULL OR line RLIKE '^[ \\\\t\\\\n\\\\f\\\\r]*$' END AS blank,
    line AS raw,
    {encoding_ok} AS encoding_ok,
    v IS NOT NULL AS json_ok,
    src IS NOT NULL AS source_is_object,
    record_id,
    src.Contract AS contract,
    src.Mac AS mac,
    CASE
        WHEN _app IN ({known_apps}) THEN _app
        WHEN schema_of_variant(src.AppName) = 'STRING' THEN _app
    END AS app_name,
    coalesce(_duration_type IN {integers}, FALSE) AS duration_is_int,
    CASE WHEN _duration_type IN {integers}
        THEN try_variant_get(src.TotalDuration, '$', 'bigint') END AS duration
FROM (
    SELECT
        *,
        try_variant_get(src.AppName, '$', 'string') AS _app,
        schema_of_variant(src.TotalDuration) AS _duration_type
    FROM (
        SELECT
            *,
            try_variant_get(v, '$._id', 'string') AS record_id,
            try_variant_get(
                v, '$._source',
                'struct<Contract: string, Mac: string, AppName: variant, TotalDuration: variant>'
            ) AS src
        FROM (
            SELECT source_file, file_date, _block, _position, line, {encoding_column}
                try_parse_json(line) AS v
            FROM {relation}
        )
    )
)
"""
_SPARK_TYPES = {
    "int8": "TINYINT",
    "int16": "SMALLINT",
    "int32": "INT",
    "int64": "BIGINT",
    "timestamp": "TIMESTAMP_NTZ",
}
_LOG4J = Path(__file__).with_name("log4j2.properties")
#: The script ``spark-submit`` runs: the ``c360`` command.
SUBMIT_SCRIPT = Path(__file__).with_name("submit") / "c360_main.py"
#: A line naming an error's type and message, e.g. ``TypeError: ...``, ``java.io.IOException: ...``
_CAUSE = re.compile(r"^[\w.$]*(Error|Exception)(\s*\[[A-Z_.]+\])?: \S")


def _quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


class SparkEngine(Engine):
    """Runs the rules on a Spark session (``local[*]`` by default, or any master URL)."""

    name = "spark"
    #: Each query is a Spark job (seconds of scheduling and shuffle on a small machine): the
    #: content build takes a month of dates per pass.
    dates_per_pass = 31
    #: Every new content file of a run is decoded in one read, and written in one job.
    files_per_read = 1000

    def __init__(self, config: EngineConfig, *, scratch: str | None = None) -> None:
        super().__init__(config, scratch=scratch)
        self.session = start_session(config, scratch=scratch)
        self.con = ibis.pyspark.connect(session=self.session)
        self._views: list[str] = []

    # -- decoding ---------------------------------------------------------------------------

    def decode_content(self, sources: Sequence[SourceFile], *, plain_text: bool = True) -> ir.Table:
        from pyspark.sql import functions as f

        with _translated(f"reading {sources[0].path}" if len(sources) == 1 else "reading"):
            if plain_text:
                # One read of every file. Lines end at \n only (a lone \r stays inside its
                # line); the \r of \r\n is dropped: the same physical lines as the DuckDB
                # engine's reader. A file may be split into blocks read by different tasks: its
                # lines are in order of block offset, then of position in the block (the
                # increasing id of the task's rows).
                days = f.create_map(
                    *[v for s in sources for v in (f.lit(s.name), f.lit(s.file_date))]
                )
                text = self.session.read.option("lineSep", "\n").text(
                    [str(s.path) for s in sources]
                )
                lines = text.select(
                    f.col("_metadata.file_name").alias("source_file"),
                    f.col("_metadata.file_block_start").alias("_block"),
                    f.monotonically_increasing_id().alias("_position"),
                    f.regexp_replace("value", "\\r\\z", "").alias("line"),
                ).withColumn("file_date", days[f.col("source_file")].cast("date"))
                encoding, column = "TRUE", ""
            else:
                # Exact but slower: Python splits the lines and flags undecodable ones.
                (source,) = sources
                lines = self.session.createDataFrame(read_lines(source.path)).select(
                    f.lit(source.name).alias("source_file"),
                    f.lit(source.file_date).cast("date").alias("file_date"),
                    f.lit(0).alias("_block"),
                    f.monotonically_increasing_id().alias("_position"),  # increasing in order
                    "line",
                    "encoding_ok",
                )
                encoding, column = "encoding_ok", "encoding_ok,"
            relation = self._register(lines, "content_lines")
            sql = _CONTENT_SQL.format(
                known_apps=", ".join(_quote(app) for app in self.known_apps) or "NULL",
                relation=relation,
                encoding_ok=encoding,
                encoding_column=column,
                integers=_INTEGER_VARIANTS,
            )
            # One task per file, its lines in order: the bronze writes keep this order (a bronze
            # row's position is its line number).
            decoded = (
                self.session.sql(sql)
                .repartition("source_file")
                .sortWithinPartitions("source_file", "_block", "_position")
                .drop("_block", "_position")
            )
            return self._view(decoded, "decoded_content")

    def decode_search(self, days: Sequence[SearchDay]) -> ir.Table:
        from functools import reduce

        frames = [self._search_day(day) for day in days]
        return self._view(reduce(lambda a, b: a.unionByName(b), frames), "decoded_search")

    def _search_day(self, day: SearchDay) -> DataFrame:
        from pyspark.sql import functions as f

        with _translated(f"search day {day.folder}", error=InputError):
            parts = (
                self.session.read.option("mergeSchema", "true")
                .option("recursiveFileLookup", "true")
                .parquet(*[str(p) for p in day.parts])
            )
            present = set(parts.columns)
            columns = [
                (f.col(f"`{source}`").cast("string") if source in present
                 else f.lit(None).cast("string")).alias(name)
                for source, name in SOURCE_COLUMNS.items()
            ]  # fmt: skip
            return parts.select(
                f.concat(f.lit(f"{day.name}/"), f.col("_metadata.file_name")).alias("source_file"),
                f.lit(day.day).cast("date").alias("file_date"),
                (f.col("_metadata.row_index") + 1).cast("bigint").alias("line_no"),
                *columns,
            )

    # -- Parquet ----------------------------------------------------------------------------

    def read_parquet(
        self, paths: Sequence[Path], *, line_numbers: bool = False, name: str | None = None
    ) -> ir.Table:
        from pyspark.sql import functions as f

        if not paths:
            raise InputError("no Parquet files to read")
        with _translated("reading Parquet"):
            frame = (
                self.session.read.option("mergeSchema", "true")
                .option("recursiveFileLookup", "true")  # no partition columns from paths
                .parquet(*[str(p) for p in paths])
            )
            if line_numbers:
                frame = frame.withColumn(
                    "line_no", (f.col("_metadata.row_index") + 1).cast("bigint")
                )
            return self._view(frame, f"parquet_{name}" if name else "parquet")

    def write_parquet(self, expr: ir.Table, path: Path) -> int:
        path.parent.mkdir(parents=True, exist_ok=True)
        folder = path.with_name(f".{path.name}.{os.getpid()}.spark")
        shutil.rmtree(folder, ignore_errors=True)
        try:
            with _translated(f"writing {path}"):
                frame = self._frame(expr)
                frame.coalesce(1).write.mode("overwrite").option("compression", "snappy").parquet(
                    str(folder)
                )
            parts = sorted(folder.glob("part-*.parquet"))
            if parts:
                parts[0].replace(path)
            else:  # no rows: Spark may write no part file at all
                pq.write_table(_empty(expr), path)
            return int(pq.read_metadata(path).num_rows)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def write_files(self, expr: ir.Table, column: str, paths: Mapping[str, Path]) -> None:
        from pyspark.sql import functions as f

        with self._partition_folder() as folder:
            with _translated("writing the bronze files"):
                # The rows arrive grouped by file (one task per file) and in line order; a
                # copy of the column names the folder, so the files keep the column itself.
                frame = self._frame(expr).withColumn("__part", f.col(f"`{column}`"))
                frame.write.mode("overwrite").option("compression", "snappy").partitionBy(
                    "__part"
                ).parquet(str(folder))
            _move_partitions(folder, paths, schema=_arrow_schema(expr))

    def _write_partitioned(self, expr: ir.Table, by: str, folder: Path) -> None:
        from pyspark.sql import functions as f

        with _translated(f"writing partitions by {by}"):
            frame = self._frame(expr)
            frame = frame.withColumn("__part", f.col(f"`{by}`").cast("string")).drop(by)
            # One task per value, so one file per partition.
            frame.repartition("__part").write.mode("overwrite").option(
                "compression", "snappy"
            ).partitionBy("__part").parquet(str(folder))

    def materialize(self, expr: ir.Table, name: str) -> ir.Table:
        with _translated(f"computing {name}"):
            frame = self._frame(expr).localCheckpoint(eager=True)
            return self._view(frame, name)

    def to_pyarrow(self, expr: ir.Table) -> pa.Table:
        with _translated("running a query"):
            table = self._frame(expr).toArrow()
        return table.cast(_arrow_schema(expr))

    def close(self) -> None:
        for name in self._views:
            self.session.catalog.dropTempView(name)
        self._views.clear()

    # -- helpers ----------------------------------------------------------------------------

    def _frame(self, expr: ir.Table) -> DataFrame:
        """The expression as a DataFrame whose column types are the expression's schema."""
        self.con._run_pre_execute_hooks(expr)  # registers in-memory tables (memtables)
        sql = ibis.to_sql(expr, dialect="pyspark")
        columns = []
        for name, dtype in expr.schema().items():
            quoted = "`" + name.replace("`", "``") + "`"
            kind = "timestamp" if dtype.is_timestamp() else str(dtype).lstrip("!")
            spark_type = _SPARK_TYPES.get(kind)
            columns.append(f"CAST({quoted} AS {spark_type}) AS {quoted}" if spark_type else quoted)
        return self.session.sql(f"SELECT {', '.join(columns)} FROM ({sql})")

    def _register(self, frame: DataFrame, name: str) -> str:
        unique = f"{name}_{len(self._views)}"
        frame.createOrReplaceTempView(unique)
        self._views.append(unique)
        return unique

    def _view(self, frame: DataFrame, name: str) -> ir.Table:
        return self.con.table(self._register(frame, name))


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
        "spark.driver.memory": config.spark_driver_memory,
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
def _translated(
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


def _arrow_schema(expr: ir.Table) -> pa.Schema:
    return expr.schema().to_pyarrow()


def _empty(expr: ir.Table) -> pa.Table:
    return _arrow_schema(expr).empty_table()
