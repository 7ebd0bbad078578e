"""A whole synthetic data set: content days, search days and the contract↔user bridge."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from c360.console import NullReporter, Reporter
from c360.generate.content_logs import LINES_PER_DAY_SF1, contracts_per_sf1, write_content_day
from c360.generate.population import make_population
from c360.generate.search_logs import ROWS_PER_DAY_SF1, write_search_day

CONTENT_START = date(2022, 4, 1)
SEARCH_START = date(2022, 6, 1)
SEARCH_DAYS = 61  # June and July


@dataclass(frozen=True)
class GenerateRequest:
    """What to generate."""

    out: Path
    scale: float = 0.01
    seed: int = 42
    content_start: date = CONTENT_START
    content_days: int = 30
    search_days: int = SEARCH_DAYS
    gzip: bool = False


@dataclass
class GenerateReport:
    """What was written."""

    content_dir: Path
    search_dir: Path
    bridge: Path
    content_files: list[Path] = field(default_factory=list)
    search_folders: list[Path] = field(default_factory=list)
    contracts: int = 0
    bridged: int = 0


def generate_dataset(
    request: GenerateRequest, *, reporter: Reporter | None = None
) -> GenerateReport:
    """Write ``out/log_content``, ``out/log_search`` and ``out/contract_user.csv``.

    The scale factor multiplies the daily volume (1.0 ≈ 1.6 M content lines and 80 k searches a
    day, the real service's volume); the number of days is fixed by the request.
    """
    progress = reporter or NullReporter()
    if request.scale <= 0:
        raise ValueError("scale must be positive")
    lines = max(1, round(LINES_PER_DAY_SF1 * request.scale))
    population = make_population(contracts_per_sf1(lines), seed=request.seed)
    report = GenerateReport(
        content_dir=request.out / "log_content",
        search_dir=request.out / "log_search",
        bridge=request.out / "contract_user.csv",
        contracts=population.size,
    )
    progress.stage("content logs", total=request.content_days)
    for offset in range(request.content_days):
        day = request.content_start + timedelta(days=offset)
        path = write_content_day(
            report.content_dir,
            day,
            population,
            lines=lines,
            seed=request.seed,
            gzip_output=request.gzip,
        )
        report.content_files.append(path)
        progress.advance(path.name)

    rows = max(1, round(ROWS_PER_DAY_SF1 * request.scale))
    progress.stage("search logs", total=request.search_days)
    for offset in range(request.search_days):
        day = SEARCH_START + timedelta(days=offset)
        folder = write_search_day(report.search_dir, day, population, rows=rows, seed=request.seed)
        report.search_folders.append(folder)
        progress.advance(folder.name)

    report.bridge.parent.mkdir(parents=True, exist_ok=True)
    tmp = report.bridge.with_name(report.bridge.name + ".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["contract", "user_id"])
        for contract, user in zip(
            population.contracts.tolist(), population.user_ids.tolist(), strict=True
        ):
            if user:
                writer.writerow([contract, user])
                report.bridged += 1
    tmp.replace(report.bridge)
    return report
