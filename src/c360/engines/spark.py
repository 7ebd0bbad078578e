"""The Apache Spark engine: the same rules, compiled by Ibis to Spark SQL (SPEC 3).

Only reading, writing and the session are Spark-specific here. Raw content lines are decoded
with Spark 4's VARIANT functions, which tell a JSON integer from a string or a decimal as
DuckDB's ``json_type`` does (the rare file with JSON that only DuckDB's lenient parser reads,
a duplicated key or ``NaN``, is decoded again by DuckDB's reader: D78); the rules' two engine
functions are defined when the session starts: ``c360_key`` as a SQL function and ``c360_nfc``
as an Arrow-batched Python function.

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
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import ibis
import pyarrow as pa
import pyarrow.parquet as pq

from c360.engines.base import Engine, _move_partitions
from c360.engines.duckdb import decode_exactly, refused_but_readable
from c360.engines.spark_session import start_session, translated
from c360.errors import InputError
from c360.io.files import MAX_LINE_BYTES
from c360.io.lines import read_lines
from c360.rules.search import SOURCE_COLUMNS

if TYPE_CHECKING:
    import ibis.expr.types as ir
    from pyspark.sql import DataFrame, SparkSession

    from c360.config import EngineConfig
    from c360.io.files import SearchDay, SourceFile

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
    too_long,
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
            SELECT source_file, file_date, _block, _position, line, {encoding_column} too_long,
                CASE WHEN NOT too_long THEN try_parse_json(line) END AS v
            FROM (
                SELECT *, coalesce(octet_length(line) > {max_line}, FALSE) AS too_long
                FROM {relation}
            )
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
#: The script ``spark-submit`` runs: the ``c360`` command.
SUBMIT_SCRIPT = Path(__file__).with_name("submit") / "c360_main.py"


def _quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


class SparkEngine(Engine):
    """Runs the rules on a Spark session (``local[*]`` by default, or any master URL)."""

    name = "spark"
    #: Each query is a Spark job (seconds of scheduling and shuffle on a small machine): the
    #: content build takes a month of dates per pass.
    dates_per_pass = 31
    #: …and at most ~6 SF1 days: a pass's usage rows and partitioned writes stay within the
    #: driver's memory (a whole SF1 month in one pass ran out of a 2 GB heap).
    lines_per_pass = 10_000_000
    #: Every new content file of a run is decoded in one read, and written in one job.
    files_per_read = 1000

    def __init__(self, config: EngineConfig, *, scratch: str | None = None) -> None:
        super().__init__(config, scratch=scratch)
        self.session = start_session(config, scratch=scratch)
        self.con = ibis.pyspark.connect(session=self.session)
        self._views: list[str] = []

    # -- decoding ---------------------------------------------------------------------------

    def decode_content(
        self,
        sources: Sequence[SourceFile],
        *,
        plain_text: bool = True,
        max_line_bytes: int = MAX_LINE_BYTES,
        reference_json: bool = False,
    ) -> ir.Table:
        from pyspark.sql import functions as f

        with translated(f"reading {sources[0].path}" if len(sources) == 1 else "reading"):
            if reference_json:
                # A rare file with JSON that Spark's parser refuses and the rules accept (a
                # duplicated key, NaN, a trailing comma): decoded by the rules' reader, in the
                # driver, its rows numbered so that the write keeps their order.
                (source,) = sources
                table = decode_exactly(source, self.known_apps, max_line_bytes)
                table = table.append_column("_position", pa.array(range(table.num_rows)))
                decoded = (
                    self.session.createDataFrame(table)
                    .repartition(1)
                    .sortWithinPartitions("_position")
                    .drop("_position")
                )
                return self._view(decoded, "decoded_content")
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
                max_line=max_line_bytes,
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

    def misread_json(self, bronze: Mapping[str, Path]) -> set[str]:
        # Spark's parser is strict where DuckDB's is lenient (D78): of the lines it refused,
        # those DuckDB reads send their file back through DuckDB's decoding.
        return refused_but_readable(list(bronze.values()))

    def decode_search(self, days: Sequence[SearchDay]) -> ir.Table:
        from functools import reduce

        frames = [self._search_day(day) for day in days]
        return self._view(reduce(lambda a, b: a.unionByName(b), frames), "decoded_search")

    def _search_day(self, day: SearchDay) -> DataFrame:
        from pyspark.sql import functions as f

        with translated(f"search day {day.folder}", error=InputError):
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
        with translated("reading Parquet"):
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
            with translated(f"writing {path}"):
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
            with translated("writing the bronze files"):
                # The rows arrive grouped by file (one task per file) and in line order; a
                # copy of the column names the folder, so the files keep the column itself.
                frame = self._frame(expr).withColumn("__part", f.col(f"`{column}`"))
                frame.write.mode("overwrite").option("compression", "snappy").partitionBy(
                    "__part"
                ).parquet(str(folder))
            _move_partitions(folder, paths, schema=_arrow_schema(expr))

    def _write_partitioned(self, expr: ir.Table, by: str, folder: Path) -> None:
        from pyspark.sql import functions as f

        with translated(f"writing partitions by {by}"):
            frame = self._frame(expr)
            frame = frame.withColumn("__part", f.col(f"`{by}`").cast("string")).drop(by)
            # One task per value, so one file per partition.
            frame.repartition("__part").write.mode("overwrite").option(
                "compression", "snappy"
            ).partitionBy("__part").parquet(str(folder))

    def materialize(self, expr: ir.Table, name: str) -> ir.Table:
        with translated(f"computing {name}"):
            frame = self._frame(expr).localCheckpoint(eager=True)
            return self._view(frame, name)

    def to_pyarrow(self, expr: ir.Table) -> pa.Table:
        with translated("running a query"):
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
        return frame_of(self.session, expr)

    def _register(self, frame: DataFrame, name: str) -> str:
        unique = f"{name}_{len(self._views)}"
        frame.createOrReplaceTempView(unique)
        self._views.append(unique)
        return unique

    def _view(self, frame: DataFrame, name: str) -> ir.Table:
        return self.con.table(self._register(frame, name))


def frame_of(session: SparkSession, expr: ir.Table) -> DataFrame:
    """``expr`` (over ``session``'s views) as a DataFrame whose column types are its schema."""
    sql = ibis.to_sql(expr, dialect="pyspark")
    columns = []
    for name, dtype in expr.schema().items():
        quoted = "`" + name.replace("`", "``") + "`"
        kind = "timestamp" if dtype.is_timestamp() else str(dtype).lstrip("!")
        spark_type = _SPARK_TYPES.get(kind)
        columns.append(f"CAST({quoted} AS {spark_type}) AS {quoted}" if spark_type else quoted)
    return session.sql(f"SELECT {', '.join(columns)} FROM ({sql})")


def _arrow_schema(expr: ir.Table) -> pa.Schema:
    return expr.schema().to_pyarrow()


def _empty(expr: ir.Table) -> pa.Table:
    return _arrow_schema(expr).empty_table()
