"""What the façade's use cases return: plain values that the shells (CLI, API) render.

Nothing here computes or reads anything; a shell may import this module and :mod:`c360.app`
and nothing else of c360's internals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from c360.generate.dataset import GenerateReport

PASS, WARN, FAIL, SKIPPED = "pass", "warn", "fail", "skipped"
#: What each check measures, for messages and ``c360 quality``.
DESCRIPTIONS: dict[str, str] = {
    "content_reject_rate": "share of a content file's lines quarantined",
    "content_missing_days": "days of the window without a content file",
    "search_reject_rate": "share of a search day's rows not counted as a user's search",
    "search_missing_days": "days of the window without a search day folder",
    "search_null_user_rate": "share of search rows without a user_id",
    "search_null_keyword_rate": "share of search rows without a keyword",
    "unknown_device_rate": "share of counted content records with an unusable MAC",
    "primary_key": "rows whose primary key is null or repeated",
    "foreign_key": "distinct keys missing from the referenced table",
    "value_domain": "rows with a value outside its allowed set or range",
    "row_drift": "relative change of a table's rows against the median of earlier runs",
}
#: Checks whose observed value is a share (shown as a percentage).
RATES = frozenset(
    {
        "content_reject_rate",
        "search_reject_rate",
        "search_null_user_rate",
        "search_null_keyword_rate",
        "unknown_device_rate",
        "row_drift",
    }
)


def show_value(check: str, value: float | None) -> str:
    """An observed value or threshold as people read it: shares as percentages."""
    if value is None:
        return "—"
    if check in RATES:
        return f"{value * 100:.1f} %"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.3f}"


@dataclass(frozen=True)
class CheckResult:
    """One check on one subject: what was observed, the threshold, and the verdict."""

    stage: str
    check: str
    table_name: str
    subject: str
    observed: float | None
    threshold: float
    severity: str
    status: str

    @property
    def message(self) -> str:
        """One line: ``content_reject_rate on 20220401.json: 12.0 % > 5.0 % (share of ...)``."""
        where = self.table_name + (f" {self.subject}" if self.subject else "")
        if self.observed is None:
            return f"{self.check} on {where}: not measured ({DESCRIPTIONS[self.check]})"
        sign = ">" if self.status in (WARN, FAIL) else "<="
        return (
            f"{self.check} on {where}: {show_value(self.check, self.observed)} {sign} "
            f"{show_value(self.check, self.threshold)} ({DESCRIPTIONS[self.check]})"
        )


@dataclass
class SearchReport:
    """What the search part of a run did."""

    days_found: int = 0
    days_ingested: int = 0
    rows_read: int = 0
    searches_counted: int = 0
    duplicates: int = 0
    users: int = 0
    months: tuple[str, ...] = ()
    skipped: dict[str, int] = field(default_factory=dict)
    #: The day folders of the window.
    folders: tuple[str, ...] = ()


@dataclass
class RunReport:
    """What a run (or one of its stages) did, for the summary, the run record and tests."""

    run_id: str
    started_at: datetime
    window_start: date | None = None
    window_end: date | None = None
    files_found: int = 0
    files_ingested: int = 0
    files_unchanged: int = 0
    rows_read: int = 0
    rows_accepted: int = 0
    rows_quarantined: int = 0
    duplicates: int = 0
    dates_built: int = 0
    totals_mode: str = ""
    contracts_profiled: int = 0
    quarantine_reasons: dict[str, int] = field(default_factory=dict)
    tables: dict[str, int] = field(default_factory=dict)
    #: Seconds of each stage that ran (ingest, transform, check, publish), in order.
    stages: dict[str, float] = field(default_factory=dict)
    #: Seconds of the steps inside a stage, as ``stage.step`` (``transform.build``).
    steps: dict[str, float] = field(default_factory=dict)
    #: The stage that stopped the run, when one did.
    failed_stage: str | None = None
    lake: Path | None = None
    warehouse: str = ""
    status: str = "running"
    error: str | None = None
    search: SearchReport | None = None
    #: Input file names of the window.
    input_files: list[str] = field(default_factory=list)
    #: Rows of each output table.
    rows_out: dict[str, int] = field(default_factory=dict)
    #: Every data quality check of the run.
    checks: list[CheckResult] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        """Wall time of the stages that ran."""
        return sum(self.stages.values())


@dataclass
class ClassifyReport:
    """What a classification run did (shared by the LLM and the offline classifier)."""

    asked: int = 0
    answered: int = 0
    requests: int = 0
    retries: int = 0
    tokens: int = 0
    budget_exhausted: bool = False
    failed_batches: int = 0
    seconds: float = 0.0
    errors: dict[str, int] = field(default_factory=dict)
    #: The offline classifier's version and how many labels it learned from (offline runs).
    model: str | None = None
    trained_on: int = 0
    #: Tables republished with the new genres, and their rows.
    tables: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class LoadReport:
    """A copy of one warehouse's tables into another."""

    target: str
    tables: dict[str, int]
    seconds: float


@dataclass(frozen=True)
class DemoReport:
    """A demo: the generated data and the run on it."""

    generated: GenerateReport
    run: RunReport
    classify: ClassifyReport
    warehouse: str
