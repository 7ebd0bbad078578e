"""Arrow batches → the tab-separated text that MySQL's LOAD DATA and PostgreSQL's COPY read.

Both servers' default text formats agree: fields separated by tabs, rows by newlines, ``\\N`` for
null, and backslash escapes for backslash, tab, newline and carriage return inside values. The
encoding is vectorised with Arrow compute (no Python loop over rows), one bounded batch at a time.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

T = TypeVar("T")
NULL = "\\N"
#: Rows per encoded batch: bounded memory whatever the table's size.
BATCH_ROWS = 100_000
# Backslash first, so the escapes added after it are not escaped again.
_ESCAPES = (("\\", "\\\\"), ("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r"))
_SPECIAL = r"[\\\t\n\r]"


def encode_column(column: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """One column as text in the servers' format (nulls included as ``\\N``)."""
    kind = column.type
    if pa.types.is_boolean(kind):
        text = pc.cast(pc.cast(column, pa.int8()), pa.string())
    elif pa.types.is_timestamp(kind):
        # Naive text in UTC: MySQL DATETIME has no zone; PostgreSQL sessions run in UTC.
        text = pc.strftime(column, format="%Y-%m-%d %H:%M:%S")
    elif pa.types.is_string(kind) or pa.types.is_large_string(kind):
        text = column
        # One scan to skip the four replacements in the usual case: nothing to escape.
        if pc.any(pc.match_substring_regex(column, _SPECIAL)).as_py():
            for plain, escaped in _ESCAPES:
                text = pc.replace_substring(text, plain, escaped)
    else:
        text = pc.cast(column, pa.string())
    return pc.fill_null(text, NULL)


def encode_batch(batch: pa.RecordBatch) -> bytes:
    """A record batch as text rows, each ending in a newline."""
    if batch.num_rows == 0:
        return b""
    columns = [encode_column(column) for column in batch.columns]
    rows = pc.binary_join_element_wise(*columns, "\t") if len(columns) > 1 else columns[0]
    # Joined with an empty value and "\n" as the separator, each row ends in a newline; the
    # array's data buffer then holds the whole text, contiguous (no per-row Python objects).
    lines = pc.binary_join_element_wise(rows, pa.scalar(""), "\n")
    return _concatenated(lines)


def _concatenated(strings: pa.Array) -> bytes:
    """The values of a string array without nulls, concatenated, straight from its buffers."""
    offsets = np.frombuffer(strings.buffers()[1], dtype=np.int32)
    first, last = offsets[strings.offset], offsets[strings.offset + len(strings)]
    data: bytes = strings.buffers()[2].slice(int(first), int(last - first)).to_pybytes()
    return data


def parquet_batches(paths: list[Path], *, batch_rows: int = BATCH_ROWS) -> Iterator[pa.RecordBatch]:
    """The rows of Parquet files, a bounded batch at a time."""
    for path in paths:
        yield from pq.ParquetFile(path).iter_batches(batch_size=batch_rows)


def parquet_schema(path: Path) -> pa.Schema:
    return pq.read_schema(path)


def encoded_text(paths: list[Path], *, batch_rows: int = BATCH_ROWS) -> Iterator[tuple[bytes, int]]:
    """(text, rows) of each batch of the files, encoded one batch ahead in a background thread.

    Arrow's compute kernels release the GIL, so the next batch is encoded while the caller sends
    the previous one to the server. At most ``AHEAD`` batches wait in memory.
    """
    batches = parquet_batches(paths, batch_rows=batch_rows)
    return prefetch((encode_batch(b), b.num_rows) for b in batches)


#: Encoded batches that may wait for the sender.
AHEAD = 2
_DONE = object()


def prefetch(items: Iterator[T], *, ahead: int = AHEAD) -> Iterator[T]:
    """Yield ``items``, computing them in a background thread at most ``ahead`` items early.

    An exception in the producer is raised in the consumer; a consumer that stops early stops
    the producer.
    """
    box: queue.Queue[object] = queue.Queue(maxsize=ahead)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                box.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(item):
                    return
            put(_DONE)
        except BaseException as exc:  # handed to the consumer, which raises it
            put(exc)

    worker = threading.Thread(target=produce, name="c360-encode", daemon=True)
    worker.start()
    try:
        while True:
            item = box.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        worker.join()
