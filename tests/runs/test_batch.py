"""End to end through the façade: raw daily files → lake → warehouse (SPEC 1.1, 2.1–2.4, 4, 5)."""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

from _support import (
    BLANK,
    DAYS,
    DUP,
    OK,
    TOLERANT,
    content_line,
    write_day,
    write_known_days,
)
from c360.app import C360
from c360.catalog import tables_of
from c360.config import load_config
from c360.reports import RunReport

D1, D2, D3 = date(2022, 4, 1), date(2022, 4, 2), date(2022, 4, 3)
STATE_TABLES = {"pipeline_runs", "ingested_files"}
MODEL_TABLES = sorted(tables_of("content"))
M1 = "0C96E62FC55C"


# -- helpers ---------------------------------------------------------------------------------


def _run(content: Path, root: Path, **window: Any) -> RunReport:
    """One run with defaults only (no c360.toml, no environment)."""
    return C360(config=load_config(env={}, overrides=TOLERANT)).run(
        content, warehouse=str(root / "w.duckdb"), lake=root / "lake", **window
    )


@contextmanager
def _warehouse(root: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect(str(root / "w.duckdb"), read_only=True)
    try:
        yield con
    finally:
        con.close()


def _rows(root: Path, sql: str) -> list[tuple[Any, ...]]:
    with _warehouse(root) as con:
        return con.sql(sql).fetchall()


def _snapshot(root: Path, tables: list[str] = MODEL_TABLES) -> dict[str, Any]:
    """Every table's column names and full sorted contents."""
    out: dict[str, Any] = {}
    with _warehouse(root) as con:
        for name in tables:
            rel = con.sql(f'SELECT * FROM "{name}" ORDER BY ALL')
            out[name] = (rel.columns, rel.fetchall())
    return out


#: fact_usage holds keys and measures only; its natural keys come from the dimensions.
FACT_WITH_NATURAL_KEYS = (
    "fact_usage f "
    "JOIN dim_date d USING (date_key) "
    "JOIN dim_contract c USING (contract_key) "
    "JOIN dim_device v USING (device_key) "
    "JOIN dim_app a USING (app_key)"
)


def _usage(root: Path) -> list[tuple[Any, ...]]:
    """fact_usage joined to its dimensions as (date, contract, mac, app, seconds, records), sorted.

    Every fact row must find its member in each dimension (the inner joins drop none).
    """
    got = _rows(
        root,
        "SELECT d.date, c.contract, v.mac, a.app_name, f.total_duration, f.records "
        f"FROM {FACT_WITH_NATURAL_KEYS} ORDER BY ALL",
    )
    assert _rows(root, "SELECT count(*) FROM fact_usage") == [(len(got),)]
    return got


def _non_blank_lines(path: Path) -> list[str]:
    data = path.read_bytes()
    if path.name.endswith(".gz"):
        data = gzip.decompress(data)
    return [line for line in data.decode("utf-8").splitlines() if line.strip()]


def _contract(raw: str) -> Any:
    try:
        source = json.loads(raw).get("_source")
    except (ValueError, AttributeError):
        return None
    return source.get("Contract") if isinstance(source, dict) else None


# -- the real samples ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_run(real_content_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("real")
    return root, _run(real_content_dir, root)


@pytest.mark.slow
def test_real_samples_every_line_is_accepted_or_quarantined(
    real_run: Any, real_content_dir: Path
) -> None:
    root, report = real_run
    files = sorted(real_content_dir.glob("*.json*"))
    lines = sum(len(_non_blank_lines(f)) for f in files)
    assert report.status == "succeeded"
    assert report.files_found == report.files_ingested == len(files)
    assert report.rows_read == lines
    assert report.rows_accepted + report.rows_quarantined == lines
    quarantined = _rows(root, "SELECT count(*) FROM quarantine_content")[0][0]
    assert quarantined == report.rows_quarantined


@pytest.mark.slow
def test_real_samples_contract_zero_is_quarantined(real_run: Any, real_content_dir: Path) -> None:
    root, report = real_run
    zeros = 0
    for path in sorted(real_content_dir.glob("*.json*")):
        zeros += sum(_contract(line) == "0" for line in _non_blank_lines(path))
    assert zeros > 0, "the real samples are known to hold the pseudo-customer '0'"
    raws = _rows(root, "SELECT reason, raw FROM quarantine_content")
    quarantined_zeros = [reason for reason, raw in raws if _contract(raw) == "0"]
    assert quarantined_zeros == ["bad_contract"] * zeros
    assert report.quarantine_reasons.get("bad_contract", 0) >= zeros
    zero_facts = f"SELECT count(*) FROM {FACT_WITH_NATURAL_KEYS} WHERE c.contract = '0'"
    assert _rows(root, zero_facts) == [(0,)]
    assert _rows(root, "SELECT count(*) FROM dim_contract WHERE contract = '0'") == [(0,)]


@pytest.mark.slow
def test_real_samples_profile_customers_and_publish_every_table(real_run: Any) -> None:
    root, report = real_run
    assert report.contracts_profiled > 0
    with _warehouse(root) as con:
        tables = con.sql("SELECT table_name FROM information_schema.tables").fetchall()
        profiled = con.sql("SELECT count(*) FROM customer_content_stats").fetchone()
    assert set(tables_of("content") + tables_of("run")) <= {name for (name,) in tables}
    assert profiled == (report.contracts_profiled,)
    assert report.tables["customer_content_stats"] == report.contracts_profiled


# -- hand-made data with known answers -------------------------------------------------------


@pytest.fixture(scope="module")
def known_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, RunReport]:
    root = tmp_path_factory.mktemp("known")
    write_known_days(root / "in")
    return root, _run(root / "in", root)


