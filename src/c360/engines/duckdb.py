"""The embedded DuckDB engine (the default): in-process, multi-threaded, spills to disk."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import ibis
import pyarrow.parquet as pq
from ibis.backends.duckdb import Backend as DuckDBBackend

from c360.engines.base import Engine
from c360.errors import EngineError, InputError
from c360.io.files import MAX_LINE_BYTES
from c360.io.lines import read_lines
from c360.rules._keys import KEY_DIGITS, KEY_FUNCTION
from c360.rules.search import NFC_FUNCTION, SOURCE_COLUMNS

if TYPE_CHECKING:
    import ibis.expr.types as ir
    import pyarrow as pa

    from c360.config import EngineConfig
    from c360.io.files import SearchDay, SourceFile

# One parse per line: TRY turns json_transform's error on malformed text into NULL (measured on a
# 1.6 M-line SF1 day: 0.93 s against 1.17 s with a json_valid guard, which parses each line a
# second time; every line decodes the same, D99). String fields come back as text, TotalDuration as
# raw JSON so its JSON type (integer vs "12" vs 12.0) can be checked. The rare rows whose fields
# are all null get a second look to tell a non-object `_source` from an empty one.
# No row_number(): every line, blank ones included (the CSV reader yields them as NULL), comes out
# in file order, and DuckDB's order-preserving COPY keeps that order in the bronze Parquet file,
# whose row positions are then the line numbers (read back with file_row_number). A window would
# number the lines too, but everything after it would run on one thread (measured: 4 s instead of
# 1.3 s for a 276 MB day).
_CONTENT_SQL = """
SELECT
    {name} AS source_file,
    DATE '{day}' AS file_date,
    -- CASE, not OR: only CASE skips the whitespace test on the lines that parsed (~1 s a day).
    CASE WHEN line IS NULL THEN TRUE WHEN json_ok THEN FALSE
        ELSE regexp_full_match(line, '\\s*') END AS blank,
    too_long,
    line AS raw,
    {encoding_ok} AS encoding_ok,
    * EXCLUDE (line, j, too_long, duration_text{exclude})
FROM (
    SELECT
        *,
        coalesce(strlen(line) > {max_line}, FALSE) AS too_long,
        CASE WHEN NOT too_long THEN TRY(json_transform(line, '{shape}')) END AS j,
        j IS NOT NULL AS json_ok,
        CASE
            WHEN j IS NULL OR j['_source'] IS NULL THEN FALSE
            WHEN j['_source']['Contract'] IS NULL AND j['_source']['Mac'] IS NULL
                 AND j['_source']['TotalDuration'] IS NULL AND j['_source']['AppName'] IS NULL
                THEN json_type(line, '$._source') = 'OBJECT'
            ELSE TRUE
        END AS source_is_object,
        j['_id'] AS record_id,
        j['_source']['Contract'] AS contract,
        j['_source']['Mac'] AS mac,
        -- list_contains, not IN: a long IN list becomes a join and stalls the pipeline.
        CASE
            WHEN j['_source']['AppName'] IS NULL THEN NULL
            WHEN list_contains([{known_apps}], j['_source']['AppName'])
                THEN j['_source']['AppName']
            WHEN json_type(line, '$._source.AppName') = 'VARCHAR' THEN j['_source']['AppName']
        END AS app_name,
        -- The JSON integers json_type calls UBIGINT or BIGINT, read from the value's JSON text
        -- instead of parsing it twice more (json_type, then a JSON cast): ~0.15 s a day (D102).
        CAST(j['_source']['TotalDuration'] AS VARCHAR) AS duration_text,
        coalesce(regexp_full_match(duration_text, '-?(0|[1-9][0-9]*)')
            AND TRY_CAST(duration_text AS HUGEINT)
                BETWEEN -9223372036854775808 AND 18446744073709551615, FALSE) AS duration_is_int,
        CASE WHEN duration_is_int THEN TRY_CAST(duration_text AS BIGINT) END AS duration
    FROM {relation}
)
"""
# The fast line reader: DuckDB's parallel CSV reader, one text column per line. A file with a
# line near the limit never comes here (the file scan sends it to the exact reader).
_READ_LINES = (
    "read_csv({path}, columns = {{'line': 'VARCHAR'}}, header = false, delim = chr(1), "
    "quote = '', escape = '', auto_detect = false, strict_mode = false, "
    "compression = '{compression}', max_line_size = {max_line_size})"
)
_SHAPE = (
    '{"_id":"VARCHAR","_source":{"Contract":"VARCHAR","Mac":"VARCHAR",'
    '"TotalDuration":"JSON","AppName":"VARCHAR"}}'
)


def _content_sql(
    source: SourceFile,
    relation: str,
    known_apps: Sequence[str],
    max_line_bytes: int,
    *,
    exact_lines: bool,
) -> str:
    """The decoding query of one file's lines in ``relation`` (column ``line``, and
    ``encoding_ok`` when ``exact_lines``: the exact splitter's table)."""
    return _CONTENT_SQL.format(
        name=_quote(source.name),
        day=source.file_date.isoformat(),
        relation=relation,
        shape=_SHAPE,
        known_apps=", ".join(_quote(app) for app in known_apps),
        encoding_ok="encoding_ok" if exact_lines else "TRUE",
        exclude=", encoding_ok" if exact_lines else "",
        max_line=max_line_bytes,
    )


