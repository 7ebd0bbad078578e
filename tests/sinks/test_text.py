"""The CSV both server bulk paths read: every string quoted, nulls unquoted in each dialect."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from c360.sinks import mysql, postgres
from c360.sinks._text import CsvDialect, encode_batch, parquet_batches, prefetch
from c360.sinks.base import Partitioned, partition_changes

MYSQL, POSTGRES = mysql.CSV, postgres.CSV


def _encode(dialect: CsvDialect, **columns: pa.Array) -> bytes:
    text: bytes = encode_batch(pa.RecordBatch.from_pydict(columns), dialect).to_pybytes()
    return text


@pytest.mark.parametrize(
    ("value", "for_mysql", "for_postgres"),
    [
        pytest.param("plain", b'"plain"', b'"plain"', id="plain-strings-are-quoted-too"),
        pytest.param("", b'""', b'""', id="empty-string-is-quoted"),
        pytest.param(None, b"NULL", b"", id="null-is-the-unquoted-null-word"),
        pytest.param("NULL", b'"NULL"', b'"NULL"', id="the-string-NULL-is-quoted"),
        pytest.param('say "hi"', b'"say ""hi"""', b'"say ""hi"""', id="quotes-are-doubled"),
        pytest.param('"', b'""""', b'""""', id="a-lone-quote"),
        pytest.param("a,b\tc", b'"a,b\tc"', b'"a,b\tc"', id="comma-and-tab-as-they-are"),
        pytest.param("a\nb\r", b'"a\nb\r"', b'"a\nb\r"', id="newlines-as-they-are"),
        pytest.param("C:\\new", b'"C:\\new"', b'"C:\\new"', id="backslashes-are-literal"),
        pytest.param("\\N", b'"\\N"', b'"\\N"', id="literal-backslash-N"),
        pytest.param("\\.", b'"\\."', b'"\\."', id="copy-end-marker-is-quoted"),
        pytest.param(
            "Tiếng Việt 🎬", '"Tiếng Việt 🎬"'.encode(), '"Tiếng Việt 🎬"'.encode(), id="utf8"
        ),
    ],
)
def test_strings(value: str | None, for_mysql: bytes, for_postgres: bytes) -> None:
    column = pa.array([value], pa.string())
    assert _encode(MYSQL, s=column) == for_mysql + b"\n"
    assert _encode(POSTGRES, s=column) == for_postgres + b"\n"


def test_every_type_of_the_output_tables() -> None:
    when = dt.datetime(2022, 4, 1, 10, 0, 0, 123456, tzinfo=dt.UTC)
    columns = {
        "i": pa.array([2**63 - 1, None], pa.int64()),
        "b": pa.array([True, False], pa.bool_()),
        "d": pa.array([dt.date(2022, 4, 30), None], pa.date32()),
        "t": pa.array([when, None], pa.timestamp("us", tz="UTC")),
        "n": pa.array([when.replace(tzinfo=None), None], pa.timestamp("us")),
        "f": pa.array([0.1 + 0.2, None], pa.float64()),
        "g": pa.array([0.1, None], pa.float32()),
        "s": pa.array(["x", None], pa.string()),
    }
    assert _encode(MYSQL, **columns) == (
        b"9223372036854775807,1,2022-04-30,2022-04-01 10:00:00.123456,"
        b'2022-04-01 10:00:00.123456,0.30000000000000004,0.10000000149011612,"x"\n'
        b"NULL,0,NULL,NULL,NULL,NULL,NULL,NULL\n"
    )
    assert _encode(POSTGRES, **columns) == (
        b"9223372036854775807,1,2022-04-30,2022-04-01 10:00:00.123456Z,"
        b'2022-04-01 10:00:00.123456,0.30000000000000004,0.10000000149011612,"x"\n'
        b",0,,,,,,\n"
    )


def test_zoned_timestamps_are_utc_for_mysql_and_keep_their_offset_for_postgres() -> None:
    utc = pa.array([dt.datetime(2022, 4, 1, 3, tzinfo=dt.UTC)], pa.timestamp("us", tz="UTC"))
    local = utc.cast(pa.timestamp("us", tz="Asia/Ho_Chi_Minh"))
    assert _encode(MYSQL, t=local) == b"2022-04-01 03:00:00.000000\n"
    assert _encode(POSTGRES, t=local) == b"2022-04-01 10:00:00.000000+0700\n"


def test_a_sliced_batch_encodes_only_its_rows() -> None:
    batch = pa.RecordBatch.from_pydict({"a": [1, 2, 3], "s": ["x", "y", "z"]}).slice(1, 2)
    assert encode_batch(batch, MYSQL).to_pybytes() == b'2,"y"\n3,"z"\n'
    assert encode_batch(batch.slice(0, 0), MYSQL).to_pybytes() == b""


def test_parquet_is_read_in_bounded_batches(tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"a": list(range(25))}), path)
    sizes = [b.num_rows for b in parquet_batches([path, path], batch_rows=10)]
    assert sizes == [10, 10, 5, 10, 10, 5]


def test_parquet_is_read_in_key_order_when_asked(tmp_path: Path) -> None:
    """A MySQL table with a key is loaded in key order (byte order, as its ``utf8mb4_bin``
    keys compare), across files, in bounded batches."""
    first = tmp_path / "a.parquet"
    second = tmp_path / "b.parquet"
    pq.write_table(pa.table({"k": ["b", "D", "a"], "n": [2, 4, 1], "v": [1, 2, 3]}), first)
    pq.write_table(pa.table({"k": ["a", "c"], "n": [0, 3], "v": [4, 5]}), second)
    batches = list(parquet_batches([first, second], batch_rows=2, order_by=("k", "n")))
    assert [b.num_rows for b in batches] == [2, 2, 1]
    rows = [(r["k"], r["n"]) for b in batches for r in b.to_pylist()]
    assert rows == [("D", 4), ("a", 0), ("a", 1), ("b", 2), ("c", 3)]
    unordered = list(parquet_batches([first, second], batch_rows=2))
    assert [r["k"] for b in unordered for r in b.to_pylist()] == ["b", "D", "a", "a", "c"]


def test_partition_changes(tmp_path: Path) -> None:
    one, two, three = (tmp_path / f"{n}.parquet" for n in (1, 2, 3))
    for path in (one, two, three):
        path.write_bytes(b"x")
    stat = {p: (str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in (one, two, three)}
    loaded = {1: stat[one], 2: stat[two]}
    two.write_bytes(b"changed")
    stale, todo = partition_changes(Partitioned("k", {2: two, 3: three}), loaded)
    assert (stale, todo) == ([1, 2], [2, 3])
    assert partition_changes(Partitioned("k", {1: one}), {1: stat[one]}) == ([], [])


def test_prefetch_yields_everything_in_order_and_raises_the_producers_error() -> None:
    assert list(prefetch(iter(range(50)))) == list(range(50))

    def failing() -> Iterator[int]:
        yield 1
        raise ValueError("bad batch")

    got = []
    with pytest.raises(ValueError, match="bad batch"):
        for item in prefetch(failing()):
            got.append(item)
    assert got == [1]


def test_prefetch_stops_its_producer_when_the_consumer_stops() -> None:
    produced = []

    def endless() -> Iterator[int]:
        for i in itertools.count():
            produced.append(i)
            yield i

    for item in prefetch(endless(), ahead=2):
        if item == 3:
            break
    assert len(produced) <= 3 + 2 + 2  # what was consumed, queued, and in hand
