"""The shape every warehouse sink has.

A sink publishes finished tables, given as Parquet files, into a warehouse: all tables of a run in
one atomic step where the warehouse allows it, each replacing the previous version, so a re-run
replaces and never duplicates, and a failure leaves the previous tables readable.
"""

from __future__ import annotations

import json
import uuid
from abc import ABC, abstractmethod
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from c360.catalog import TABLES


@dataclass(frozen=True)
class Partitioned:
    """A table stored as one Parquet file per value of ``column`` (e.g. one per ``date_key``).

    Sinks may publish it partition by partition: replace only the rows of partitions whose file
    changed, delete those of partitions that are gone, in the same transaction as the rest.
    """

    column: str
    files: Mapping[int, Path]

    def stats(self) -> dict[int, tuple[str, int, int]]:
        """Each partition's file as (path, size, mtime_ns): what identifies a loaded version."""
        out = {}
        for value, path in sorted(self.files.items()):
            stat = path.stat()
            out[int(value)] = (str(path), stat.st_size, stat.st_mtime_ns)
        return out


#: A finished table: one Parquet file, or one file per partition (all with the same schema).
TableFiles = Path | Partitioned

#: The warehouse table recording which partition files each partitioned table was loaded from
#: (file, size, mtime), so that a publish replaces only the partitions that changed.
PARTITIONS_TABLE = "_c360_partitions"
#: The warehouse table naming the latest publish (one row: id, state, time, tables), written in
#: the publish itself, so that a reader can tell one publish from the next (``Sink.version``).
PUBLISH_TABLE = "_c360_publish"
#: Tables of a sink's own, not shown as warehouse tables.
INTERNAL_TABLES = frozenset({PARTITIONS_TABLE, PUBLISH_TABLE})


@dataclass(frozen=True)
class ViewOf:
    """A view a publish makes: the table it reads, and its columns (D103)."""

    table: str
    columns: tuple[str, ...]


def views_of(tables: Mapping[str, TableFiles]) -> dict[str, ViewOf]:
    """Tables of this publish to expose as views of another: those whose catalog entry names a
    table that holds their rows (:attr:`TableSpec.projected_by`), when that table is published too
    and its file has as many rows and each of their columns, same type.

    On an SF1 month this saves storing ``customer_content_stats`` a second time inside
    ``customer_360`` (2.1 M rows: ~1.7 s of every DuckDB publish; D103).
    """
    views: dict[str, ViewOf] = {}
    for name, files in tables.items():
        spec = TABLES.get(name)
        table = spec.projected_by if spec is not None else None
        other = tables.get(table) if table is not None else None
        if table is None or not isinstance(files, Path) or not isinstance(other, Path):
            continue
        own, theirs = pq.read_metadata(files), pq.read_metadata(other)
        schema, types = own.schema.to_arrow_schema(), theirs.schema.to_arrow_schema()
        same = own.num_rows == theirs.num_rows and all(
            field.name in types.names and types.field(field.name).type == field.type
            for field in schema
        )
        if same:
            views[name] = ViewOf(table, tuple(schema.names))
    return views


def publish_marker(tables: Iterable[str], *, state: str = "done") -> dict[str, str]:
    """The row of :data:`PUBLISH_TABLE` for a publish of ``tables`` (a new id each time)."""
    return {
        "publish_id": uuid.uuid4().hex,
        "state": state,
        "published_at": datetime.now(UTC).isoformat(timespec="microseconds"),
        "tables": json.dumps(sorted(tables)),
    }


#: What a consistent read returns: table (or ``count:<table>``) → rows, and the publish marker.
ConsistentRead = tuple[dict[str, pa.Table], dict[str, Any] | None]


def table_paths(files: TableFiles) -> list[Path]:
    """The Parquet files of a finished table (a partitioned one's in partition order)."""
    if isinstance(files, Partitioned):
        return [path for _, path in sorted(files.files.items())]
    return [files]


def table_rows(files: TableFiles) -> int:
    """Rows of a finished table, from its Parquet footers (no data is read)."""
    import pyarrow.parquet as pq

    return sum(pq.ParquetFile(path).metadata.num_rows for path in table_paths(files))


def partition_changes(
    table: Partitioned, loaded: Mapping[int, tuple[str, int, int]]
) -> tuple[list[int], list[int]]:
    """Which partitions to delete and which to (re)load, given what was loaded before.

    ``loaded`` maps a partition value to the (path, size, mtime_ns) it was loaded from. Returns
    (values whose rows must go: changed or no longer present, values whose file must be loaded:
    changed or new). A file counts as changed when its path, size or mtime differs.
    """
    current = table.stats()
    stale = sorted(v for v in loaded if current.get(v) != tuple(loaded[v]))
    todo = sorted(v for v in current if current[v] != tuple(loaded.get(v, ())))
    return stale, todo


class Sink(ABC):
    """A warehouse."""

    scheme: str

    def __init__(self, url: str) -> None:
        self.url = url

    @abstractmethod
    def publish(
        self, tables: Mapping[str, TableFiles], *, unique: Collection[str] = ()
    ) -> dict[str, int]:
        """Replace each named table with the rows of its Parquet file(s); return rows per table.

        ``unique`` names tables whose primary key was found unique in these very files (a run's
        check stage): a sink that checks keys with a query of its own need not check them again.
        A sink whose tables declare their keys enforces them regardless.
        """

    @abstractmethod
    def publish_live(self, tables: Mapping[str, Path]) -> None:
        """Replace each small live table (``live_leaderboard``, …) with the rows of its Parquet
        file, all in one transaction, without marking a publish: the batch tables' readers
        (:meth:`version`) do not reload for it."""

    @abstractmethod
    def read(
        self,
        table: str,
        *,
        limit: int | None = None,
        where: Mapping[str, object] | None = None,
    ) -> pa.Table:
        """Read a published table (for summaries, the quality commands and tests): the rows
        whose columns equal ``where``'s values, at most ``limit`` of them."""

    @abstractmethod
    def tables(self) -> list[str]:
        """Names of the tables in the warehouse."""

    @abstractmethod
    def version(self) -> object:
        """A cheap token that changes with every publish (None: no warehouse yet)."""

    @abstractmethod
    def read_consistent(
        self, tables: Sequence[str], counted: Mapping[str, Sequence[str]]
    ) -> ConsistentRead:
        """The rows of ``tables`` and the row counts of ``counted`` (table → columns grouped
        by, as ``count:<table>`` with a ``rows`` column), all of one publish, with its marker.
        Tables the warehouse does not have are left out.

        Raises:
            TransientError: a publish happened during the read (read again).
        """

    def check(self) -> None:  # noqa: B027 - optional hook, a no-op where nothing can be checked
        """Fail fast, before any work, when the warehouse cannot be reached or written."""

    def describe(self) -> str:
        """The location without secrets, for messages."""
        return self.url