def decode_exactly(
    source: SourceFile, known_apps: Sequence[str], max_line_bytes: int = MAX_LINE_BYTES
) -> pa.Table:
    """Every line of ``source`` decoded as this engine decodes it (the exact splitter, then the
    decoding query), in line order, as an Arrow table: how another engine reads a file whose
    JSON its own parser reads differently (D78)."""
    con = duckdb.connect()
    try:
        con.register("content_lines", read_lines(source.path))
        sql = _content_sql(source, "content_lines", known_apps, max_line_bytes, exact_lines=True)
        return con.execute(sql).to_arrow_table()
    except duckdb.Error as exc:
        raise EngineError(f"DuckDB cannot read {source.path}: {_first_line(exc)}") from exc
    finally:
        con.close()


def refused_but_readable(bronze: Sequence[Path]) -> set[str]:
    """Names of the content files in ``bronze`` with a line quarantined as ``malformed_json``
    that this engine's JSON reading accepts (a duplicated key, ``NaN``, a trailing comma:
    D78)."""
    if not bronze:
        return set()
    listing = ", ".join(_quote(str(path)) for path in bronze)
    sql = (
        f"SELECT DISTINCT source_file FROM read_parquet([{listing}]) "
        "WHERE reject_reason = 'malformed_json' AND json_valid(raw)"
    )
    con = duckdb.connect()
    try:
        return {row[0] for row in con.execute(sql).fetchall()}
    except duckdb.Error as exc:
        raise EngineError(f"DuckDB cannot read bronze files: {_first_line(exc)}") from exc
    finally:
        con.close()


# Landed stream events (SPEC 8.2), one JSON value per line of ``{relation}`` (columns stream,
# file, line_no, line): the shapes of rules.live's DECODED_*_COLUMNS. A field is kept as text
# only when it is a JSON string; `vote` must be the literal true; timestamps are ISO-8601 UTC.
#: The shape of an event time both engines read (``2026-12-02T18:00:00.25Z`` or ``+00:00``):
#: each engine's parser alone is more lenient in different ways (a one-digit hour, a lower-case
#: ``t``).
EVENT_TIME_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|\+00:00)$"
_EVENT_TIME = (
    "CASE WHEN json_type(j['timestamp']) = 'VARCHAR' AND regexp_full_match(j['timestamp'] ->> '$', "
    f"'{EVENT_TIME_PATTERN}') THEN try_strptime(j['timestamp'] ->> '$', "
    "['%Y-%m-%dT%H:%M:%S.%fZ', '%Y-%m-%dT%H:%M:%SZ', '%Y-%m-%dT%H:%M:%S.%f+00:00', "
    "'%Y-%m-%dT%H:%M:%S+00:00']) END"
)