@pytest.mark.slow
def test_known_counts(known_run: tuple[Path, RunReport]) -> None:
    _, report = known_run
    assert report.status == "succeeded"
    assert (report.files_found, report.files_ingested, report.files_unchanged) == (3, 3, 0)
    assert report.rows_read == 8 + 13 + 5  # non-blank lines
    assert report.rows_accepted == 5 + 2 + 4
    assert report.rows_quarantined == 3 + 11 + 1
    assert report.duplicates == 3
    assert report.quarantine_reasons == {
        "bad_contract": 4,
        "bad_duration": 7,
        "malformed_json": 2,
        "missing_source": 2,
    }
    assert (report.window_start, report.window_end) == (D1, D3)
    assert report.contracts_profiled == 3  # HNH000004 watched only APP (Other)


def test_known_quarantine_rows_name_file_line_reason_and_raw_text(
    known_run: tuple[Path, RunReport],
) -> None:
    root, _ = known_run
    expected = sorted(
        (name, line_no, outcome, line)
        for name, day in DAYS.items()
        for line_no, (line, outcome) in enumerate(day, start=1)
        if outcome not in (OK, DUP, BLANK)
    )
    got = _rows(
        root, "SELECT source_file, line_no, reason, raw FROM quarantine_content ORDER BY ALL"
    )
    assert got == expected
    # spot checks written out by hand: physical line numbers count the blank lines
    assert ("20220401.json", 7, "malformed_json") in [g[:3] for g in got]
    assert ("20220402.json.gz", 9, "bad_duration") in [g[:3] for g in got]
    assert ("20220402.json.gz", 14, "missing_source") in [g[:3] for g in got]
    dates = _rows(root, "SELECT DISTINCT source_file, file_date FROM quarantine_content")
    assert sorted(dates) == [("20220401.json", D1), ("20220402.json.gz", D2), ("20220403.json", D3)]


def test_known_duplicates_keep_the_first_by_file_date_then_line(
    known_run: tuple[Path, RunReport],
) -> None:
    root, _ = known_run
    assert _usage(root) == [
        (D1, "HNH000001", M1, "KPLUS", 100, 1),
        (D1, "HNH000001", M1, "SPORT", 86_400, 1),  # Mac normalised: same device as KPLUS
        (D1, "HNH000002", M1, "VOD", 10, 1),  # not 999 (later line), not 5 (later day)
        (D1, "HNH000003", M1, "RELAX", 50, 1),  # not 7000 (later day)
        (D2, "HNH000002", M1, "CHILD", 0, 1),
        (D3, "HNH000001", None, "CHANNEL", 20, 1),  # unusable Mac: unknown device, row kept
        (D3, "HNH000003", M1, "RELAX", 300, 1),
        (D3, "HNH000004", M1, "APP", 40, 1),
    ]
    totals = _rows(root, "SELECT sum(total_duration), sum(records) FROM fact_usage")
    assert totals == [(86_920, 8)]


