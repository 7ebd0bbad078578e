"""The search part of a run, end to end (SPEC 1.2, 2.5–2.6): day folders → lake → warehouse."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from _support import REAL_DATA, content_line, write_day, write_search_day
from c360.app import C360
from c360.config import load_config
from c360.errors import InputError
from c360.reports import RunReport

pytestmark = pytest.mark.slow
REAL_SEARCH = REAL_DATA / "log_search"


def _run(root: Path, search: Path, **options: Any) -> RunReport:
    content = root / "content"
    if not content.exists():
        write_day(content, date(2022, 7, 1), [content_line("HNH000001", record_id="c")])
    return C360(config=load_config(env={})).run(
        content, warehouse=str(root / "w.duckdb"), lake=root / "lake", search=search, **options
    )


def _rows(root: Path, sql: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(root / "w.duckdb"), read_only=True)
    try:
        return con.sql(sql).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, RunReport]:
    root = tmp_path_factory.mktemp("real-search")
    return root, _run(root, REAL_SEARCH)


def test_real_day_every_part_and_row_is_read(real: tuple[Path, RunReport]) -> None:
    root, report = real
    assert report.search is not None
    parts = list((REAL_SEARCH / "20220701").glob("*.parquet"))
    assert len(parts) == 46
    assert (report.search.days_found, report.search.rows_read) == (1, 74_299)
    assert _rows(root, "SELECT rows_read FROM ingested_files WHERE source = 'search'") == [
        (74_299,)
    ]


def test_real_day_rows_add_up_and_23_repeated_events_count_once(
    real: tuple[Path, RunReport],
) -> None:
    root, report = real
    assert report.search is not None
    reasons = dict(_rows(root, "SELECT reason, rows FROM search_quality"))
    assert reasons["duplicate_event"] == 23
    not_counted = sum(v for k, v in reasons.items() if k not in ("counted", "clock_skew"))
    assert reasons["counted"] + not_counted == 74_299
    assert report.search.searches_counted == reasons["counted"]
    junk = _rows(root, "SELECT count(*) FROM quarantine_search")[0][0]
    assert junk == reasons.get("no_letters", 0) + reasons.get("bad_user_id", 0)


def test_real_day_june_30_rows_count_in_june(real: tuple[Path, RunReport]) -> None:
    root, report = real
    assert report.search is not None
    assert report.search.months == ("2022-06", "2022-07")
    bronze = pq.read_table(root / "lake/bronze/search/date=2022-07-01/part.parquet")
    june = [d for d in bronze.column("effective_date").to_pylist() if d == date(2022, 6, 30)]
    assert len(june) == 206  # 205 written in ASCII digits and one in Persian digits
    persian = bronze.filter(pa.compute.match_substring(bronze["datetime"], "۲۰۲۲"))
    assert persian.num_rows == 3
    assert all(t is not None for t in persian.column("event_time").to_pylist())
    assert not any(persian.column("clock_skew").to_pylist())


def test_real_day_user_ids_keep_leading_zeros(real: tuple[Path, RunReport]) -> None:
    root, _ = real
    zeros = _rows(root, "SELECT count(*) FROM search_monthly_top WHERE user_id LIKE '0%'")
    assert zeros[0][0] > 0
    assert _rows(root, "SELECT typeof(user_id) FROM search_monthly_top LIMIT 1") == [("VARCHAR",)]


def test_monthly_top_categories_from_a_mapping_and_taste_change(tmp_path: Path) -> None:
    search = tmp_path / "search"
    write_search_day(
        search,
        date(2022, 6, 15),
        [
            ("1", "2022-06-15 10:00:00.000", "0001", "Người Phán Xử"),
            ("2", "2022-06-15 11:00:00.000", "0001", "nguoi phan xu"),
            ("3", "2022-06-15 12:00:00.000", "0002", "Running Man"),
            ("4", "2022-06-15 12:00:00.000", "0004", "Tìm kiếm bằng giọng nói"),
            ("8", "2022-06-15 09:00:00.000", "0001", " NGƯỜI  phán xử "),
        ],
    )
    write_search_day(search, date(2022, 7, 1), [
        ("5", "2022-07-01 10:00:00.000", "0001", "naruto"),
        ("6", "2022-07-01 10:00:00.000", "0003", "thoi su"),
        ("6", "2022-07-01 09:00:00.000", "0003", "thoi su"),  # same event twice
        ("7", "2022-06-30 23:00:00.000", "0002", "running man"),  # June, by its own date
    ])  # fmt: skip
    mapping = tmp_path / "keywords.csv"
    mapping.write_text(
        "keyword,category\nNgười  phán xử,Drama\nrunning man,Reality Show\nnaruto,Animation\n",
        encoding="utf-8",
    )
    report = _run(tmp_path, search, mapping=mapping)
    assert report.search is not None and report.search.months == ("2022-06", "2022-07")
    top = _rows(
        tmp_path,
        "SELECT user_id, month, most_search, search_count, category FROM search_monthly_top "
        "ORDER BY ALL",
    )
    assert top == [
        ("0001", "2022-06", "người phán xử", 2, "Drama"),
        ("0001", "2022-07", "naruto", 1, "Animation"),
        ("0002", "2022-06", "running man", 2, "Reality Show"),
        ("0003", "2022-07", "thoi su", 1, "Unknown"),
    ]
    stats = _rows(
        tmp_path,
        "SELECT user_id, trending_type, category_change FROM customer_search_stats ORDER BY 1",
    )
    assert stats == [
        ("0001", "Changed", "Drama -> Animation"),
        ("0002", "Lapsed", "Reality Show -> None"),
        ("0003", "New", "None -> Unknown"),
    ]
    categories = dict(_rows(tmp_path, "SELECT keyword_norm, source FROM keyword_category"))
    assert categories["naruto"] == "mapping" and categories["thoi su"] is None

    again = _run(tmp_path, search, mapping=mapping)
    assert again.search is not None and again.search.days_ingested == 0


def test_a_mapping_with_an_unknown_category_is_a_clear_error(tmp_path: Path) -> None:
    search = tmp_path / "search"
    write_search_day(search, date(2022, 7, 1), [("1", "2022-07-01 10:00:00.000", "1", "x")])
    mapping = tmp_path / "m.csv"
    mapping.write_text("naruto,Cartoons\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"m.csv:1: category 'Cartoons' is not one of"):
        _run(tmp_path, search, mapping=mapping)


def test_generated_search_days_run_end_to_end(tmp_path: Path) -> None:
    report = C360(config=load_config(env={})).generate(tmp_path / "raw", scale=0.002, days=2)
    # A few hundred rows a day: rates vary too much for the quality thresholds.
    result = C360(config=load_config(env={}, overrides={"quality.allow_failures": True})).run(
        report.content_dir,
        warehouse=str(tmp_path / "w.duckdb"),
        lake=tmp_path / "lake",
        search=report.search_dir,
    )
    assert result.search is not None
    assert result.search.days_found == len(report.search_folders)
    assert result.search.searches_counted > 0
    # The last day's next-day spill makes an August; June and July are still the months compared.
    assert result.search.months == ("2022-06", "2022-07", "2022-08")
    compared = _rows(
        tmp_path, "SELECT DISTINCT previous_month, current_month FROM customer_search_stats"
    )
    assert compared == [("2022-06", "2022-07")]
    shutil.rmtree(tmp_path / "raw")


def test_customer_360_joins_the_search_profile_only_through_the_bridge(tmp_path: Path) -> None:
    content = tmp_path / "content"
    write_day(content, date(2022, 7, 1), [
        content_line("HNH000001", record_id="a"),
        content_line("HNH000002", record_id="b"),
        content_line("HNH000003", record_id="c"),
    ])  # fmt: skip
    search = tmp_path / "search"
    write_search_day(search, date(2022, 6, 1), [("1", "2022-06-01 10:00:00.000", "0009", "naruto")])
    write_search_day(search, date(2022, 7, 1), [("2", "2022-07-01 10:00:00.000", "0042", "conan")])
    bridge = tmp_path / "bridge.csv"
    # HNH000001 has two users: the one with a search profile is taken; HNH000003 has none.
    bridge.write_text(
        "contract,user_id\nHNH000001,0001\nHNH000001,0009\nHNH000002,0042\n", encoding="utf-8"
    )
    _run(tmp_path, search, bridge=bridge)
    rows = _rows(
        tmp_path,
        "SELECT contract, user_id, most_search_prev, most_search_curr, trending_type "
        "FROM customer_360 ORDER BY contract",
    )
    assert rows == [
        ("HNH000001", "0009", "naruto", None, "Lapsed"),
        ("HNH000002", "0042", None, "conan", "New"),
        ("HNH000003", None, None, None, None),
    ]

    # Without the bridge the two logs share no key: the search columns stay empty.
    _run(tmp_path, search)
    assert _rows(tmp_path, "SELECT count(user_id), count(most_search_curr) FROM customer_360") == [
        (0, 0)
    ]


def test_a_bridge_with_missing_values_is_a_clear_error(tmp_path: Path) -> None:
    search = tmp_path / "search"
    write_search_day(search, date(2022, 7, 1), [("1", "2022-07-01 10:00:00.000", "1", "x")])
    bridge = tmp_path / "bridge.csv"
    bridge.write_text("contract,user_id\nHNH000001,\n", encoding="utf-8")
    with pytest.raises(InputError, match="1 rows lack a contract or a user_id"):
        _run(tmp_path, search, bridge=bridge)
