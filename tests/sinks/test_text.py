"""The text rows both server bulk paths read: tabs, newlines, ``\\N`` and backslash escapes."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from c360.sinks._text import encode_batch, parquet_batches, prefetch
from c360.sinks.base import Partitioned, partition_changes


def _encode(**columns: pa.Array) -> bytes:
    return encode_batch(pa.RecordBatch.from_pydict(columns))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("plain", b"plain", id="plain"),
        pytest.param("", b"", id="empty-string-is-not-null"),
        pytest.param(None, b"\\N", id="null"),
        pytest.param("a\tb", b"a\\tb", id="tab"),
        pytest.param("a\nb\r", b"a\\nb\\r", id="newlines"),
        pytest.param("C:\\new", b"C:\\\\new", id="backslash-before-n-is-not-a-newline"),
        pytest.param("\\N", b"\\\\N", id="literal-backslash-N-is-not-null"),
        pytest.param("Tiếng Việt 🎬", "Tiếng Việt 🎬".encode(), id="utf8"),
    ],
)
def test_strings(value: str | None, expected: bytes) -> None:
    assert _encode(s=pa.array([value], pa.string())) == expected + b"\n"


def test_every_type_of_the_output_tables() -> None:
    when = dt.datetime(2022, 4, 1, 10, 0, 0, 123456, tzinfo=dt.UTC)
    got = _encode(
        i=pa.array([2**62, None], pa.int64()),
        b=pa.array([True, False], pa.bool_()),
        d=pa.array([dt.date(2022, 4, 30), None], pa.date32()),
        t=pa.array([when, None], pa.timestamp("us", tz="UTC")),
        f=pa.array([0.25, None], pa.float64()),
        s=pa.array(["x", None], pa.string()),
    )
    assert got == (
        b"4611686018427387904\t1\t2022-04-30\t2022-04-01 10:00:00.123456\t0.25\tx\n"
        b"\\N\t0\t\\N\t\\N\t\\N\t\\N\n"
    )


def test_a_sliced_batch_encodes_only_its_rows() -> None:
    batch = pa.RecordBatch.from_pydict({"a": [1, 2, 3], "s": ["x", "y", "z"]}).slice(1, 2)
    assert encode_batch(batch) == b"2\ty\n3\tz\n"


def test_parquet_is_read_in_bounded_batches(tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"a": list(range(25))}), path)
    sizes = [b.num_rows for b in parquet_batches([path, path], batch_rows=10)]
    assert sizes == [10, 10, 5, 10, 10, 5]


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