def test_known_customer_profile(known_run: tuple[Path, RunReport]) -> None:
    root, _ = known_run
    got = _rows(
        root,
        "SELECT contract, truyen_hinh, phim_truyen, giai_tri, thieu_nhi, the_thao, "
        "total_duration, active_days, most_watch, taste, devices, first_active, last_active, "
        "recency_days FROM customer_content_stats ORDER BY contract",
    )
    assert got == [
        ("HNH000001", 120, 0, 0, 0, 86_400, 86_520, 2, "The Thao", "Truyen Hinh-The Thao", 1,
         D1, D3, 0),
        ("HNH000002", 0, 10, 0, 0, 0, 10, 2, "Phim Truyen", "Phim Truyen", 1, D1, D2, 1),
        ("HNH000003", 0, 0, 350, 0, 0, 350, 2, "Giai Tri", "Giai Tri", 1, D1, D3, 0),
    ]  # fmt: skip


def test_the_warehouse_profile_is_the_lake_profile_through_a_view(
    known_run: tuple[Path, RunReport],
) -> None:
    """The DuckDB warehouse stores the profile once, inside ``customer_360``, and exposes
    ``customer_content_stats`` as a view of it (D103): same rows, columns and types as the
    lake's table."""
    root, _ = known_run
    lake = root / "lake" / "gold" / "customer_content_stats.parquet"
    with _warehouse(root) as con:
        kind = con.sql(
            "SELECT table_type FROM information_schema.tables "
            "WHERE table_name = 'customer_content_stats'"
        ).fetchall()
        served = con.sql("SELECT * FROM customer_content_stats ORDER BY contract").to_arrow_table()
        stored = con.sql(f"SELECT * FROM '{lake}' ORDER BY contract").to_arrow_table()
    assert kind == [("VIEW",)]
    assert served.num_rows == 3
    assert served.equals(stored)


def test_known_durations_are_integer_seconds(known_run: tuple[Path, RunReport]) -> None:
    """Seconds are JSON integers (SPEC 2.1); their sums must stay integers in the warehouse."""
    root, _ = known_run
    types = dict(
        _rows(
            root,
            "SELECT table_name || '.' || column_name, data_type FROM information_schema.columns "
            "WHERE table_name IN ('fact_usage', 'customer_content_stats') AND column_name IN "
            "('total_duration', 'truyen_hinh', 'phim_truyen', 'giai_tri', 'thieu_nhi', "
            "'the_thao')",
        )
    )
    assert len(types) == 7
    integers = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT"}
    assert {k: v for k, v in types.items() if v not in integers} == {}


# -- dirty bytes -------------------------------------------------------------------------------


def test_control_character_in_a_bad_line_is_kept_in_the_raw_text(tmp_path: Path) -> None:
    bad = 'garbage \x01 with a control byte, "quotes" and ; separators'
    write_day(tmp_path / "in", D1, [content_line("HNH000001", record_id="a"), bad])
    report = _run(tmp_path / "in", tmp_path)
    assert (report.rows_accepted, report.rows_quarantined) == (1, 1)
    got = _rows(tmp_path, "SELECT line_no, reason, raw FROM quarantine_content")
    assert got == [(2, "malformed_json", bad)]


