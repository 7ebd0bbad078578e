"""Where everything lives inside the lake folder.

This is the only module that spells the lake's folder and file names; every other module asks a
:class:`LakeLayout` for a path by what it holds::

    lake/
      bronze/content/date=D/<file>.parquet   every content line with its verdict
      bronze/search/date=D/part.parquet      every search row with its verdict
      silver/content/<kind>/date=D/part.parquet   per-date ids, losers and partials
      gold/<table>.parquet                   every published table
      gold/fact_usage/date=D/part.parquet    the fact, one partition per date of the window
      _state/                                ledger, run records, window totals, answers, lock
      _tmp/                                  engine spill space
"""

from __future__ import annotations

from datetime import date
from pathlib import Path


class LakeLayout:
    """The paths of one lake."""

    BRONZE = "bronze"
    SILVER = "silver"
    GOLD = "gold"
    STATE = "_state"
    SCRATCH = "_tmp"

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    # -- bronze: every input row with its verdict ---------------------------------------------

    def bronze(self, source: str, day: date, name: str = "part") -> Path:
        """A bronze file of ``source`` (``content``: one per input file; ``search``: one per
        day)."""
        return self.root / self.BRONZE / source / f"date={day}" / f"{name}.parquet"

    def bronze_files(self, source: str) -> list[Path]:
        """Every bronze file of ``source``, by date."""
        return sorted((self.root / self.BRONZE / source).glob("date=*/*.parquet"))

    # -- silver: per-date intermediate results ------------------------------------------------

    def silver(self, kind: str, day: date) -> Path:
        return self.root / self.SILVER / "content" / kind / f"date={day}" / "part.parquet"

    def silver_kinds(self) -> list[Path]:
        """The folders of every kind of per-date file present."""
        return sorted(p for p in (self.root / self.SILVER / "content").glob("*") if p.is_dir())

    # -- gold: the published tables -----------------------------------------------------------

    def gold(self, table: str) -> Path:
        return self.root / self.GOLD / f"{table}.parquet"

    def partition(self, table: str, day: date) -> Path:
        """One date's partition of a partitioned gold table (``fact_usage``)."""
        return self.root / self.GOLD / table / f"date={day}" / "part.parquet"

    def partitions(self, table: str) -> list[Path]:
        return sorted((self.root / self.GOLD / table).glob("date=*/part.parquet"))

    # -- state --------------------------------------------------------------------------------

    def state(self, name: str) -> Path:
        """A state file: ``ingested_files.parquet``, ``content_days.json``, ``bridge.parquet``
        …; run-record histories are ``<table>.parquet``."""
        return self.root / self.STATE / name

    def history(self, table: str) -> Path:
        """A run-record history (``pipeline_runs``, ``dq_results``, ``table_lineage``)."""
        return self.state(f"{table}.parquet")

    @property
    def ledger(self) -> Path:
        """Which input files were ingested (path, size, checksum, rows, run id)."""
        return self.state("ingested_files.parquet")

    @property
    def run_state(self) -> Path:
        """The run in progress: what its stages have done so far."""
        return self.state("run_state.json")

    @property
    def lock(self) -> Path:
        return self.state("run.lock")

    @property
    def bridge(self) -> Path:
        """The last run's contract ↔ user bridge."""
        return self.state("bridge.parquet")

    @property
    def search_months(self) -> Path:
        """The months the last run compared (``customer_search_stats``)."""
        return self.state("search_months.json")

    @property
    def keyword_answers(self) -> Path:
        """Keyword genres decided so far (LLM and offline), kept between runs."""
        return self.state("keyword_answers.sqlite")

    @property
    def keyword_model(self) -> Path:
        """The offline keyword classifier trained from LLM answers."""
        return self.state("keyword_model.pickle")

    @property
    def content_days(self) -> Path:
        """The version each content date was built with."""
        return self.state("content_days.json")

    def total(self, name: str) -> Path:
        """One of the window's totals (contract totals, device pairs, app-contract pairs)."""
        return self.root / self.STATE / "totals" / f"{name}.parquet"

    def totals(self) -> list[Path]:
        return sorted((self.root / self.STATE / "totals").glob("*.parquet"))

    @property
    def repeated_ids(self) -> Path:
        """Id hashes present on more than one date of the window."""
        return self.root / self.STATE / "duplicates" / "repeated_hashes.parquet"

    @property
    def scratch(self) -> Path:
        """Engine spill space."""
        return self.root / self.SCRATCH

    def relative(self, path: Path) -> str:
        """``path`` as it is named inside the lake (for lineage)."""
        return str(path.relative_to(self.root))
