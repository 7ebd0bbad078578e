"""The default warehouse: one DuckDB file."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Collection, Iterator, Mapping, Sequence
from pathlib import Path

import duckdb
import pyarrow as pa

from c360.catalog import TABLES
from c360.errors import OutputError, SinkError, TransientError
from c360.sinks.base import (
    INTERNAL_TABLES,
    PARTITIONS_TABLE,
    PUBLISH_TABLE,
    ConsistentRead,
    Partitioned,
    Sink,
    TableFiles,
    ViewOf,
    partition_changes,
    publish_marker,
    views_of,
)

#: How long a publish waits for a reader (a server loading a snapshot) to let go of the file.
LOCK_WAIT_S = 30.0


def _scan(paths: list[Path]) -> str:
    """``read_parquet`` of the files; folders named ``date=…`` add no inferred column."""
    listing = ", ".join(_lit(str(p)) for p in paths)
    return f"read_parquet([{listing}], hive_partitioning = false)"


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class DuckDBSink(Sink):
    """Publishes every table of a run in one transaction: readers see all old or all new.

    Each table's key is checked (a duplicate fails the publish and keeps the previous tables)
    but not declared as a constraint: DuckDB enforces keys with ART indexes, which cost ~8 s per
    SF1 run to build for three 2–3 M-row tables and gain nothing for scans, which DuckDB prunes
    with per-column zone maps. Server warehouses declare keys and build the catalog's indexes.
    """

    scheme = "duckdb"
    builds_secondary_indexes = False

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.path = Path(url.removeprefix("duckdb://"))

    def _connect(
        self, *, read_only: bool = False, wait_s: float = 0.0
    ) -> duckdb.DuckDBPyConnection:
        """A connection; a file locked by another process is waited for up to ``wait_s``
        (a server reading a snapshot holds it for a moment)."""
        if read_only and not self.path.exists():
            raise OutputError(f"warehouse {self.path} does not exist; run `c360 run` first")
        deadline = time.monotonic() + wait_s
        while True:
            try:
                if not read_only:
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                return duckdb.connect(str(self.path), read_only=read_only)
            except PermissionError as exc:
                raise OutputError(
                    f"cannot write the warehouse {self.path}: permission denied"
                ) from exc
            except (duckdb.IOException, duckdb.ConnectionException, duckdb.BinderException) as exc:
                # Another process's lock, or (in one process) a connection of the other mode.
                text = str(exc)
                busy = "lock" in text.lower() or any(
                    sign in text for sign in ("different configuration", "file handle conflict")
                )
                if not busy:
                    raise OutputError(f"cannot open the warehouse {self.path}: {exc}") from exc
                if time.monotonic() >= deadline:
                    raise TransientError(
                        f"warehouse {self.path} is in use by another process; retry when it ends"
                    ) from exc
                time.sleep(0.05)

    def publish(
        self, tables: Mapping[str, TableFiles], *, unique: Collection[str] = ()
    ) -> dict[str, int]:
        views = views_of(tables)
        counts: dict[str, int] = {}
        with self._transaction("tables") as con:
            # A view's table first: it reads that table's new rows.
            for name in sorted(tables, key=lambda n: n in views):
                files, spec = tables[name], TABLES.get(name)
                if name in views:
                    self._replace_view(con, name, views[name])
                elif isinstance(files, Partitioned):
                    self._drop(con, name, "VIEW")
                    self._sync_partitions(con, name, files)
                else:
                    self._drop(con, name, "VIEW")
                    con.execute(
                        f"CREATE OR REPLACE TABLE {_q(name)} AS SELECT * FROM {_scan([files])}"
                    )
                if spec is not None:
                    # A key the run's checks found unique in these files is not grouped again
                    # (a query over every row: ~2 s of a cold SF1 publish); a view's rows are
                    # its table's, whose key is the same.
                    if spec.primary_key and name not in unique and name not in views:
                        self._check_key(con, name, spec.primary_key)
                    kind = "VIEW" if name in views else "TABLE"
                    con.execute(f"COMMENT ON {kind} {_q(name)} IS {_lit(spec.description)}")
                row = con.execute(f"SELECT count(*) FROM {_q(name)}").fetchone()
                counts[name] = int(row[0]) if row else 0
            self._mark(con, publish_marker(tables))
        return {name: counts[name] for name in tables}

    @staticmethod
    def _drop(con: duckdb.DuckDBPyConnection, name: str, kind: str) -> None:
        """Drop the view (``kind`` ``VIEW``) or table (``TABLE``) ``name`` if there is one: a
        name published once as a table and once as a view changes kind."""
        listing = "duckdb_views()" if kind == "VIEW" else "duckdb_tables()"
        column = "view_name" if kind == "VIEW" else "table_name"
        found = con.execute(
            f"SELECT count(*) FROM {listing} WHERE {column} = ? AND NOT temporary", [name]
        ).fetchone()
        if found and found[0]:
            con.execute(f"DROP {kind} {_q(name)}")

    def _replace_view(self, con: duckdb.DuckDBPyConnection, name: str, view: ViewOf) -> None:
        """``name`` as the view of ``view``'s columns of its table."""
        columns = ", ".join(_q(c) for c in view.columns)
        self._drop(con, name, "TABLE")
        con.execute(f"CREATE OR REPLACE VIEW {_q(name)} AS SELECT {columns} FROM {_q(view.table)}")

    def publish_live(self, tables: Mapping[str, Path]) -> None:
        with self._transaction("live tables") as con:
            for name, path in tables.items():
                con.execute(f"CREATE OR REPLACE TABLE {_q(name)} AS SELECT * FROM {_scan([path])}")

    @contextlib.contextmanager
    def _transaction(self, what: str) -> Iterator[duckdb.DuckDBPyConnection]:
        """A write connection in a transaction, committed when the block ends; on an error
        rolled back, the previous ``what`` kept, and the error one line."""
        con = self._connect(wait_s=LOCK_WAIT_S)
        try:
            con.execute("BEGIN TRANSACTION")
            yield con
            con.execute("COMMIT")
        except duckdb.Error as exc:
            # A failed COMMIT (e.g. a key violation found at commit) has already rolled back.
            with contextlib.suppress(duckdb.TransactionException):
                con.execute("ROLLBACK")
            raise SinkError(
                f"loading the warehouse {self.path} failed, previous {what} kept: "
                f"{str(exc).splitlines()[0]}"
            ) from exc
        finally:
            con.close()

    @staticmethod
    def _sync_partitions(con: duckdb.DuckDBPyConnection, name: str, table: Partitioned) -> None:
        """Replace only the partitions whose file changed since the last load; drop the others.

        A partition is identified by its value of ``table.column`` and loaded from a file; the
        file's path, size and mtime are remembered in ``_c360_partitions``. Without a record
        (first load, a table created elsewhere) the whole table is loaded.
        """
        con.execute(
            f"CREATE TABLE IF NOT EXISTS {PARTITIONS_TABLE} (table_name VARCHAR, "
            "value BIGINT, path VARCHAR, size BIGINT, mtime_ns BIGINT)"
        )
        current = {int(v): p for v, p in table.files.items()}
        exists = con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND NOT temporary", [name]
        ).fetchone()
        loaded = {
            int(value): (path, size, mtime)
            for value, path, size, mtime in con.execute(
                f"SELECT value, path, size, mtime_ns FROM {PARTITIONS_TABLE} WHERE table_name = ?",
                [name],
            ).fetchall()
        }
        column = _q(table.column)
        same_shape = False
        if exists and exists[0] and loaded and current:
            sample = next(iter(current.values()))
            want = con.execute(f"DESCRIBE SELECT * FROM {_scan([sample])}").fetchall()
            have = con.execute(f"DESCRIBE {_q(name)}").fetchall()
            same_shape = [r[:2] for r in want] == [r[:2] for r in have]
        if same_shape:
            stale, todo = partition_changes(table, loaded)
            if stale:
                values = ", ".join(str(v) for v in stale)
                con.execute(f"DELETE FROM {_q(name)} WHERE {column} IN ({values})")
            if todo:
                paths = [current[v] for v in todo]
                con.execute(f"INSERT INTO {_q(name)} SELECT * FROM {_scan(paths)}")
        else:
            paths = [current[v] for v in sorted(current)]
            con.execute(f"CREATE OR REPLACE TABLE {_q(name)} AS SELECT * FROM {_scan(paths)}")
        con.execute(f"DELETE FROM {PARTITIONS_TABLE} WHERE table_name = ?", [name])
        records = [[name, value, *stat] for value, stat in table.stats().items()]
        con.executemany(f"INSERT INTO {PARTITIONS_TABLE} VALUES (?, ?, ?, ?, ?)", records)

    @staticmethod
    def _mark(con: duckdb.DuckDBPyConnection, marker: Mapping[str, str]) -> None:
        """Name this publish in the publish table (inside its transaction)."""
        con.execute(
            f"CREATE TABLE IF NOT EXISTS {PUBLISH_TABLE} (publish_id VARCHAR, state VARCHAR, "
            "published_at VARCHAR, tables VARCHAR)"
        )
        con.execute(f"DELETE FROM {PUBLISH_TABLE}")
        con.execute(f"INSERT INTO {PUBLISH_TABLE} VALUES (?, ?, ?, ?)", list(marker.values()))

    def version(self) -> object:
        """The file's (and its write-ahead log's) size and modification time: every publish
        changes them without the file being opened."""
        stats = []
        for path in (self.path, self.path.with_name(self.path.name + ".wal")):
            with contextlib.suppress(FileNotFoundError):
                stat = path.stat()
                stats.append((stat.st_size, stat.st_mtime_ns))
        return tuple(stats) or None

    def read_consistent(
        self, tables: Sequence[str], counted: Mapping[str, Sequence[str]]
    ) -> ConsistentRead:
        # One read-only connection: no other process can write while it is open.
        con = self._connect(read_only=True, wait_s=LOCK_WAIT_S)
        try:
            present = {str(r[0]) for r in con.execute("SHOW TABLES").fetchall()}
            out = {
                name: con.execute(f"SELECT * FROM {_q(name)}").to_arrow_table()
                for name in tables
                if name in present
            }
            for name, columns in counted.items():
                if name in present:
                    cols = ", ".join(_q(c) for c in columns)
                    out[f"count:{name}"] = con.execute(
                        f"SELECT {cols}, count(*) AS rows FROM {_q(name)} GROUP BY ALL"
                    ).to_arrow_table()
            marker = None
            if PUBLISH_TABLE in present:
                rows = con.execute(f"SELECT * FROM {PUBLISH_TABLE}").to_arrow_table().to_pylist()
                marker = rows[0] if rows else None
            return out, marker
        finally:
            con.close()

    @staticmethod
    def _check_key(con: duckdb.DuckDBPyConnection, name: str, key: tuple[str, ...]) -> None:
        """Fail the publish (and roll it back) when the table's key is not unique."""
        cols = ", ".join(_q(c) for c in key)
        duplicate = con.execute(
            f"SELECT {cols} FROM {_q(name)} GROUP BY ALL HAVING count(*) > 1 LIMIT 1"
        ).fetchone()
        if duplicate is not None:
            shown = ", ".join(f"{c}={v!r}" for c, v in zip(key, duplicate, strict=True))
            raise duckdb.ConstraintException(f"{name}: duplicate key ({shown})")

    def read(
        self,
        table: str,
        *,
        limit: int | None = None,
        where: Mapping[str, object] | None = None,
    ) -> pa.Table:
        con = self._connect(read_only=True)
        try:
            sql = f"SELECT * FROM {_q(table)}"
            if where:
                sql += " WHERE " + " AND ".join(f"{_q(column)} = ?" for column in where)
            sql += f" LIMIT {int(limit)}" if limit else ""
            return con.execute(sql, list((where or {}).values())).to_arrow_table()
        except duckdb.CatalogException as exc:
            raise OutputError(f"warehouse {self.path} has no table {table!r}") from exc
        finally:
            con.close()

    def export(self, folder: Path) -> dict[str, Path]:
        """Every table as a Parquet file in ``folder`` (catalog tables first, in catalog order)."""
        names = self.tables()
        ordered = [n for n in TABLES if n in names] + [n for n in names if n not in TABLES]
        con = self._connect(read_only=True)
        try:
            out = {}
            for name in ordered:
                path = folder / f"{name}.parquet"
                con.execute(
                    f"COPY {_q(name)} TO {_lit(str(path))} (FORMAT parquet, COMPRESSION snappy)"
                )
                out[name] = path
            return out
        finally:
            con.close()

    def tables(self) -> list[str]:
        con = self._connect(read_only=True)
        try:
            rows = con.execute("SELECT table_name FROM information_schema.tables ORDER BY 1")
            return [str(r[0]) for r in rows.fetchall() if r[0] not in INTERNAL_TABLES]
        finally:
            con.close()
