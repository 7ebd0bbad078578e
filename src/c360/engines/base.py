"""The shape every engine has.

An engine owns a session and does the engine-specific work only: decoding raw inputs into the
tables the rules expect, reading and writing Parquet, and executing Ibis expressions. Differences
between engines are class-level capability flags, never ``if engine == ...`` in business code.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import pyarrow as pa

from c360.io.files import MAX_LINE_BYTES

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from c360.config import EngineConfig
    from c360.io.files import SearchDay, SourceFile


T = TypeVar("T")


class Engine(ABC):
    """A compute engine running Ibis expressions."""

    name: ClassVar[str]
    #: How many dates one pass of the content build may take (1: date by date). Each pass costs
    #: a few queries whatever its size (a Spark job costs seconds): many dates per pass.
    dates_per_pass: ClassVar[int] = 1
    #: At most this many content lines in one pass of the content build (None: no limit): the
    #: passes of a small window take many dates, those of a big one stay within memory.
    lines_per_pass: ClassVar[int | None] = None
    #: How many content files one :meth:`decode_content` may take (1: file by file). An engine
    #: that numbers lines itself across one read of many files (Spark) decodes every new file of
    #: a run in one read and writes their bronze files in one job.
    files_per_read: ClassVar[int] = 1
    #: A window over a whole table in one order runs in parallel (an in-process engine sorts it
    #: with every thread); on a cluster it would run in one task, so the rules group instead.
    sorts_whole_tables: ClassVar[bool] = False

    def __init__(self, config: EngineConfig, *, scratch: str | None = None) -> None:
        self.config = config
        self.scratch = scratch
        #: Hint: AppName values known to be strings, so decoding need not re-check their type.
        self.known_apps: tuple[str, ...] = ()

    @abstractmethod
    def decode_content(
        self,
        sources: Sequence[SourceFile],
        *,
        plain_text: bool = True,
        max_line_bytes: int = MAX_LINE_BYTES,
        reference_json: bool = False,
    ) -> ir.Table:
        """Every line of the content files (at most :attr:`files_per_read`), file after file and
        in line order within each, as ``rules.content.DECODED_COLUMNS``.

        ``plain_text`` False means the file needs the exact line splitter (bytes that are not
        UTF-8, a very long line, an unusual name): the engine must still return every line,
        flagging bad encodings. Such a file is always decoded on its own. A line longer than
        ``max_line_bytes`` is flagged ``too_long`` and not parsed. ``reference_json`` (one file,
        named by :meth:`misread_json`) asks for the rules' reading of JSON, DuckDB's (D78).
        """

    def misread_json(self, bronze: Mapping[str, Path]) -> set[str]:
        """Of the content files just written to ``bronze`` (name → bronze file), those with a
        line this engine's JSON parser refused but the rules' reading of JSON accepts (a
        duplicated key, ``NaN``, a trailing comma: D78); each is decoded again with
        ``reference_json``. An engine that parses JSON as the rules do has none."""
        return set()

    @abstractmethod
    def decode_search(self, days: Sequence[SearchDay]) -> ir.Table:
        """Every row of the search days' Parquet parts as ``rules.search.DECODED_COLUMNS``, in
        one table (each row with its day as ``file_date``).

        Values are read as text whatever the part's column types; a column missing from a part
        reads as null.
        """

    @abstractmethod
    def read_parquet(
        self, paths: Sequence[Path], *, line_numbers: bool = False, name: str | None = None
    ) -> ir.Table:
        """Parquet files as one table (their schemas must agree).

        With ``line_numbers``, adds ``line_no``: the 1-based position of each row in its file.
        ``name`` gives the table a stable name: a loop that reads one date after another under
        the same name builds the same expression each time, which an engine may compile once.
        The previous table of that name must not be used after the call.
        """

    @abstractmethod
    def write_parquet(self, expr: ir.Table, path: Path) -> int:
        """Write ``expr`` to one Parquet file atomically (temp file + rename); return its rows.

        Rows keep the order of the expression's input when it has no ``order_by``.
        """

    def write_files(self, expr: ir.Table, column: str, paths: Mapping[str, Path]) -> None:
        """Write ``expr`` as one Parquet file per value of its text column ``column`` (which the
        files keep), to ``paths[value]``, each atomically and with the rows in the expression's
        order (a bronze file's row positions are its line numbers).

        An engine reading one file at a time gets one value here; engines whose
        :attr:`files_per_read` is larger override this.
        """
        if len(paths) != 1:
            from c360.errors import EngineError

            raise EngineError(f"the {self.name} engine writes one content file at a time")
        self.write_parquet(expr, next(iter(paths.values())))

    def write_partitions(self, expr: ir.Table, by: str, paths: Mapping[Any, Path]) -> None:
        """Write ``expr`` as one Parquet file per value of its column ``by``, to ``paths[value]``
        (each file atomically; ``by`` itself is not written), in one pass over ``expr``.

        Every value of ``paths`` gets a file, an empty one when ``expr`` has no row for it; rows
        whose value is not in ``paths`` are an error.
        """
        with self._partition_folder() as folder:
            self._write_partitioned(expr, by, folder)
            keyed = {_partition_name(value): path for value, path in paths.items()}
            _move_partitions(folder, keyed, schema=expr.drop(by).schema().to_pyarrow())

    @contextmanager
    def _partition_folder(self) -> Iterator[Path]:
        """A fresh scratch folder for a partitioned write, removed afterwards (the files moved
        out of it by :func:`_move_partitions` are kept)."""
        folder = Path(self.scratch or tempfile.gettempdir()) / f".partitions.{os.getpid()}"
        shutil.rmtree(folder, ignore_errors=True)
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    @abstractmethod
    def _write_partitioned(self, expr: ir.Table, by: str, folder: Path) -> None:
        """Write ``expr`` under ``folder`` as one ``__part=VALUE/`` folder per value of ``by``
        (the value as text) holding one Parquet file without ``by``."""

    def write_values(self, expr: ir.Table, by: str, paths: Mapping[Any, Path]) -> None:
        """:meth:`write_partitions` for an expression whose rows all hold values of ``paths``
        (a pass over its own dates): with a single value, one plain write without ``by``."""
        if len(paths) == 1:
            self.write_parquet(expr.drop(by), next(iter(paths.values())))
        else:
            self.write_partitions(expr, by, paths)

    @abstractmethod
    def materialize(self, expr: ir.Table, name: str) -> ir.Table:
        """Compute ``expr`` once and return a table that reads the stored result."""

    @abstractmethod
    def to_pyarrow(self, expr: ir.Table) -> pa.Table:
        """Execute ``expr`` and return the result (only for small results)."""

    @abstractmethod
    def close(self) -> None:
        """Release the session."""

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def in_passes(
    items: Sequence[T],
    size: int,
    *,
    weight: Callable[[T], int] | None = None,
    limit: int | None = None,
) -> Iterator[Sequence[T]]:
    """``items`` in order, at most ``size`` at a time and, with ``weight``, at most ``limit``
    of weight in a pass (an item heavier than ``limit`` goes alone).

    >>> [list(p) for p in in_passes([1, 2, 3, 4, 5], 2)]
    [[1, 2], [3, 4], [5]]
    >>> [list(p) for p in in_passes([3, 1, 1, 5, 1], 9, weight=int, limit=5)]
    [[3, 1, 1], [5], [1]]
    """
    chunk: list[T] = []
    total = 0
    for item in items:
        heavy = weight(item) if weight else 0
        full = len(chunk) >= size or (limit is not None and total + heavy > limit)
        if chunk and full:
            yield chunk
            chunk, total = [], 0
        chunk.append(item)
        total += heavy
    if chunk:
        yield chunk


def _partition_name(value: Any) -> str:
    """How a partition value is spelled in a folder name (``2022-04-01``, ``20220401``)."""
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _move_partitions(folder: Path, paths: Mapping[str, Path], *, schema: pa.Schema) -> None:
    """Move the one file of each ``folder/__part=VALUE/`` to ``paths[VALUE]`` (a rename, so each
    is atomic); values without a folder get an empty file of ``schema``."""
    import pyarrow.parquet as pq

    from c360.errors import EngineError

    written = {d.name.partition("=")[2]: d for d in folder.glob("__part=*")}
    unknown = sorted(set(written) - set(paths))
    if unknown:
        raise EngineError(f"rows for partitions {', '.join(unknown[:3])} that were not asked for")
    for value, target in paths.items():
        target.parent.mkdir(parents=True, exist_ok=True)
        files = sorted(written[value].glob("*.parquet")) if value in written else []
        if len(files) > 1:  # one file per partition is what both engines write; merge if not
            pq.write_table(pa.concat_tables([pq.read_table(f) for f in files]), files[0])
        if files:
            files[0].replace(target)
        else:
            tmp = target.with_name(f".{target.name}.empty")
            pq.write_table(schema.empty_table(), tmp)
            tmp.replace(target)