def _text(field: str) -> str:
    return f"CASE WHEN json_type(j['{field}']) = 'VARCHAR' THEN j['{field}'] ->> '$' END"


def _landed(stream: str) -> str:
    """The landed lines of ``stream`` with whether each is JSON, and a JSON object."""
    # CASE, not AND: json_type raises on text that is not JSON.
    return (
        "SELECT *, json_valid(line) AS json_ok, CASE WHEN json_valid(line) THEN "
        "json_type(line) = 'OBJECT' ELSE FALSE END AS is_object "
        f"FROM {{relation}} WHERE stream = '{stream}'"
    )


VOTE_DECODE_SQL = f"""
SELECT file, line_no, line AS raw, json_ok, is_object,
    {_text("id")} AS record_id, {_text("user_id")} AS user_id, {_text("song")} AS song,
    coalesce(json_type(j['vote']) = 'BOOLEAN' AND CAST(j['vote'] AS VARCHAR) = 'true', FALSE)
        AS vote_true,
    {_EVENT_TIME} AS ts
FROM (
    SELECT *, CASE WHEN is_object THEN json_transform(line,
        '{{"id":"JSON","user_id":"JSON","song":"JSON","vote":"JSON","timestamp":"JSON"}}') END AS j
    FROM ({_landed("votes")})
)
"""
VIEW_DECODE_SQL = f"""
SELECT file, line_no, line AS raw, json_ok, is_object,
    {_text("id")} AS record_id, {_EVENT_TIME} AS ts,
    j['Contract'] AS contract, j['Mac'] AS mac, {_text("AppName")} AS app_name,
    coalesce(json_type(j['TotalDuration']) IN ('UBIGINT', 'BIGINT'), FALSE) AS duration_is_int,
    CASE WHEN json_type(j['TotalDuration']) IN ('UBIGINT', 'BIGINT')
        THEN TRY_CAST(j['TotalDuration'] AS BIGINT) END AS duration
FROM (
    SELECT *, CASE WHEN is_object THEN json_transform(line,
        '{{"id":"JSON","timestamp":"JSON","Contract":"VARCHAR","Mac":"VARCHAR","AppName":"JSON",'
        '"TotalDuration":"JSON"}}') END AS j
    FROM ({_landed("events")})
)
"""


_INTEGER_TYPES = {
    "int8": "TINYINT",
    "int16": "SMALLINT",
    "int32": "INTEGER",
    "int64": "BIGINT",
    "uint8": "UTINYINT",
    "uint16": "USMALLINT",
    "uint32": "UINTEGER",
    "uint64": "UBIGINT",
}


#: The rules' surrogate-key function: the MD5's first hex digits read as a BIGINT, without
#: forming text. ``md5_number`` is the digest read little-endian, so its low 64 bits byte-swapped
#: are the digest's first 16 hex digits read as a number; the shift keeps ``KEY_DIGITS`` of them.
#: (Measured on a 1.6 M-line SF1 day: the fact partition's two keys 0.40 s → 0.25 s, against
#: ``CAST('0x' || md5(x)[1:15] AS BIGINT)``; DuckDB computes the repeated ``md5_number`` once.)
_LOW_64 = "CAST(md5_number(x) & 18446744073709551615::UHUGEINT AS UBIGINT)"
_BYTE_SWAPPED = " | ".join(f"((({{v}} >> {8 * i}) & 255) << {56 - 8 * i})" for i in range(8))
KEY_FUNCTION_SQL = (
    f"CREATE OR REPLACE MACRO {KEY_FUNCTION}(x) AS "
    f"CAST(({_BYTE_SWAPPED.format(v=_LOW_64)}) >> {64 - 4 * KEY_DIGITS} AS BIGINT)"
)


#: The rules' Unicode NFC function.
NFC_FUNCTION_SQL = f"CREATE OR REPLACE MACRO {NFC_FUNCTION}(x) AS nfc_normalize(x)"


