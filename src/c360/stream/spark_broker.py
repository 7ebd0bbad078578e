"""NATS JetStream as a Spark streaming source: a Python data source (``pyspark.sql.datasource``,
no jars).

An offset is the next stream sequence to read of each stream (``{"votes": 1, "events": 1}``
for empty streams). Each micro-batch takes the sequences after the last one, at most
``max_batch`` a stream, one partition a stream; a partition reads its sequences with the same
client the DuckDB processor uses (:meth:`JetStreamLanding.read`), in a Python worker. Rows are
``stream, file, line_no, line`` as the landing zone's (``file``: the JetStream stream;
``line_no``: the sequence).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pyspark.sql.datasource import DataSource, DataSourceStreamReader, InputPartition

from c360.stream.broker import JetStreamLanding

#: The name the source is registered under (``spark.readStream.format(NAME)``).
NAME = "c360_jetstream"
SCHEMA = "stream string, file string, line_no bigint, line string"


@dataclass
class _Range(InputPartition):
    stream: str
    start: int
    end: int  # the sequence after the last one read


class JetStreamSource(DataSource):
    """Options: ``url`` (``nats://…``), ``streams`` (comma-separated), ``max_batch`` (messages a
    stream a batch), ``start`` (JSON offset to begin at when there is no checkpoint)."""

    @classmethod
    def name(cls) -> str:
        return NAME

    def schema(self) -> str:
        return SCHEMA

    def streamReader(self, schema: Any) -> DataSourceStreamReader:
        return _Reader(self.options)


class _Reader(DataSourceStreamReader):
    def __init__(self, options: dict[str, str]) -> None:
        self.url = options["url"]
        self.streams = options["streams"].split(",")
        self.max_batch = int(options.get("max_batch", "200000"))
        start = {s: int(v) for s, v in json.loads(options.get("start", "{}")).items()}
        self.start = {s: max(1, start.get(s, 1)) for s in self.streams}
        #: Where the next batch begins, as far as the driver knows.
        self.position = dict(self.start)

    def initialOffset(self) -> dict[str, int]:
        # Asked for after the first latestOffset: the start, not the position.
        return dict(self.start)

    def latestOffset(self) -> dict[str, int]:
        try:
            with JetStreamLanding(self.url) as broker:
                last = {s: broker.last_sequence(s) for s in self.streams}
        except ConnectionError:
            # The broker is away: no new data for now (the query goes on and asks again).
            return dict(self.position)
        # A batch takes at most max_batch messages a stream.
        end = {s: min(last[s] + 1, self.position[s] + self.max_batch) for s in self.streams}
        self.position = {s: max(self.position[s], end[s]) for s in self.streams}
        return end

    def partitions(self, start: dict[str, int], end: dict[str, int]) -> list[_Range]:
        # Spark hands back the offsets of its checkpoint on a restart: the next batch begins
        # at this batch's end.
        self.position = {s: max(int(end.get(s, 1)), 1) for s in self.streams}
        return [
            _Range(s, int(start.get(s, 1)), int(end[s]))
            for s in self.streams
            if int(end.get(s, 1)) > int(start.get(s, 1))
        ]

    def read(self, partition: InputPartition) -> Iterator[tuple[str, str, int, str]]:
        assert isinstance(partition, _Range)
        with JetStreamLanding(self.url) as broker:
            start = partition.start
            while start < partition.end:
                batch = broker.read(partition.stream, start, limit=partition.end - start)
                if batch is None:
                    return
                yield from zip(
                    batch.lines["stream"].to_pylist(), batch.lines["file"].to_pylist(),
                    batch.lines["line_no"].to_pylist(), batch.lines["line"].to_pylist(),
                    strict=True,
                )  # fmt: skip
                start = batch.next

    def commit(self, end: dict[str, int]) -> None:
        """Nothing to acknowledge: messages stay in the stream (the state keeps the offsets)."""
