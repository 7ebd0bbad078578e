"""Content silver date by date (``c360.build.content_dates``): each date is built once, totals
merge, and the tables are the same whether the days arrive one run at a time, out of order, or
all at once."""

from __future__ import annotations

import itertools
import shutil
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from _support import content_line, write_day
from c360.app import C360
from c360.catalog import tables_of
from c360.config import load_config
from c360.generate.content_logs import write_content_day
from c360.generate.population import make_population
from c360.reports import RunReport

MODEL_TABLES = sorted(tables_of("content"))
D0, D1, D2, D3 = (date(2022, 4, 1) + timedelta(days=i) for i in range(4))
A, B = "HNH000001", "SGJ000002"

pytestmark = pytest.mark.slow


def _run(content: Path, root: Path, **window: Any) -> RunReport:
    return C360(config=load_config(env={})).run(
        content, warehouse=str(root / "w.duckdb"), lake=root / "lake", **window
    )


def _snapshot(root: Path) -> dict[str, Any]:
    con = duckdb.connect(str(root / "w.duckdb"), read_only=True)
    try:
        return {
            name: con.sql(f'SELECT * FROM "{name}" ORDER BY ALL').fetchall()
            for name in MODEL_TABLES
        }
    finally:
        con.close()


def _profile(root: Path) -> dict[str, tuple[int, int]]:
    con = duckdb.connect(str(root / "w.duckdb"), read_only=True)
    try:
        rows = con.sql("SELECT contract, phim_truyen, active_days FROM customer_content_stats")
        return {contract: (seconds, days) for contract, seconds, days in rows.fetchall()}
    finally:
        con.close()


def _line(contract: str, seconds: int, record_id: str) -> str:
    return content_line(contract, duration=seconds, app="VOD", record_id=record_id)


def test_a_repeated_id_counts_once_across_dates_and_a_backfill_moves_the_first(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "in"
    write_day(folder, D1, [_line(A, 10, "x"), _line(B, 1, "b1")])
    write_day(folder, D2, [_line(A, 20, "x"), _line(A, 40, "a2"), _line(A, 80, "x")])

    first = _run(folder, tmp_path)
    # "x" is kept on D1 (first by date); both of its D2 copies are dropped.
    assert _profile(tmp_path) == {A: (50, 2), B: (1, 1)}
    assert first.duplicates == 2

    # A backfilled earlier date with the same id: D1's copy becomes a duplicate too, so D1 is
    # rebuilt and the totals are recomputed (not merged) even though only a date was added.
    write_day(folder, D0, [_line(B, 5, "x")])
    backfill = _run(folder, tmp_path)
    assert _profile(tmp_path) == {A: (40, 1), B: (6, 2)}
    assert backfill.duplicates == 3
    assert (backfill.dates_built, backfill.totals_mode) == (2, "rebuilt")

    cold = tmp_path / "cold"
    _run(folder, cold)
    assert _snapshot(cold) == _snapshot(tmp_path)


def test_two_files_of_one_date_are_one_date(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    write_day(folder, D1, [_line(A, 10, "a1"), _line(A, 5, "dup")])
    write_day(folder, D1, [_line(A, 20, "a2"), _line(A, 7, "dup")], gz=True)
    report = _run(folder, tmp_path)
    # One active day; the .json.gz copy of "dup" loses to the .json one (file name order).
    assert _profile(tmp_path) == {A: (35, 1)}
    assert (report.files_found, report.duplicates, report.dates_built) == (2, 1, 1)


def test_adding_a_date_builds_only_it_and_merges_the_totals(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    write_day(folder, D1, [_line(A, 10, "1"), _line(B, 3, "2")])
    write_day(folder, D2, [_line(A, 20, "3")])
    first = _run(folder, tmp_path)
    assert (first.dates_built, first.totals_mode) == (2, "rebuilt")

    write_day(folder, D3, [_line(B, 30, "4"), _line(A, 1, "1")])  # "1" repeats D1's id
    added = _run(folder, tmp_path)
    assert (added.dates_built, added.totals_mode) == (1, "merged")
    assert _profile(tmp_path) == {A: (30, 2), B: (33, 2)}
    # The merged (app, contract) pairs count each contract once however many dates it has.
    con = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    try:
        reach = con.sql("SELECT app_name, contracts FROM top_apps").fetchall()
    finally:
        con.close()
    assert reach == [("VOD", 2)]
    cold = tmp_path / "cold"
    _run(folder, cold)
    assert _snapshot(cold) == _snapshot(tmp_path)

    again = _run(folder, tmp_path)
    assert (again.dates_built, again.totals_mode) == (0, "reused")

    # A narrower window drops a date: the totals are recomputed from the dates' partials, and
    # D3's copy of "1" counts again (D1 is outside the window), so D3 is rebuilt.
    narrow = _run(folder, tmp_path, start=D2)
    assert (narrow.dates_built, narrow.totals_mode) == (1, "rebuilt")
    assert _profile(tmp_path) == {A: (21, 2), B: (30, 1)}
    fact_dates = sorted(p.name for p in (tmp_path / "lake/gold/fact_usage").iterdir())
    assert fact_dates == [f"date={D2}", f"date={D3}"]

    # Widening it again rebuilds D1 (its fact partition left the lake) and D3 (duplicate again).
    wide = _run(folder, tmp_path)
    assert (wide.dates_built, wide.totals_mode) == (2, "rebuilt")
    assert _profile(tmp_path) == {A: (30, 2), B: (33, 2)}


def test_files_no_step_writes_any_more_leave_the_lake(tmp_path: Path) -> None:
    """A lake written by an earlier version keeps no per-date files or totals nobody reads."""
    folder = tmp_path / "in"
    write_day(folder, D1, [_line(A, 10, "1")])
    _run(folder, tmp_path)
    lake = tmp_path / "lake"
    old_partial = lake / "silver/content/app_totals" / f"date={D1}" / "part.parquet"
    old_total = lake / "_state/totals/app_totals.parquet"
    for path in (old_partial, old_total):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"PAR1")
    before = _snapshot(tmp_path)

    _run(folder, tmp_path)
    assert not old_partial.parent.parent.exists() and not old_total.exists()
    assert (lake / "silver/content/contract_totals" / f"date={D1}" / "part.parquet").exists()
    assert (lake / "_state/totals/contract_totals.parquet").exists()
    assert _snapshot(tmp_path) == before


@pytest.mark.parametrize("seed", [1, 2])
def test_days_one_run_at_a_time_in_any_order_equal_one_cold_run(tmp_path: Path, seed: int) -> None:
    days = [date(2022, 4, 1) + timedelta(days=i) for i in range(5)]
    source = tmp_path / "generated"
    population = make_population(300, seed=seed)
    paths = [write_content_day(source, d, population, lines=800, seed=seed) for d in days]
    # Cross-date duplicates: a few lines of each day repeat on the next day.
    for earlier, later in itertools.pairwise(paths):
        repeated = earlier.read_text(encoding="utf-8").splitlines()[::97]
        with later.open("a", encoding="utf-8") as out:
            out.write("".join(line + "\n" for line in repeated))

    incremental = tmp_path / "incremental"
    folder = tmp_path / "arriving"
    folder.mkdir()
    order = [2, 3, 0, 4, 1] if seed == 1 else [0, 1, 2, 3, 4]
    for index in order:
        shutil.copy(paths[index], folder / paths[index].name)
        _run(folder, incremental)

    cold = tmp_path / "cold"
    report = _run(source, cold)
    assert report.duplicates > 0
    assert _snapshot(incremental) == _snapshot(cold)
