"""Landing in NATS JetStream (the real server on 127.0.0.1:4222): what the simulator serves is
published once, with its position, and read back in order from a sequence."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from c360.app import C360, FaultRates
from c360.errors import ConfigError
from c360.generate.stream_events import EventSource
from c360.stream.broker import JetStreamLanding
from stream.conftest import START, running_simulator

pytestmark = pytest.mark.nats
NATS = "nats://127.0.0.1:4222"


@pytest.fixture
def broker() -> Iterator[str]:
    """A URL whose prefix no other test uses; its JetStream streams are deleted afterwards."""
    url = f"{NATS}/t{uuid.uuid4().hex[:12]}"
    yield url
    with JetStreamLanding(url) as landing:
        js = landing._connected()
        for stream in ("votes", "events"):
            try:
                landing._run(js.delete_stream(landing.stream_name(stream)))
            except Exception:  # a stream the test never created: nothing to delete
                continue


def _read_all(url: str, stream: str) -> list[tuple[int, object]]:
    with JetStreamLanding(url) as landing:
        out: list[tuple[int, object]] = []
        start = 1
        while (batch := landing.read(stream, start, limit=700)) is not None:
            numbers = batch.lines.column("line_no").to_pylist()
            events = map(json.loads, batch.lines.column("line").to_pylist())
            out += list(zip(numbers, events, strict=True))
            start = batch.next
        return out


def test_everything_served_is_published_once_in_order_and_resumable(broker: str) -> None:
    faults = FaultRates(error=0.2, duplicate=0.05, junk=0.05)
    with running_simulator(seed=8, total=1500, faults=faults) as client:
        app = C360(overrides={"stream": {"poll_count": 200}})
        report = app.stream_ingest(str(client.base_url), broker=broker)
        again = app.stream_ingest(str(client.base_url), broker=broker)  # nothing left to land
    assert report.events == {"votes": 1500, "events": 1500} and report.retries > 0
    assert again.events == {"votes": 0, "events": 0}
    source = EventSource("votes", seed=8, rate=0.0, start=START, faults=faults)
    served = [source.at(p) for p in range(1500)]
    # A repeat of an id is dropped by JetStream (within its duplicate window): each id once.
    expected, seen = [], set()
    for item in served:
        event = item.event
        key = event.get("id") if isinstance(event, dict) else None
        if isinstance(key, str) and key:
            if key in seen:
                continue
            seen.add(key)
        expected.append(event)
    messages = _read_all(broker, "votes")
    assert [event for _, event in messages] == expected
    assert [sequence for sequence, _ in messages] == list(range(1, len(expected) + 1))
    with JetStreamLanding(broker) as landing:
        assert landing.next_position("votes") == 1500


def test_an_unreachable_broker_is_one_line(tmp_path: Path) -> None:
    with running_simulator(seed=1, total=10) as client, pytest.raises(OSError) as caught:
        C360().stream_ingest(str(client.base_url), broker="nats://127.0.0.1:1")
    assert str(caught.value).startswith("cannot reach NATS at nats://127.0.0.1:1: ")


@pytest.mark.parametrize("url", ["http://127.0.0.1:4222", "nats://", "nats://h:1/bad prefix"])
def test_a_broker_that_is_not_a_nats_url_is_a_config_error(url: str) -> None:
    with pytest.raises(ConfigError, match="is not a nats:// URL"):
        JetStreamLanding(url)


def test_land_in_a_folder_or_a_broker_not_both(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="one of them"):
        C360().stream_ingest("http://127.0.0.1:1", landing=tmp_path, broker=NATS)


def _votes_served(seed: int, total: int, faults: FaultRates) -> dict[str, int]:
    """Votes per song of what was served: junk left out, each id once."""
    source = EventSource("votes", seed=seed, rate=0.0, start=START, faults=faults)
    songs: dict[str, str] = {}
    for position in range(total):
        served = source.at(position)
        if not (served.fault or "").startswith("junk"):
            songs.setdefault(served.event["id"], served.event["song"])
    counted: dict[str, int] = {}
    for song in songs.values():
        counted[song] = counted.get(song, 0) + 1
    return counted


@pytest.mark.parametrize("engine", ["duckdb", pytest.param("spark", marks=pytest.mark.spark)])
def test_the_processor_reads_jetstream_and_counts_each_event_once(
    broker: str, tmp_path: Path, engine: str
) -> None:
    faults = FaultRates(error=0.1, duplicate=0.05, late=0.05, junk=0.05)
    app = C360(overrides={"stream": {"poll_count": 500, "max_batch_events": 1200}})
    with running_simulator(seed=4, total=3000, faults=faults) as client:
        app.stream_ingest(str(client.base_url), broker=broker)
    where = {"landing": tmp_path / "state", "broker": broker, "lake": tmp_path / "lake",
             "warehouse": str(tmp_path / "c360.duckdb"), "engine": engine}  # fmt: skip
    report = app.stream_process(**where, once=True)
    assert len(report.batches) >= 3  # 3,000 messages a stream, at most 1,200 a batch
    board = app.stream_leaderboard(warehouse=where["warehouse"], limit=10_000).to_pylist()
    truth = _votes_served(4, 3000, faults)
    assert {r["song"]: r["total_votes"] for r in board} == truth
    # Started again (on Spark: without its own checkpoint, so every message is read again):
    # nothing is counted twice.
    if engine == "spark":
        import shutil

        shutil.rmtree(tmp_path / "state" / "_checkpoint" / "spark")
    assert app.stream_process(**where, once=True).counted == 0
    board = app.stream_leaderboard(warehouse=where["warehouse"], limit=10_000).to_pylist()
    assert {r["song"]: r["total_votes"] for r in board} == truth
    status = app.stream_status(landing=where["landing"], broker=broker)
    assert {s: v["lag"] for s, v in status["streams"].items()} == {"votes": 0, "events": 0}
    assert status["processor"]["quarantined"] > 0


def test_a_processor_whose_broker_is_away_keeps_trying_and_once_says_so(tmp_path: Path) -> None:
    away = "nats://127.0.0.1:1"
    where = {"landing": tmp_path / "state", "broker": away, "lake": tmp_path / "lake",
             "warehouse": str(tmp_path / "c360.duckdb")}  # fmt: skip
    report = C360().stream_process(**where, trigger_s=0.2, max_seconds=1.0)  # not stopped
    assert report.batches == []
    with pytest.raises(ConnectionError, match=r"^cannot reach NATS at nats://127\.0\.0\.1:1: "):
        C360().stream_process(**where, once=True)
