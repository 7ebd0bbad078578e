"""The DuckDB warehouse sink: one transaction per publish, previous tables kept on failure."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from c360.errors import ConfigError, OutputError, SinkError
from c360.sinks import create_sink
from c360.sinks.base import Partitioned
from c360.sinks.duckdb import DuckDBSink


def _parquet(path: Path, rows: dict[str, list[object]]) -> Path:
    pq.write_table(pa.table(rows), path)
    return path


def test_publish_replaces_tables_and_comments_them(tmp_path: Path) -> None:
    sink = DuckDBSink(str(tmp_path / "w.duckdb"))
    dims = _parquet(tmp_path / "d.parquet", {"date_key": [20220401], "day": ["Fri"]})
    assert sink.publish({"dim_date": dims}) == {"dim_date": 1}
    again = _parquet(
        tmp_path / "d2.parquet", {"date_key": [20220401, 20220402], "day": ["Fri", "Sat"]}
    )
    assert sink.publish({"dim_date": again}) == {"dim_date": 2}, "a re-run replaces, not appends"
    con = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    try:
        comment = con.execute(
            "SELECT comment FROM duckdb_tables() WHERE table_name = 'dim_date'"
        ).fetchone()
    finally:
        con.close()
    assert comment is not None and "Calendar" in comment[0]


def test_a_failed_publish_keeps_every_previous_table(tmp_path: Path) -> None:
    sink = DuckDBSink(str(tmp_path / "w.duckdb"))
    first = {
        "dim_date": _parquet(tmp_path / "a.parquet", {"date_key": [1], "day": ["x"]}),
        "top_apps": _parquet(tmp_path / "b.parquet", {"app_name": ["VOD"], "rank": [1]}),
    }
    sink.publish(first)
    broken = {
        "dim_date": _parquet(tmp_path / "c.parquet", {"date_key": [1, 2], "day": ["x", "y"]}),
        # A duplicate key makes the second table fail after the first one was replaced.
        "top_apps": _parquet(tmp_path / "d.parquet", {"app_name": ["VOD", "VOD"], "rank": [1, 2]}),
    }
    with pytest.raises(
        SinkError, match=r"previous tables kept.*top_apps: duplicate key \(app_name='VOD'\)"
    ):
        sink.publish(broken)
    assert sink.read("dim_date").num_rows == 1, "the first table's replacement was rolled back"
    assert sink.read("top_apps").to_pylist() == [{"app_name": "VOD", "rank": 1}]


def test_reading_a_missing_warehouse_or_table_is_a_clear_error(tmp_path: Path) -> None:
    sink = DuckDBSink(str(tmp_path / "none.duckdb"))
    with pytest.raises(OutputError, match="does not exist"):
        sink.read("dim_date")
    sink.publish({"dim_date": _parquet(tmp_path / "a.parquet", {"date_key": [1]})})
    with pytest.raises(OutputError, match="no table 'nope'"):
        sink.read("nope")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://x/y", "unknown warehouse"),
        ("ftp://me:secret@x/y", r"unknown warehouse 'ftp://me:\*\*\*@x/y'"),
        ("mysql://root@127.0.0.1", "name one database"),
        ("postgresql://127.0.0.1:port/c360", "the port is not a number"),
    ],
)
def test_unsupported_warehouse_urls(url: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        create_sink(url)


def _fact(sink: DuckDBSink) -> list[tuple[object, ...]]:
    return sorted(tuple(r.values()) for r in sink.read("fact_usage").to_pylist())


def test_partitioned_table_replaces_only_changed_partitions(tmp_path: Path) -> None:
    sink = DuckDBSink(str(tmp_path / "w.duckdb"))
    day1 = _parquet(tmp_path / "1.parquet", {"date_key": [1, 1], "v": [10, 11]})
    day2 = _parquet(tmp_path / "2.parquet", {"date_key": [2], "v": [20]})
    assert sink.publish({"fact_usage": Partitioned("date_key", {1: day1, 2: day2})}) == {
        "fact_usage": 3
    }
    assert _fact(sink) == [(1, 10), (1, 11), (2, 20)]

    # Day 1 is rewritten, day 2 leaves the window, day 3 is new.
    day1 = _parquet(tmp_path / "1.parquet", {"date_key": [1], "v": [12]})
    day3 = _parquet(tmp_path / "3.parquet", {"date_key": [3, 3], "v": [30, 31]})
    counts = sink.publish({"fact_usage": Partitioned("date_key", {1: day1, 3: day3})})
    assert counts == {"fact_usage": 3}
    assert _fact(sink) == [(1, 12), (3, 30), (3, 31)]

    # Publishing the same partitions again changes nothing; the bookkeeping table is hidden.
    assert sink.publish({"fact_usage": Partitioned("date_key", {1: day1, 3: day3})}) == {
        "fact_usage": 3
    }
    assert "_c360_partitions" not in sink.tables()


def test_partitioned_table_with_new_columns_is_reloaded_whole(tmp_path: Path) -> None:
    sink = DuckDBSink(str(tmp_path / "w.duckdb"))
    old = _parquet(tmp_path / "1.parquet", {"date_key": [1], "v": [10]})
    sink.publish({"fact_usage": Partitioned("date_key", {1: old})})
    new1 = _parquet(tmp_path / "n1.parquet", {"date_key": [1], "v": [10], "w": ["a"]})
    new2 = _parquet(tmp_path / "n2.parquet", {"date_key": [2], "v": [20], "w": ["b"]})
    sink.publish({"fact_usage": Partitioned("date_key", {1: new1, 2: new2})})
    assert _fact(sink) == [(1, 10, "a"), (2, 20, "b")]


def test_a_failed_publish_keeps_the_previous_partitions(tmp_path: Path) -> None:
    sink = DuckDBSink(str(tmp_path / "w.duckdb"))
    day1 = _parquet(tmp_path / "1.parquet", {"date_key": [1], "v": [10]})
    top = _parquet(tmp_path / "t.parquet", {"app_name": ["VOD"], "rank": [1]})
    sink.publish({"fact_usage": Partitioned("date_key", {1: day1}), "top_apps": top})
    day2 = _parquet(tmp_path / "2.parquet", {"date_key": [2], "v": [20]})
    bad = _parquet(tmp_path / "bad.parquet", {"app_name": ["VOD", "VOD"], "rank": [1, 2]})
    with pytest.raises(SinkError, match="duplicate key"):
        sink.publish({"fact_usage": Partitioned("date_key", {1: day1, 2: day2}), "top_apps": bad})
    assert _fact(sink) == [(1, 10)]
    # The partition record was rolled back too: the next good publish loads day 2.
    sink.publish({"fact_usage": Partitioned("date_key", {1: day1, 2: day2}), "top_apps": top})
    assert _fact(sink) == [(1, 10), (2, 20)]


def test_keys_the_run_found_unique_are_not_grouped_again(tmp_path: Path) -> None:
    """``unique`` names tables whose key the run's checks found unique in these very files: the
    sink does not group them again (so a duplicate there would pass); every other table with a
    key is still checked."""
    sink = DuckDBSink(str(tmp_path / "w.duckdb"))
    doubled = _parquet(tmp_path / "t.parquet", {"app_name": ["VOD", "VOD"], "rank": [1, 2]})
    assert sink.publish({"top_apps": doubled}, unique={"top_apps"}) == {"top_apps": 2}
    with pytest.raises(SinkError, match=r"top_apps: duplicate key"):
        sink.publish({"top_apps": doubled}, unique={"dim_date"})


def _profile_files(tmp_path: Path, *, rows: int = 2) -> tuple[Path, Path]:
    """A ``customer_content_stats`` file and a ``customer_360`` file that holds its rows."""
    stats = {"contract": [f"C{i}" for i in range(rows)], "active_days": list(range(1, rows + 1))}
    profile = _parquet(tmp_path / f"stats{rows}.parquet", stats)
    unified = _parquet(
        tmp_path / f"c360_{rows}.parquet", {**stats, "user_id": [f"u{i}" for i in range(rows)]}
    )
    return profile, unified


def _kinds(path: Path) -> dict[str, str]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        rows = con.execute("SELECT table_name, table_type FROM information_schema.tables")
        return {str(name): str(kind) for name, kind in rows.fetchall() if name[0] != "_"}
    finally:
        con.close()


def test_a_table_held_by_another_is_published_as_its_view(tmp_path: Path) -> None:
    """``customer_content_stats`` is a view of ``customer_360`` when both are published (its
    rows and columns are in it, D103); alone, or with a file that does not hold its rows, it is
    a table again. Readers see the same rows either way."""
    path = tmp_path / "w.duckdb"
    sink = DuckDBSink(str(path))
    profile, unified = _profile_files(tmp_path)
    counts = sink.publish({"customer_content_stats": profile, "customer_360": unified})
    assert counts == {"customer_content_stats": 2, "customer_360": 2}
    assert _kinds(path) == {"customer_content_stats": "VIEW", "customer_360": "BASE TABLE"}
    assert sink.read("customer_content_stats").to_pylist() == pq.read_table(profile).to_pylist()
    assert "customer_content_stats" in sink.tables()

    # customer_360 republished alone (a reclassification): the view reads its new rows.
    _, wider = _profile_files(tmp_path, rows=3)
    sink.publish({"customer_360": wider})
    assert sink.read("customer_content_stats").num_rows == 3

    # Alone, the profile is stored as a table; published with a customer_360 that has other
    # rows (here one more), too.
    assert sink.publish({"customer_content_stats": profile}) == {"customer_content_stats": 2}
    assert _kinds(path)["customer_content_stats"] == "BASE TABLE"
    sink.publish({"customer_content_stats": profile, "customer_360": wider})
    assert _kinds(path)["customer_content_stats"] == "BASE TABLE"
    assert sink.read("customer_content_stats").to_pylist() == pq.read_table(profile).to_pylist()

    # And a view again, with its comment, the next time both match.
    sink.publish({"customer_content_stats": profile, "customer_360": unified})
    assert _kinds(path)["customer_content_stats"] == "VIEW"
    con = duckdb.connect(str(path), read_only=True)
    try:
        comment = con.execute(
            "SELECT comment FROM duckdb_views() WHERE view_name = 'customer_content_stats'"
        ).fetchone()
    finally:
        con.close()
    assert comment is not None and comment[0].startswith("One row per contract")


def test_a_view_needs_each_column_with_its_type(tmp_path: Path) -> None:
    sink = DuckDBSink(str(tmp_path / "w.duckdb"))
    profile = _parquet(tmp_path / "p.parquet", {"contract": ["C1"], "active_days": [3]})
    other_type = _parquet(tmp_path / "u.parquet", {"contract": ["C1"], "active_days": [3.0]})
    sink.publish({"customer_content_stats": profile, "customer_360": other_type})
    assert _kinds(tmp_path / "w.duckdb")["customer_content_stats"] == "BASE TABLE"
    assert sink.read("customer_content_stats").to_pylist() == [{"contract": "C1", "active_days": 3}]
