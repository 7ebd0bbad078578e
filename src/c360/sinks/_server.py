"""What the server warehouses (MySQL/MariaDB, PostgreSQL) share: DDL from the catalog, bulk loads
of bounded text batches, staging tables swapped in at the end, partition-wise facts.

A publish never changes what readers see until its last step: every table is loaded into a
staging table ``<name>__c360_new`` next to the live one, keys and indexes are built, and one swap
(an atomic multi-table ``RENAME`` on MySQL, renames inside the publishing transaction on
PostgreSQL) replaces the live tables. A failure drops the staging tables; the previous tables stay.
Partitioned tables (``fact_usage``) are updated in place, partition by partition, in a transaction.
"""

from __future__ import annotations

import os
from abc import abstractmethod
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import SplitResult, unquote

import pyarrow as pa
import pyarrow.parquet as pq

from c360.catalog import COLUMNS, TABLES
from c360.errors import ConfigError, TransientError
from c360.sinks import redact, split_url
from c360.sinks._text import parquet_schema
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

#: The environment variable a server warehouse's password comes from (never a flag).
PASSWORD_VARIABLE = "C360_DB_PASSWORD"
STAGING = "__c360_new"
RETIRED = "__c360_old"


@dataclass(frozen=True)
class ServerAddress:
    """Where a server warehouse is, parsed from its URL; the password never leaves it."""

    scheme: str
    host: str
    port: int
    user: str
    database: str
    password: str | None

    @classmethod
    def parse(cls, url: str, *, default_port: int, default_user: str) -> ServerAddress:
        parts: SplitResult = split_url(url)
        database = parts.path.lstrip("/")
        if not database or "/" in database:
            raise ConfigError(
                f"warehouse {redact(url)}: name one database, e.g. {parts.scheme}://user@host/c360"
            )
        port = parts.port or default_port
        password = unquote(parts.password) if parts.password is not None else None
        return cls(
            scheme=parts.scheme,
            host=parts.hostname or "127.0.0.1",
            port=port,
            user=unquote(parts.username) if parts.username else default_user,
            database=unquote(database),
            password=password if password is not None else os.environ.get(PASSWORD_VARIABLE),
        )

    def describe(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host  # IPv6
        return f"{self.scheme}://{self.user}@{host}:{self.port}/{self.database}"


class ServerSink(Sink):
    """Publishes into a database server; subclasses supply the dialect and the bulk path."""

    default_port: ClassVar[int]
    default_user: ClassVar[str] = "root"
    #: The driver's parameter marker.
    placeholder: ClassVar[str] = "%s"

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.address = ServerAddress.parse(
            url, default_port=self.default_port, default_user=self.default_user
        )
        #: The table whose rows are being sent, for error messages.
        self._loading: str | None = None

    def describe(self) -> str:
        return self.address.describe()

    def loading(self, detail: str = "") -> str:
        """`` (table T, …)`` naming the table being loaded (and ``detail``: its row and column,
        when the server said) for a failure's message; empty outside a load."""
        if self._loading is None:
            return ""
        return f" (table {self._loading}{', ' + detail if detail else ''})"

    def _bulk_load(self, con: Any, table: str, columns: Sequence[str], files: list[Path]) -> None:
        """:meth:`bulk_load`, remembering which table is loaded for the error messages."""
        self._loading = table.removesuffix(STAGING)
        self.bulk_load(con, table, columns, files, private=table.endswith(STAGING))
        self._loading = None

    def check(self) -> None:
        with self.connection() as con:
            self.existing_tables(con)

    # -- dialect --------------------------------------------------------------------------

    @abstractmethod
    def quote(self, name: str) -> str:
        """An identifier, quoted."""

    @abstractmethod
    def column_type(self, field: pa.Field, *, keyed: bool) -> str:
        """The SQL type of a column (``keyed``: part of a key or an index)."""

    @abstractmethod
    def create_table_sql(self, name: str, schema: pa.Schema, *, primary_key: Sequence[str]) -> str:
        """``CREATE TABLE`` for a staging table (comments included where the dialect allows)."""

    @abstractmethod
    @contextmanager
    def connection(self) -> Iterator[Any]:
        """A DB-API connection with autocommit off; driver errors become ``SinkError``s."""

    @abstractmethod
    def bulk_load(
        self, con: Any, table: str, columns: Sequence[str], files: list[Path], *, private: bool
    ) -> None:
        """Append the rows of Parquet files to ``table`` by the server's bulk path.

        ``private``: a staging table no reader sees, which may be loaded over other connections;
        otherwise the rows go through ``con``, inside its transaction.
        """

    @abstractmethod
    def finish_tables(
        self, con: Any, names: Sequence[str], views: Mapping[str, ViewOf] | None = None
    ) -> None:
        """Swap the staged tables in (with their keys and indexes), make ``views`` (name → the
        table it reads and its columns) and commit everything. Views that read a table swapped
        in keep reading it: the new one."""

    #: How the dialect names the database or schema the sink's tables are in.
    current_schema: ClassVar[str]

    def object_kinds(self, cur: Any) -> dict[str, str]:
        """Each table and view of the database: ``BASE TABLE`` or ``VIEW``."""
        cur.execute(
            "SELECT table_name, table_type FROM information_schema.tables "
            f"WHERE table_schema = {self.current_schema}"
        )
        return {str(name): str(kind) for name, kind in cur.fetchall()}

    def drop(self, cur: Any, name: str, kinds: Mapping[str, str]) -> None:
        """Drop ``name`` as what it is (a view or a table), if it is there."""
        kind = kinds.get(name)
        if kind is not None:
            cur.execute(f"DROP {'VIEW' if kind == 'VIEW' else 'TABLE'} {self.quote(name)}")

    def view_sql(self, name: str, view: ViewOf, *, replace: bool = False) -> str:
        """``CREATE [OR REPLACE] VIEW`` of ``view``'s columns of its table."""
        columns = ", ".join(self.quote(c) for c in view.columns)
        create = "CREATE OR REPLACE VIEW" if replace else "CREATE VIEW"
        return f"{create} {self.quote(name)} AS SELECT {columns} FROM {self.quote(view.table)}"

    @abstractmethod
    def existing_tables(self, con: Any) -> set[str]:
        """Names of the tables in the database."""

    # -- publish --------------------------------------------------------------------------

    def publish(
        self, tables: Mapping[str, TableFiles], *, unique: Collection[str] = ()
    ) -> dict[str, int]:
        # ``unique`` changes nothing here: the staged tables declare their keys.
        with self.connection() as con:
            self._create_partitions_table(con)
            existing = self.existing_tables(con)
            in_place = {
                name
                for name, files in tables.items()
                if isinstance(files, Partitioned)
                and self._partitions_apply(con, name, files, existing)
            }
            views = views_of(tables)
            staged = [name for name in tables if name not in in_place and name not in views]
            try:
                for name in staged:
                    self._stage(con, name, _paths(tables[name]))
                # Last, so a failure above leaves even the partitioned tables untouched; on
                # PostgreSQL the swap commits it with the rest, on MySQL just before the swap.
                for name in in_place:
                    files = tables[name]
                    assert isinstance(files, Partitioned)
                    self._sync_partitions(con, name, files)
                # A reader accepts a read only between two equal "done" markers, so on MySQL,
                # whose swap commits by itself, the swap sits between "pending" and "done".
                self._mark(con, publish_marker(tables, state="pending"))
                self.finish_tables(con, staged, views)
                self._mark(con, publish_marker(tables))
            except BaseException:
                self._drop_staging(con, staged)
                raise
            # Recorded after the swap: a crash in between only makes the next run reload more.
            for name in staged:
                files = tables[name]
                if isinstance(files, Partitioned):
                    self._record_partitions(con, name, files)
            con.commit()
        # The rows of the files: every bulk load checks that all of them arrived.
        return {name: _rows(tables[name]) for name in tables}

    def publish_live(self, tables: Mapping[str, Path]) -> None:
        with self.connection() as con:
            staged = list(tables)
            try:
                for name in staged:
                    self._stage(con, name, [tables[name]])
                self.finish_tables(con, staged)
            except BaseException:
                self._drop_staging(con, staged)
                raise
            con.commit()

    def _stage(self, con: Any, name: str, paths: list[Path]) -> None:
        spec = TABLES.get(name)
        schema = parquet_schema(paths[0])
        staging = name + STAGING
        cur = con.cursor()
        cur.execute(f"DROP TABLE IF EXISTS {self.quote(staging)}")
        key = spec.primary_key if spec else ()
        cur.execute(self.create_table_sql(staging, schema, primary_key=key))
        self._bulk_load(con, staging, schema.names, paths)

    def _drop_staging(self, con: Any, names: Sequence[str]) -> None:
        try:
            con.rollback()
            cur = con.cursor()
            for name in names:
                cur.execute(f"DROP TABLE IF EXISTS {self.quote(name + STAGING)}")
            con.commit()
        except Exception:  # the connection may be gone; the staging tables are dropped next time
            return

    # -- partitions -----------------------------------------------------------------------

    def _partitions_apply(
        self, con: Any, name: str, table: Partitioned, existing: set[str]
    ) -> bool:
        """Whether the live table can be updated partition by partition (else: reload it)."""
        if name not in existing or PARTITIONS_TABLE not in existing or not table.files:
            return False
        cur = con.cursor()
        cur.execute(f"SELECT * FROM {self.quote(name)} WHERE 1 = 0")
        live = [d[0] for d in cur.description]
        wanted = parquet_schema(next(iter(table.files.values()))).names
        return live == wanted and bool(self._loaded(con, name))

    def _loaded(self, con: Any, name: str) -> dict[int, tuple[str, int, int]]:
        cur = con.cursor()
        cur.execute(
            f"SELECT value, path, size, mtime_ns FROM {self.quote(PARTITIONS_TABLE)} "
            f"WHERE table_name = {self.placeholder}",
            (name,),
        )
        return {int(v): (str(p), int(s), int(m)) for v, p, s, m in cur.fetchall()}

    def _sync_partitions(self, con: Any, name: str, table: Partitioned) -> None:
        """Replace the rows of changed partitions and drop those of gone ones (not committed)."""
        stale, todo = partition_changes(table, self._loaded(con, name))
        cur = con.cursor()
        if stale:
            values = ", ".join(str(int(v)) for v in stale)
            cur.execute(
                f"DELETE FROM {self.quote(name)} WHERE {self.quote(table.column)} IN ({values})"
            )
        if todo:
            columns = parquet_schema(table.files[todo[0]]).names
            self._bulk_load(con, name, columns, [table.files[v] for v in todo])
        self._record_partitions(con, name, table)

    def _create_partitions_table(self, con: Any) -> None:
        cur = con.cursor()
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS {self.quote(PARTITIONS_TABLE)} (table_name VARCHAR(255), "
            "value BIGINT, path VARCHAR(4096), size BIGINT, mtime_ns BIGINT)"
        )
        con.commit()

    def _record_partitions(self, con: Any, name: str, table: Partitioned) -> None:
        cur = con.cursor()
        q = self.quote(PARTITIONS_TABLE)
        cur.execute(f"DELETE FROM {q} WHERE table_name = {self.placeholder}", (name,))
        rows = [(name, value, *stat) for value, stat in table.stats().items()]
        if rows:
            marks = ", ".join([self.placeholder] * 5)
            cur.executemany(f"INSERT INTO {q} VALUES ({marks})", rows)

    # -- reading --------------------------------------------------------------------------

    def read(
        self,
        table: str,
        *,
        limit: int | None = None,
        where: Mapping[str, object] | None = None,
    ) -> pa.Table:
        sql = f"SELECT * FROM {self.quote(table)}"
        if where:
            sql += " WHERE " + " AND ".join(f"{self.quote(c)} = %s" for c in where)
        sql += f" LIMIT {int(limit)}" if limit else ""
        with self.connection() as con:
            return self._select(con, sql, tuple((where or {}).values()))

    def tables(self) -> list[str]:
        with self.connection() as con:
            return sorted(
                t
                for t in self.existing_tables(con)
                if t not in INTERNAL_TABLES and STAGING not in t
            )

    # -- the publish marker and consistent reads ------------------------------------------

    def _mark(self, con: Any, marker: Mapping[str, str]) -> None:
        cur = con.cursor()
        if PUBLISH_TABLE not in self.existing_tables(con):
            cur.execute(
                f"CREATE TABLE {self.quote(PUBLISH_TABLE)} (publish_id VARCHAR(32), "
                "state VARCHAR(16), published_at VARCHAR(40), tables TEXT)"
            )
        cur.execute(f"DELETE FROM {self.quote(PUBLISH_TABLE)}")
        cur.execute(
            f"INSERT INTO {self.quote(PUBLISH_TABLE)} VALUES (%s, %s, %s, %s)",
            tuple(marker.values()),
        )  # committed with the publish (on MySQL "pending" by the swap's implicit commit)

    def _marker(self, con: Any) -> dict[str, Any] | None:
        if PUBLISH_TABLE not in self.existing_tables(con):
            return None
        rows = self._select(con, f"SELECT * FROM {self.quote(PUBLISH_TABLE)}").to_pylist()
        con.commit()  # end the read's transaction: the next statement sees the latest commit
        return rows[0] if rows else None

    def version(self) -> object:
        with self.connection() as con:
            marker = self._marker(con)
        return (marker["publish_id"], marker["state"]) if marker else None

    def read_consistent(
        self, tables: Sequence[str], counted: Mapping[str, Sequence[str]]
    ) -> ConsistentRead:
        with self.connection() as con:
            before = self._marker(con)
            present = self.existing_tables(con)
            out = {name: self._select(con, f"SELECT * FROM {self.quote(name)}")
                   for name in tables if name in present}  # fmt: skip
            for name, columns in counted.items():
                if name in present:
                    cols = ", ".join(self.quote(c) for c in columns)
                    out[f"count:{name}"] = self._select(
                        con,
                        f"SELECT {cols}, count(*) AS {self.quote('rows')} "
                        f"FROM {self.quote(name)} GROUP BY {cols}",
                    )
            con.commit()
            after = self._marker(con)
        if before != after or (after is not None and after["state"] != "done"):
            raise TransientError(f"{self.describe()} was published to while being read")
        return out, after

    @staticmethod
    def _select(con: Any, sql: str, params: tuple[object, ...] = ()) -> pa.Table:
        """The rows of a query, as Arrow."""
        cur = con.cursor()
        cur.execute(sql, params)
        names = [d[0] for d in cur.description]
        rows = cur.fetchall()
        return pa.table({n: [r[i] for r in rows] for i, n in enumerate(names)})

    # -- shared DDL helpers ---------------------------------------------------------------

    def keyed_columns(self, name: str) -> set[str]:
        spec = TABLES.get(name.removesuffix(STAGING))
        if spec is None:
            return set()
        return set(spec.primary_key) | {c for index in spec.indexes for c in index}

    @staticmethod
    def comment(table: str, column: str | None = None) -> str:
        spec = TABLES.get(table.removesuffix(STAGING))
        if column is None:
            return spec.description if spec else ""
        return COLUMNS.get(column, "")


def _rows(files: TableFiles) -> int:
    return sum(pq.read_metadata(path).num_rows for path in _paths(files))


def _paths(files: TableFiles) -> list[Path]:
    if isinstance(files, Partitioned):
        return [files.files[v] for v in sorted(files.files)]
    return [files]
