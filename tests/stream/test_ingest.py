"""Ingestion from a real simulator: everything served is landed once, in order, whatever fails
on the way (answers of 5xx, a source that is down, a landing zone that cannot be written)."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from _support import free_port
from c360.app import C360, FaultRates
from c360.console import NullReporter
from c360.errors import ConfigError, InputError
from c360.generate.stream_events import EventSource
from c360.stream.landing import LandingZone
from stream.conftest import START, running_simulator


class Said(NullReporter):
    """A reporter that keeps what it was told."""

    def __init__(self) -> None:
        self.warnings: list[str] = []
        self.infos: list[str] = []

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def info(self, message: str) -> None:
        self.infos.append(message)


def _landed(zone: LandingZone, stream: str) -> list[Any]:
    events: list[Any] = []
    for landed in zone.files(stream):
        lines = landed.path.read_text(encoding="utf-8").splitlines()
        assert len(lines) == landed.events
        events += [json.loads(line) for line in lines]
    return events


def test_everything_served_is_landed_once_in_order_through_injected_errors(
    tmp_path: Path,
) -> None:
    faults = FaultRates(error=0.3, duplicate=0.05, late=0.05, junk=0.05)
    zone = LandingZone(tmp_path / "landing")
    said = Said()
    with running_simulator(seed=3, total=2500, faults=faults) as client:
        report = C360(reporter=said).stream_ingest(str(client.base_url), landing=zone.root)
    assert report.events == {"votes": 2500, "events": 2500}
    assert sorted(report.done) == ["events", "votes"]
    # About 30 % of the polls answered 5xx: retried, and said once per outage.
    assert report.retries > 0 and set(report.errors) <= {"HTTP 500", "HTTP 503"}
    assert said.warnings and all("retrying" in w for w in said.warnings)
    for stream in ("votes", "events"):
        source = EventSource(stream, seed=3, rate=0.0, start=START, faults=faults)
        assert _landed(zone, stream) == [source.at(p).event for p in range(2500)]
        assert zone.next_position(stream) == 2500


def test_an_ingester_resumes_after_the_last_landed_file(tmp_path: Path) -> None:
    zone = LandingZone(tmp_path / "landing")
    with running_simulator(seed=4, total=3000) as client:
        app = C360(overrides={"stream": {"poll_count": 10}})
        stop = threading.Event()

        def stop_after_some() -> None:  # a stopped ingester, part of the way through
            while len(zone.files("votes")) < 5:
                time.sleep(0.001)
            stop.set()

        threading.Thread(target=stop_after_some).start()
        first = app.stream_ingest(str(client.base_url), landing=zone.root, stop=stop)
        assert 0 < first.events["votes"] < 3000
        second = app.stream_ingest(str(client.base_url), landing=zone.root)
    assert first.events["votes"] + second.events["votes"] == 3000
    source = EventSource("votes", seed=4, rate=0.0, start=START, faults=FaultRates())
    assert _landed(zone, "votes") == [source.at(p).event for p in range(3000)]


def test_a_source_that_is_down_is_retried_and_said_once(tmp_path: Path) -> None:
    said = Said()
    url = f"http://127.0.0.1:{free_port()}"
    report = C360(reporter=said).stream_ingest(url, landing=tmp_path / "l", max_seconds=1.0)
    assert report.events == {"votes": 0, "events": 0}
    assert report.errors["connection"] >= 2
    assert len(said.warnings) == 1
    assert said.warnings[0].startswith(f"cannot reach {url}/votes: ")


def test_a_source_that_comes_back_is_said_and_nothing_is_lost(tmp_path: Path) -> None:
    """The source is down when the ingester starts, then comes up on the same port."""
    port = free_port()
    said = Said()
    zone = LandingZone(tmp_path / "landing")
    stop = threading.Event()
    result: dict[str, Any] = {}

    def ingest() -> None:
        result["report"] = C360(reporter=said).stream_ingest(
            f"http://127.0.0.1:{port}", landing=zone.root, stop=stop
        )

    thread = threading.Thread(target=ingest)
    thread.start()
    time.sleep(0.5)
    with running_simulator(seed=5, total=500, port=port):
        thread.join(timeout=30)
    stop.set()
    assert result["report"].events == {"votes": 500, "events": 500}
    assert any(info.startswith("the source answers again (connection for ") for info in said.infos)


def test_a_landing_zone_that_cannot_be_written_is_retried_and_nothing_is_lost(
    tmp_path: Path,
) -> None:
    zone = LandingZone(tmp_path / "landing")
    zone.root.mkdir()
    blocker = zone.root / "votes"
    blocker.write_text("a file where the votes folder should be")  # every write fails
    said = Said()

    def unblock() -> None:
        time.sleep(0.6)
        blocker.unlink()

    with running_simulator(seed=6, total=800) as client:
        threading.Thread(target=unblock).start()
        report = C360(reporter=said).stream_ingest(str(client.base_url), landing=zone.root)
    assert report.errors["landing zone"] >= 2
    assert said.warnings[0].startswith(f"cannot land in {zone.root}: ")
    source = EventSource("votes", seed=6, rate=0.0, start=START, faults=FaultRates())
    assert _landed(zone, "votes") == [source.at(p).event for p in range(800)]


@pytest.mark.parametrize(
    ("source", "says"),
    [
        ("127.0.0.1:8361", "--source '127.0.0.1:8361' is not an http(s) URL"),
        ("ftp://127.0.0.1:8361", "--source 'ftp://127.0.0.1:8361' is not an http(s) URL"),
    ],
)
def test_a_source_that_is_not_an_http_url_is_a_config_error(
    tmp_path: Path, source: str, says: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        C360().stream_ingest(source, landing=tmp_path / "l")
    assert str(caught.value).startswith(says)


def test_a_source_that_answers_4xx_stops_with_one_line(tmp_path: Path) -> None:
    with running_simulator(seed=1, total=10) as client:
        url = f"{client.base_url}/nothing-here"
        with pytest.raises(InputError) as caught:
            C360().stream_ingest(url, landing=tmp_path / "l")
    message = str(caught.value)
    assert message.startswith(f"{url}/votes answered HTTP 404") and message.endswith(
        "check --source"
    )
    assert "\n" not in message
