"""PostgreSQL warehouse: ``postgresql://user@host:5432/db`` (password from ``C360_DB_PASSWORD``).

Rows arrive by ``COPY … FROM STDIN``, streamed batch by batch. DDL is transactional in PostgreSQL,
so a whole publish — staging tables, the swap, keys, indexes, comments and the partition-wise
fact update — is one transaction: readers see every table old or every table new.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pyarrow as pa
from psycopg import errors as pg_errors

from c360.catalog import TABLES
from c360.errors import C360Error, SinkError, TransientError
from c360.sinks._server import PASSWORD_VARIABLE, STAGING, ServerSink
from c360.sinks._text import CsvDialect, encoded_text
from c360.sinks.base import ViewOf

_TYPES = {
    "int8": "SMALLINT",
    "int16": "SMALLINT",
    "int32": "INTEGER",
    "int64": "BIGINT",
    "uint8": "SMALLINT",
    "uint16": "INTEGER",
    "uint32": "BIGINT",
    "double": "DOUBLE PRECISION",
    "float": "DOUBLE PRECISION",
    "bool": "BOOLEAN",
    "date32[day]": "DATE",
}
#: The CSV that ``COPY (FORMAT csv)`` reads with its defaults: strings always quoted (quotes
#: doubled, backslashes literal), an unquoted empty field is NULL (``""`` the empty string).
CSV = CsvDialect(null="", naive_timestamps=False)
#: PostgreSQL truncates identifiers longer than this.
MAX_IDENTIFIER = 63


class PostgresSink(ServerSink):
    """A PostgreSQL database."""

    scheme = "postgresql"
    default_port = 5432
    default_user = "postgres"

    def quote(self, name: str) -> str:
        return '"' + name.replace('"', '""') + '"'

    def column_type(self, field: pa.Field, *, keyed: bool) -> str:
        kind = field.type
        if pa.types.is_string(kind) or pa.types.is_large_string(kind):
            return "TEXT"
        if pa.types.is_timestamp(kind):
            return "TIMESTAMPTZ" if kind.tz else "TIMESTAMP"
        sql = _TYPES.get(str(kind))
        if sql is None:
            raise SinkError(f"column {field.name}: type {kind} has no PostgreSQL mapping")
        return sql

    def create_table_sql(self, name: str, schema: pa.Schema, *, primary_key: Sequence[str]) -> str:
        # Keys, indexes and comments are added after the swap, under the live table's name.
        columns = ", ".join(
            f"{self.quote(f.name)} {self.column_type(f, keyed=False)}" for f in schema
        )
        return f"CREATE TABLE {self.quote(name)} ({columns})"

    @contextmanager
    def connection(self) -> Iterator[Any]:
        a = self.address
        try:
            con = psycopg.connect(
                host=a.host,
                port=a.port,
                user=a.user,
                password=a.password,
                dbname=a.database,
                autocommit=False,
                connect_timeout=10,
                # Index builds sort in memory up to this much (the server default is 64 MB).
                options="-c TimeZone=UTC -c maintenance_work_mem=256MB",
            )
        except psycopg.Error as exc:
            raise self._translate(exc) from exc
        try:
            yield con
        except psycopg.Error as exc:
            raise self._translate(exc) from exc
        finally:
            con.close()

    def _translate(self, exc: psycopg.Error) -> C360Error:
        """A driver error as a one-line message naming the warehouse and the remedy."""
        where = self.describe()
        text = str(exc).strip()
        first = text.splitlines()[0] if text else type(exc).__name__
        if isinstance(exc, pg_errors.InsufficientPrivilege):
            return SinkError(
                f"user {self.address.user!r} lacks privileges on {where}: grant them with "
                f"GRANT ALL ON SCHEMA public TO {self.address.user}"
            )
        if isinstance(exc, psycopg.OperationalError):
            lowered = text.lower()
            if "does not exist" in lowered and "database" in lowered:
                return SinkError(
                    f"database {self.address.database!r} does not exist on {where}: create it "
                    f"with CREATE DATABASE {self.address.database}"
                )
            if "password" in lowered or ("role" in lowered and "does not exist" in lowered):
                return SinkError(
                    f"access denied to {where}: check the user, and set the password in "
                    f"{PASSWORD_VARIABLE}"
                )
            if "connection refused" in lowered or "could not connect" in lowered:
                return TransientError(
                    f"cannot reach the warehouse {where}: is the server running? "
                    "(start it, or check host and port)"
                )
            if "terminat" in lowered or "closed" in lowered or "lost" in lowered:
                return TransientError(
                    f"the connection to {where} was lost, previous tables kept: {first}"
                )
        return SinkError(
            f"loading the warehouse {where} failed, previous tables kept: {first}"
            f"{self.loading(_copy_position(exc))}"
        )

    def bulk_load(
        self, con: Any, table: str, columns: Sequence[str], files: list[Path], *, private: bool
    ) -> None:
        # One COPY inside the publishing transaction; the next batch is encoded while one is sent.
        cols = ", ".join(self.quote(c) for c in columns)
        expected = 0
        with con.cursor() as cur:
            with cur.copy(f"COPY {self.quote(table)} ({cols}) FROM STDIN (FORMAT csv)") as copy:
                for text, rows in encoded_text(files, CSV):
                    copy.write(memoryview(text))  # no copy: libpq reads the Arrow buffer
                    expected += rows
            if cur.rowcount != expected:
                raise SinkError(
                    f"loading {table.removesuffix(STAGING)} into {self.describe()} failed, "
                    f"previous tables kept: {cur.rowcount} of {expected} rows arrived"
                )

    current_schema = "current_schema()"

    def finish_tables(
        self, con: Any, names: Sequence[str], views: Mapping[str, ViewOf] | None = None
    ) -> None:
        views = dict(views or {})
        with con.cursor() as cur:
            kinds = self.object_kinds(cur)
            # A view reads the table it was made on, which the swap drops: the views over the
            # tables swapped in are dropped first and made again over the new ones.
            for view_name, projected in TABLES.items():
                table = projected.projected_by
                kept = view_name not in names and view_name not in views
                if table is not None and table in names and kinds.get(view_name) == "VIEW" and kept:
                    views[view_name] = ViewOf(table, self._columns(cur, view_name))
            for name in [*views, *names]:
                if kinds.get(name) == "VIEW" or name in views:
                    self.drop(cur, name, kinds)
                    kinds.pop(name, None)
            for name in names:
                table = self.quote(name)
                self.drop(cur, name, kinds)
                cur.execute(f"ALTER TABLE {self.quote(name + STAGING)} RENAME TO {table}")
                spec = TABLES.get(name)
                if spec and spec.primary_key:
                    key = ", ".join(self.quote(c) for c in spec.primary_key)
                    cur.execute(f"ALTER TABLE {table} ADD PRIMARY KEY ({key})")
                for cols in spec.indexes if spec else ():
                    index = f"{name}_{'_'.join(cols)}_idx"[:MAX_IDENTIFIER]
                    listed = ", ".join(self.quote(c) for c in cols)
                    cur.execute(f"CREATE INDEX {self.quote(index)} ON {table} ({listed})")
                self._comment(cur, name, "TABLE")
            for name, view in views.items():
                cur.execute(self.view_sql(name, view))
                self._comment(cur, name, "VIEW")
        con.commit()

    def _comment(self, cur: Any, name: str, kind: str) -> None:
        """The catalog's descriptions of a table or view and of its columns."""
        table = self.quote(name)
        cur.execute(f"COMMENT ON {kind} {table} IS {_literal(self.comment(name))}")
        cur.execute(f"SELECT * FROM {table} WHERE false")
        for column in [d[0] for d in cur.description or ()]:
            described = self.comment(name, column)
            if described:
                cur.execute(
                    f"COMMENT ON COLUMN {table}.{self.quote(column)} IS {_literal(described)}"
                )

    def _columns(self, cur: Any, name: str) -> tuple[str, ...]:
        cur.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
            f"AND table_schema = {self.current_schema} ORDER BY ordinal_position",
            (name,),
        )
        return tuple(str(row[0]) for row in cur.fetchall())

    def existing_tables(self, con: Any) -> set[str]:
        with con.cursor() as cur:
            return set(self.object_kinds(cur))


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _copy_position(exc: psycopg.Error) -> str:
    """``row N, column C`` from the server's context of a failed COPY (empty if none)."""
    context = getattr(getattr(exc, "diag", None), "context", None) or ""
    found = re.search(r"COPY \S+, line (\d+)(?:, column ([^:]+))?", context)
    if not found:
        return ""
    row, column = found.groups()
    return f"row {row}" + (f", column {column}" if column else "")
