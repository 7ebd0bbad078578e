"""What every stage of a run takes: the request, the window, and the run's context.

A stage is a function ``stage(ctx) -> result``: it reads what earlier stages left in the context
(and in the lake), does its one job, and records what later stages need. The façade
(:mod:`c360.app`) builds the context; :mod:`c360.runs` keeps it between stages called apart.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from c360.config import C360Config
    from c360.console import Reporter
    from c360.engines.base import Engine
    from c360.lake.layout import LakeLayout
    from c360.lake.ledger import Ledger
    from c360.quality.runner import QualityRunner
    from c360.reports import RunReport
    from c360.sinks.base import Sink, TableFiles


@dataclass(frozen=True)
class RunRequest:
    """What to process and where to put it (the same for every stage of one run)."""

    lake: Path
    content: Path | None = None
    start: date | None = None
    end: date | None = None
    search: Path | None = None
    mapping: Path | None = None
    bridge: Path | None = None


@dataclass(frozen=True)
class Window:
    """The dates a source covers: ``first`` … ``last`` and the dates that have input.

    ``first`` and ``last`` are the requested bounds (``--from``/``--to``) when given, else the
    first and last date found, so a date missing at either edge of a requested window counts as
    missing. Content and search resolve their windows from the same bounds.
    """

    first: date
    last: date
    dates: tuple[date, ...]

    @classmethod
    def over(
        cls, found: Iterable[date], *, start: date | None = None, end: date | None = None
    ) -> Window:
        """The window of the dates ``found`` within the bounds ``start``/``end``.

        >>> w = Window.over([date(2022, 4, 3), date(2022, 4, 2)], end=date(2022, 4, 5))
        >>> (str(w.first), str(w.last), w.days, [str(d) for d in w.missing])
        ('2022-04-02', '2022-04-05', 4, ['2022-04-04', '2022-04-05'])
        """
        dates = tuple(sorted(set(found)))
        if not dates and (start is None or end is None):
            raise ValueError("a window needs dates or both bounds")
        return cls(start or dates[0], end or dates[-1], dates)

    @property
    def days(self) -> int:
        """Days from ``first`` to ``last``, both included."""
        return (self.last - self.first).days + 1

    @property
    def missing(self) -> list[date]:
        """Dates of the window without input."""
        present = set(self.dates)
        every = (self.first + timedelta(n) for n in range(self.days))
        return [d for d in every if d not in present]


#: The names of a run's sources: their windows, bronze folders, ledger records and checks.
CONTENT = "content"
SEARCH = "search"

#: The stages of a batch run, in order; each may also be called alone on a lake.
STAGES = ("ingest", "transform", "check", "publish")


@dataclass
class RunContext:
    """One run: its request and settings, the engine and lake it works on, and what its stages
    have done so far."""

    request: RunRequest
    config: C360Config
    lake: LakeLayout
    engine: Engine
    reporter: Reporter
    report: RunReport
    quality: QualityRunner
    ledger: Ledger
    command: str = "run"
    sink: Sink | None = None
    #: The window of each source ("content", "search") that the ingest stage resolved.
    windows: dict[str, Window] = field(default_factory=dict)
    #: The day folders of the search window (names ``YYYYMMDD``).
    search_days: list[str] = field(default_factory=list)
    #: Each lineage input (a layer or reference) with its files: ``(kind, name)``.
    inputs: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    #: Every output table the transform wrote, by name.
    outputs: dict[str, TableFiles] = field(default_factory=dict)
    #: Partition values each partitioned output got from this run (the others were kept).
    fresh: dict[str, list[int]] = field(default_factory=dict)
    #: Stages completed, in order.
    done: list[str] = field(default_factory=list)
    #: The stage running now (steps inside it are timed as ``stage.step``).
    stage: str = ""

    @property
    def run_id(self) -> str:
        return self.report.run_id

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        """Time a step of the current stage (``transform.build``)."""
        start = time.perf_counter()
        try:
            yield
        finally:
            key = f"{self.stage}.{name}" if self.stage else name
            self.report.steps[key] = self.report.steps.get(key, 0.0) + time.perf_counter() - start