def connect(**settings: object) -> DuckDBBackend:
    """An Ibis DuckDB backend with the functions the rules call."""
    con = ibis.duckdb.connect(**settings)
    con.raw_sql(KEY_FUNCTION_SQL)
    con.raw_sql(NFC_FUNCTION_SQL)
    return con


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class DuckDBEngine(Engine):
    """Runs the rules on an in-memory DuckDB database that spills to ``scratch``."""

    name = "duckdb"
    #: Small dates share a pass (a query's fixed cost is paid once, not per date); a full day
    #: (~1.6 M lines) goes alone, which measured fastest at SF1 (bigger passes spend more on
    #: partitioned writes and larger hash tables than they save).
    dates_per_pass = 31
    lines_per_pass = 2_000_000
    sorts_whole_tables = True

    def __init__(self, config: EngineConfig, *, scratch: str | None = None) -> None:
        super().__init__(config, scratch=scratch)
        settings: dict[str, object] = {"threads": config.threads or os.cpu_count() or 1}
        if config.memory_limit:
            settings["memory_limit"] = config.memory_limit
        temp = config.temp_directory or scratch
        if temp:
            Path(temp).mkdir(parents=True, exist_ok=True)
            settings["temp_directory"] = temp
        try:
            self.con = connect(**settings)
        except duckdb.Error as exc:
            raise EngineError(f"cannot start DuckDB: {exc}") from exc
        self._views = 0
        self._compiled: dict[object, str] = {}

    def decode_content(
        self,
        sources: Sequence[SourceFile],
        *,
        plain_text: bool = True,
        max_line_bytes: int = MAX_LINE_BYTES,
        reference_json: bool = False,
    ) -> ir.Table:
        # reference_json is ignored: this engine's JSON reading is the rules' own (D78).
        (source,) = sources  # files_per_read is 1: positions in one file are its line numbers
        if plain_text:
            relation = _READ_LINES.format(
                path=_quote(str(source.path)),
                compression="gzip" if source.gzip else "none",
                max_line_size=max(2 << 20, max_line_bytes + 1024),
            )
        else:
            # Exact but slower: Python splits the lines and flags undecodable ones.
            self.con.con.register("content_lines", read_lines(source.path))
            relation = "content_lines"
        sql = _content_sql(
            source, relation, self.known_apps, max_line_bytes, exact_lines=not plain_text
        )
        return self._view("decoded_content", sql)

    def decode_search(self, days: Sequence[SearchDay]) -> ir.Table:
        sql = " UNION ALL ".join(self._search_day_sql(day) for day in days)
        return self._view("decoded_search", sql)

    def _search_day_sql(self, day: SearchDay) -> str:
        listing = ", ".join(_quote(str(p)) for p in day.parts)
        scan = (
            f"read_parquet([{listing}], union_by_name = true, filename = true, "
            "file_row_number = true, hive_partitioning = false)"
        )
        try:
            present = {
                row[0] for row in self.con.con.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()
            }
        except duckdb.Error as exc:
            raise InputError(f"search day {day.folder}: {_first_line(exc)}") from exc
        columns = []
        for source, name in SOURCE_COLUMNS.items():
            value = f'CAST("{source}" AS VARCHAR)' if source in present else "NULL::VARCHAR"
            columns.append(f"{value} AS {name}")
        return (
            f"SELECT {_quote(day.name)} || '/' || parse_filename(filename) AS source_file, "
            f"DATE '{day.day.isoformat()}' AS file_date, file_row_number + 1 AS line_no, "
            f"{', '.join(columns)} FROM {scan}"
        )

    def _view(self, name: str, sql: str) -> ir.Table:
        # A view keeps DuckDB-specific reader SQL out of Ibis' SQL parser.
        try:
            self.con.raw_sql(f"CREATE OR REPLACE TEMP VIEW {name} AS {sql}")
        except duckdb.Error as exc:
            raise EngineError(f"DuckDB cannot read the input: {_first_line(exc)}") from exc
        return self.con.table(name)

    def read_parquet(
        self, paths: Sequence[Path], *, line_numbers: bool = False, name: str | None = None
    ) -> ir.Table:
        if not paths:
            raise InputError("no Parquet files to read")
        listing = ", ".join(_quote(str(p)) for p in paths)
        self._views += 1
        view = f"parquet_{name}" if name else f"parquet_{self._views}"
        if line_numbers:
            sql = (
                "SELECT * EXCLUDE (file_row_number), file_row_number + 1 AS line_no "
                f"FROM read_parquet([{listing}], union_by_name = true, file_row_number = true, "
                "hive_partitioning = false)"
            )
        else:
            sql = (
                f"SELECT * FROM read_parquet([{listing}], union_by_name = true, "
                "hive_partitioning = false)"
            )
        return self._view(view, sql)

    def write_parquet(self, expr: ir.Table, path: Path) -> int:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            self.con.raw_sql(
                f"COPY ({self._typed_sql(expr)}) TO {_quote(str(tmp))} "
                "(FORMAT parquet, COMPRESSION snappy)"
            )
            rows = int(pq.read_metadata(tmp).num_rows)
            tmp.replace(path)
        except duckdb.Error as exc:
            tmp.unlink(missing_ok=True)
            raise EngineError(f"DuckDB failed writing {path}: {_first_line(exc)}") from exc
        return rows

    def _write_partitioned(self, expr: ir.Table, by: str, folder: Path) -> None:
        column = '"' + by.replace('"', '""') + '"'
        try:
            self.con.raw_sql(
                f"COPY (SELECT * EXCLUDE ({column}), CAST({column} AS VARCHAR) AS __part "
                f"FROM ({self._typed_sql(expr)})) TO {_quote(str(folder))} "
                "(FORMAT parquet, COMPRESSION snappy, PARTITION_BY (__part))"
            )
        except duckdb.Error as exc:
            raise EngineError(
                f"DuckDB failed writing partitions by {by}: {_first_line(exc)}"
            ) from exc

    def materialize(self, expr: ir.Table, name: str) -> ir.Table:
        try:
            self.con.raw_sql(f'CREATE OR REPLACE TEMP TABLE "{name}" AS {self._typed_sql(expr)}')
        except duckdb.Error as exc:
            raise EngineError(f"DuckDB failed computing {name}: {_first_line(exc)}") from exc
        return self.con.table(name)

    def to_pyarrow(self, expr: ir.Table) -> pa.Table:
        try:
            return self.con.raw_sql(self._typed_sql(expr)).to_arrow_table()
        except duckdb.Error as exc:
            raise EngineError(f"DuckDB query failed: {_first_line(exc)}") from exc

    def _typed_sql(self, expr: ir.Table) -> str:
        """The expression's SQL with every integer column cast to the type Ibis declares.

        DuckDB widens ``sum(BIGINT)`` to HUGEINT, which Ibis still calls int64 (so its own cast
        is dropped as a no-op) and which Parquet would store as DOUBLE. Casting at the boundary
        keeps every engine's output types equal to the expression's schema.
        """
        self.con._run_pre_execute_hooks(expr)  # registers in-memory tables (memtables)
        # Compiling is ~30 ms of Python per query; date after date the expressions are equal
        # (same view names and schemas), so each is compiled once.
        key = expr.op()
        cached = self._compiled.get(key)
        if cached is not None:
            return cached
        sql = ibis.to_sql(expr, dialect="duckdb")
        columns = []
        for name, dtype in expr.schema().items():
            quoted = '"' + name.replace('"', '""') + '"'
            if dtype.is_integer():
                sql_type = _INTEGER_TYPES[str(dtype).lstrip("!")]
                columns.append(f"CAST({quoted} AS {sql_type}) AS {quoted}")
            else:
                columns.append(quoted)
        typed = f"SELECT {', '.join(columns)} FROM ({sql})"
        self._compiled[key] = typed
        return typed

    def close(self) -> None:
        self.con.disconnect()


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
