"""The shape every engine has.

An engine owns a session and does the engine-specific work only: decoding raw inputs into the
tables the rules expect, reading and writing Parquet, and executing Ibis expressions. Differences
between engines are class-level capability flags, never ``if engine == ...`` in business code.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    import ibis.expr.types as ir
    import pyarrow as pa

    from c360.config import EngineConfig
    from c360.io.files import SearchDay, SourceFile


class Engine(ABC):
    """A compute engine running Ibis expressions."""

    name: ClassVar[str]

    def __init__(self, config: EngineConfig, *, scratch: str | None = None) -> None:
        self.config = config
        self.scratch = scratch
        #: Hint: AppName values known to be strings, so decoding need not re-check their type.
        self.known_apps: tuple[str, ...] = ()

    @abstractmethod
    def decode_content(self, source: SourceFile, *, plain_text: bool = True) -> ir.Table:
        """Every line of a content file, in file order, as ``rules.content.DECODED_COLUMNS``.

        ``plain_text`` False means the file has bytes that are not UTF-8 (or other bytes the fast
        reader cannot take): the engine must still return every line, flagging bad encodings.
        """

    @abstractmethod
    def decode_search(self, day: SearchDay) -> ir.Table:
        """Every row of a search day's Parquet parts as ``rules.search.DECODED_COLUMNS``.

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