def test_invalid_utf8_line_is_quarantined_not_fatal(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    good = content_line("HNH000001", record_id="a").encode()
    (folder / "20220401.json").write_bytes(good + b"\n" + b'{"_id":"\xff\xfe"}\n' + good + b"\n")
    report = _run(folder, tmp_path)
    assert report.status == "succeeded"
    assert (report.rows_read, report.rows_accepted, report.rows_quarantined) == (3, 2, 1)
    assert [r[0] for r in _rows(tmp_path, "SELECT line_no FROM quarantine_content")] == [2]


# -- incremental runs --------------------------------------------------------------------------


def _day_lines(day: date, *entries: tuple[str, int]) -> list[str]:
    return [
        content_line(contract, duration=seconds, app="VOD", record_id=f"{day:%d}-{i}")
        for i, (contract, seconds) in enumerate(entries)
    ]


@pytest.mark.slow
def test_incremental_runs_ingest_only_new_or_changed_files(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    write_day(folder, D1, _day_lines(D1, ("HNH000010", 100), ("HNH000011", 10)))
    day2 = write_day(folder, D2, _day_lines(D2, ("HNH000010", 200), ("HNH000011", 20)))

    first = _run(folder, tmp_path)
    assert (first.files_ingested, first.files_unchanged) == (2, 0)

    write_day(folder, D3, _day_lines(D3, ("HNH000012", 300)))
    second = _run(folder, tmp_path)
    assert (second.files_found, second.files_ingested, second.files_unchanged) == (3, 1, 2)
    assert second.rows_read == 5
    assert D3 in {row[0] for row in _usage(tmp_path)}
    assert _rows(tmp_path, "SELECT date FROM dim_date ORDER BY 1") == [(D1,), (D2,), (D3,)]
    assert ("HNH000012",) in _rows(tmp_path, "SELECT contract FROM customer_content_stats")
    before = _snapshot(tmp_path)

    third = _run(folder, tmp_path)
    assert (third.files_ingested, third.files_unchanged) == (0, 3)
    assert third.rows_read == 5
    assert _snapshot(tmp_path) == before

    # Changed content (a different size): only that file is read again; its old rows are gone.
    day2.write_text(
        "\n".join(_day_lines(D2, ("HNH000010", 222), ("HNH000013", 2000), ("HNH000013", 1))) + "\n",
        encoding="utf-8",
    )
    changed = _run(folder, tmp_path)
    assert (changed.files_ingested, changed.files_unchanged) == (1, 2)
    assert (changed.rows_read, changed.duplicates) == (6, 0)
    day2_usage = [row for row in _usage(tmp_path) if row[0] == D2]
    assert day2_usage == [
        (D2, "HNH000010", M1, "VOD", 222, 1),
        (D2, "HNH000013", M1, "VOD", 2001, 2),
    ]
    stats = dict(_rows(tmp_path, "SELECT contract, total_duration FROM customer_content_stats"))
    assert stats == {"HNH000010": 322, "HNH000011": 10, "HNH000012": 300, "HNH000013": 2001}
    ingested = _rows(tmp_path, "SELECT name, rows_read FROM ingested_files ORDER BY name")
    assert ingested == [("20220401.json", 2), ("20220402.json", 3), ("20220403.json", 1)]
    after_change = _snapshot(tmp_path)

    # Touched (same bytes, new mtime): not re-ingested, same tables.
    stat = day2.stat()
    os.utime(day2, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    touched = _run(folder, tmp_path)
    assert (touched.files_ingested, touched.files_unchanged) == (0, 3)
    assert _snapshot(tmp_path) == after_change


# -- window ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_window_limits_days_and_recency_counts_from_the_end(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    write_day(folder, D1, _day_lines(D1, ("HNH000020", 10), ("HNH000021", 1)))
    write_day(folder, D2, _day_lines(D2, ("HNH000020", 20)))
    write_day(folder, D3, _day_lines(D3, ("HNH000020", 30)))

    only_d2 = _run(folder, tmp_path, start=D2, end=D2)
    assert (only_d2.files_found, only_d2.window_start, only_d2.window_end) == (1, D2, D2)
    assert {row[0] for row in _usage(tmp_path)} == {D2}
    assert _rows(tmp_path, "SELECT date FROM dim_date") == [(D2,)]
    profile = "SELECT contract, total_duration, active_days, first_active, recency_days "
    profile += "FROM customer_content_stats ORDER BY contract"
    assert _rows(tmp_path, profile) == [("HNH000020", 20, 1, D2, 0)]

    late_end = _run(folder, tmp_path, end=date(2022, 4, 10))
    assert (late_end.files_found, late_end.window_start, late_end.window_end) == (
        3,
        D1,
        date(2022, 4, 10),
    )
    recency = dict(_rows(tmp_path, "SELECT contract, recency_days FROM customer_content_stats"))
    assert recency == {"HNH000020": 7, "HNH000021": 9}

    from_d2 = _run(folder, tmp_path, start=D2)
    assert (from_d2.window_start, from_d2.window_end) == (D2, D3)  # the latest file date
    assert _rows(tmp_path, profile) == [("HNH000020", 50, 2, D2, 0)]


# -- idempotence and run records ---------------------------------------------------------------


@pytest.mark.slow
def test_same_input_gives_the_same_tables_in_a_fresh_or_the_same_warehouse(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "in"
    write_known_days(folder)
    same, fresh = tmp_path / "same", tmp_path / "fresh"
    first = _run(folder, same)
    once = _snapshot(same)
    second = _run(folder, same)
    assert second.files_ingested == 0
    twice = _snapshot(same)
    _run(folder, fresh)
    assert once["customer_content_stats"] == twice["customer_content_stats"]
    assert _snapshot(fresh)["customer_content_stats"] == once["customer_content_stats"]
    assert once == twice == _snapshot(fresh)

    runs = _rows(same, "SELECT run_id, status, files_ingested FROM pipeline_runs ORDER BY ALL")
    assert runs == sorted([(first.run_id, "succeeded", 3), (second.run_id, "succeeded", 0)])
