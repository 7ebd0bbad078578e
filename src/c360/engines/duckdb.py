"""The embedded DuckDB engine (the default): in-process, multi-threaded, spills to disk."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import ibis
import pyarrow.parquet as pq

from c360.engines.base import Engine
from c360.errors import EngineError, InputError

if TYPE_CHECKING:
    import ibis.expr.types as ir
    import pyarrow as pa

    from c360.config import EngineConfig
    from c360.io.files import SourceFile

# One parse per line: json_valid guards json_transform (which raises on malformed text), and the
# CASE only runs the transform on valid lines. String fields come back as text, TotalDuration as
# raw JSON so its JSON type (integer vs "12" vs 12.0) can be checked. The rare rows whose fields
# are all null get a second look to tell a non-object `_source` from an empty one.
_CONTENT_SQL = """
SELECT
    {name} AS source_file,
    DATE '{day}' AS file_date,
    line_no,
    raw,
    j IS NOT NULL AS json_ok,
    CASE
        WHEN j IS NULL OR j._source IS NULL THEN FALSE
        WHEN j._source.Contract IS NULL AND j._source.Mac IS NULL
             AND j._source.TotalDuration IS NULL AND j._source.AppName IS NULL
            THEN json_type(raw, '$._source') = 'OBJECT'
        ELSE TRUE
    END AS source_is_object,
    j._id AS record_id,
    j._source.Contract AS contract,
    j._source.Mac AS mac,
    CASE
        WHEN j._source.AppName IS NULL THEN NULL
        WHEN j._source.AppName IN ({known_apps}) THEN j._source.AppName
        WHEN json_type(raw, '$._source.AppName') = 'VARCHAR' THEN j._source.AppName
    END AS app_name,
    coalesce(json_type(j._source.TotalDuration) IN ('UBIGINT', 'BIGINT'), FALSE)
        AS duration_is_int,
    CASE WHEN json_type(j._source.TotalDuration) IN ('UBIGINT', 'BIGINT')
        THEN TRY_CAST(j._source.TotalDuration AS BIGINT) END AS duration
FROM (
    SELECT
        line_no,
        raw,
        CASE WHEN json_valid(raw) THEN json_transform(raw, '{shape}') END AS j
    FROM (
        SELECT row_number() OVER () AS line_no, line AS raw
        FROM read_csv({path}, columns = {{'line': 'VARCHAR'}}, header = false,
                      delim = chr(1), quote = '', escape = '', auto_detect = false,
                      strict_mode = false, max_line_size = 67108864)
    )
    WHERE raw IS NOT NULL AND trim(raw) <> ''
)
"""
_SHAPE = (
    '{"_id":"VARCHAR","_source":{"Contract":"VARCHAR","Mac":"VARCHAR",'
    '"TotalDuration":"JSON","AppName":"VARCHAR"}}'
)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class DuckDBEngine(Engine):
    """Runs the rules on an in-memory DuckDB database that spills to ``scratch``."""

    name = "duckdb"
    supports_temp_tables = True

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
            self.con = ibis.duckdb.connect(**settings)
        except duckdb.Error as exc:
            raise EngineError(f"cannot start DuckDB: {exc}") from exc
        self.known_apps: tuple[str, ...] = ()
        self._views = 0

    def decode_content(self, source: SourceFile) -> ir.Table:
        known = ", ".join(_quote(app) for app in self.known_apps) or "NULL"
        sql = _CONTENT_SQL.format(
            name=_quote(source.name),
            day=source.file_date.isoformat(),
            path=_quote(str(source.path)),
            shape=_SHAPE,
            known_apps=known,
        )
        return self._view("decoded_content", sql)

    def _view(self, name: str, sql: str) -> ir.Table:
        # A view keeps DuckDB-specific reader SQL out of Ibis' SQL parser.
        self.con.raw_sql(f"CREATE OR REPLACE TEMP VIEW {name} AS {sql}")
        return self.con.table(name)

    def read_parquet(self, paths: Sequence[Path]) -> ir.Table:
        if not paths:
            raise InputError("no Parquet files to read")
        listing = ", ".join(_quote(str(p)) for p in paths)
        self._views += 1
        return self._view(
            f"parquet_{self._views}",
            f"SELECT * FROM read_parquet([{listing}], union_by_name = true)",
        )

    def write_parquet(self, expr: ir.Table, path: Path) -> int:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            self.con.to_parquet(expr, tmp, compression="zstd")
            rows = int(pq.read_metadata(tmp).num_rows)
            tmp.replace(path)
        except duckdb.Error as exc:
            tmp.unlink(missing_ok=True)
            raise EngineError(f"DuckDB failed writing {path}: {_first_line(exc)}") from exc
        return rows

    def materialize(self, expr: ir.Table, name: str) -> ir.Table:
        sql = ibis.to_sql(expr, dialect="duckdb")
        self.con.raw_sql(f'CREATE OR REPLACE TEMP TABLE "{name}" AS {sql}')
        return self.con.table(name)

    def to_pyarrow(self, expr: ir.Table) -> pa.Table:
        return expr.to_pyarrow()

    def count(self, expr: ir.Table) -> int:
        return int(expr.count().execute())

    def close(self) -> None:
        self.con.disconnect()


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
