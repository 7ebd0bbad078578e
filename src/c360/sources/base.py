"""What every input source does, in order: discover → freshness → bronze → ledger → checks.

A source subclasses :class:`Source` and says how to find its inputs, how to write them to bronze,
and how its ledger records count rejected rows; the order, the freshness test against the ledger,
the ledger record and the input checks (reject rate per input, days missing from the window) are
written here once.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import ClassVar, Generic, TypeVar

from c360.context import RunContext, Window
from c360.lake.ledger import FileRecord
from c360.quality.checks import InputCounts, missing_days, reject_rates


@dataclass(frozen=True)
class Counts:
    """Rows of one input as its bronze file counts them."""

    read: int
    accepted: int
    quarantined: int


Item = TypeVar("Item")


class Source(ABC, Generic[Item]):
    """One kind of input (content files, search day folders) of a run."""

    #: Its name in the ledger, in bronze and in check results.
    name: ClassVar[str]

    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx
        #: Fingerprint of the settings that decide a row's verdict; a change re-ingests inputs.
        self.rules_hash = self.rules_version()

    def ingest(self) -> Window:
        """Bring the window's inputs into bronze and the ledger; check them (fail-closed)."""
        request = self.ctx.request
        items = self.discover()
        window = Window.over(
            [self.day(item) for item in items], start=request.start, end=request.end
        )
        self.ctx.windows[self.name] = window
        todo = [item for item in items if not self.unchanged(item)]
        self.write(todo)
        records = [self.ctx.ledger.records[(self.name, self.key(item))] for item in items]
        self.summarise(items, records)
        self.check(records, window)
        return window

    # -- what a source says ------------------------------------------------------------------

    @abstractmethod
    def rules_version(self) -> str:
        """Fingerprint of the settings that decide a row's verdict."""

    @abstractmethod
    def discover(self) -> list[Item]:
        """The window's inputs, sorted by date (raises InputError when there are none)."""

    @staticmethod
    @abstractmethod
    def day(item: Item) -> date: ...

    @staticmethod
    @abstractmethod
    def key(item: Item) -> str:
        """The input's name in the ledger."""

    @abstractmethod
    def unchanged(self, item: Item) -> bool:
        """The ledger's record of ``item`` still stands (cheap test; ``write`` may find more)."""

    @abstractmethod
    def write(self, todo: Sequence[Item]) -> None:
        """Write ``todo`` to bronze and record each in the ledger (after its data)."""

    @abstractmethod
    def summarise(self, items: Sequence[Item], records: Sequence[FileRecord]) -> None:
        """Put the window's inputs and row counts in the run report."""

    @staticmethod
    @abstractmethod
    def rejected(record: FileRecord) -> int:
        """Rows of an input that its reject-rate check counts as rejected."""

    def extra_checks(self, window: Window) -> None:
        """Checks of the source's own (over its bronze rows), judged with the others."""
        return

    # -- what every source shares --------------------------------------------------------------

    def recorded(self, key: str, bronze: Path) -> FileRecord | None:
        """The ledger's record of an input when it was ingested with the current validation
        settings and its bronze file exists (callers add the content test)."""
        record = self.ctx.ledger.get(self.name, key)
        if record is None or record.rules_hash != self.rules_hash or not bronze.exists():
            return None
        return record

    def record(
        self,
        key: str,
        *,
        path: Path,
        day: date,
        size: int,
        mtime_ns: int,
        checksum: str,
        counts: Counts,
        bronze: Path,
    ) -> None:
        """Record one input in the ledger, after its bronze data is written."""
        self.ctx.ledger.put(
            FileRecord(
                source=self.name,
                name=key,
                path=str(path.resolve()),
                file_date=day,
                size=size,
                mtime_ns=mtime_ns,
                checksum=checksum,
                rows_read=counts.read,
                rows_accepted=counts.accepted,
                rows_quarantined=counts.quarantined,
                bronze_path=str(bronze),
                rules_hash=self.rules_hash,
                run_id=self.ctx.run_id,
                ingested_at=datetime.now(UTC),
            )
        )

    def check(self, records: Sequence[FileRecord], window: Window) -> None:
        """Reject rate per input and days missing from the window; stops on a failure."""
        cfg, stage = self.ctx.config.quality, self.ctx.stage or "ingest"
        counts = [InputCounts(r.name, r.file_date, r.rows_read, self.rejected(r)) for r in records]
        quality = self.ctx.quality
        quality.add(
            reject_rates(
                counts, cfg, check=f"{self.name}_reject_rate", stage=stage, table=self.name
            )
        )
        quality.add(
            missing_days(
                window, cfg, check=f"{self.name}_missing_days", stage=stage, table=self.name
            )
        )
        self.extra_checks(window)
        quality.enforce()
