"""``c360 stream`` as a user types it: process, status, top, and bad flags in one line."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from c360.shells.cli import app
from c360.stream.landing import LandingZone
from shells.cli.conftest import WIDE


def _votes(first: int, songs: list[str]) -> list[object]:
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return [
        {"id": f"v{first + i}", "user_id": "u1", "song": song, "vote": True, "timestamp": stamp}
        for i, song in enumerate(songs)
    ]


@pytest.fixture
def processed(tmp_path: Path, cli: CliRunner) -> Path:
    """A landing zone with 5 votes (one junk), processed once into ./c360.duckdb."""
    zone = LandingZone(tmp_path / "landing")
    zone.write("votes", 0, [*_votes(0, ["A", "B", "A", "A"]), "junk"])
    zone.write("votes", 5, _votes(5, ["B"]))  # a sixth vote, landed but not yet processed
    later = zone.path("votes", 5, 6)
    later.rename(later.with_name(".later"))
    result = cli.invoke(app, ["stream", "process", "--landing", str(zone.root), "--once"], env=WIDE)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("1 batches, 5 events, 4 counted (")
    later.with_name(".later").rename(later)
    return zone.root


def test_status_shows_landed_processed_lag_and_the_quarantine(
    cli: CliRunner, processed: Path
) -> None:
    result = cli.invoke(app, ["stream", "status", "--landing", str(processed)], env=WIDE)
    assert result.exit_code == 0, result.output
    lines = [" ".join(line.split()) for line in result.stdout.splitlines()]
    assert "votes 6 5 1 2" in lines  # landed, processed, lag, files
    assert "events 0 0 0 0" in lines
    assert any(line.startswith("1 batches, 5 events: 4 counted, 0 repeats, 1 quarantined")
               for line in lines)  # fmt: skip
    assert "quarantined by reason: not_object 1" in lines
    as_json = cli.invoke(app, ["stream", "status", "--landing", str(processed), "--json"])
    state = json.loads(as_json.stdout)
    assert state["streams"]["votes"] == {"landed": 6, "processed": 5, "lag": 1, "files": 2}


def test_top_prints_the_leaderboard(cli: CliRunner, processed: Path) -> None:
    result = cli.invoke(app, ["stream", "top", "--once"], env=WIDE)
    assert result.exit_code == 0, result.output
    rows = [line.split() for line in result.stdout.splitlines() if line.strip()[:1].isdigit()]
    assert rows == [["1", "A", "3", "3", "3"], ["2", "B", "1", "1", "1"]]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["stream", "process", "--trigger", "soon"],
         "'soon': use seconds such as 2s, 500ms or 1.5"),
        (["stream", "process", "--trigger", "0s"], "'0s': between 10ms and 1 hour"),
        (["stream", "status", "--landing", "nowhere"],
         "error: no landing zone at nowhere; start `c360 stream ingest`"),
        (["stream", "ingest", "--source", "localhost:8361"],
         "error: --source 'localhost:8361' is not an http(s) URL (e.g. http://127.0.0.1:8361)"),
        (["stream", "top", "--once"], "error: warehouse c360.duckdb does not exist"),
    ],
)  # fmt: skip
def test_a_bad_flag_or_a_missing_input_is_one_line(
    cli: CliRunner, args: list[str], says: str
) -> None:
    result = cli.invoke(app, args, env=WIDE)
    assert result.exit_code != 0
    assert says in result.output
    assert "Traceback" not in result.output


@pytest.mark.nats
def test_process_and_status_read_jetstream_with_broker(tmp_path: Path, cli: CliRunner) -> None:
    import uuid

    from c360.stream.broker import JetStreamLanding

    url = f"nats://127.0.0.1:4222/t{uuid.uuid4().hex[:12]}"
    with JetStreamLanding(url) as broker:
        broker.write("votes", 0, [*_votes(0, ["A", "B", "A"]), "junk"])
        state = tmp_path / "state"
        try:
            result = cli.invoke(app, ["stream", "process", "--broker", url, "--landing",
                                      str(state), "--once"], env=WIDE)  # fmt: skip
            assert result.exit_code == 0, result.output
            assert result.stdout.startswith("1 batches, 4 events, 3 counted (")
            broker.write("votes", 4, _votes(4, ["B"]))  # published, not processed yet
            result = cli.invoke(app, ["stream", "status", "--broker", url, "--landing",
                                      str(state)], env=WIDE)  # fmt: skip
        finally:
            js = broker._connected()
            for stream in ("votes", "events"):
                broker._run(js.delete_stream(broker.stream_name(stream)))
    assert result.exit_code == 0, result.output
    lines = [" ".join(line.split()) for line in result.stdout.splitlines()]
    assert f"JetStream {url}" in lines
    assert "votes 5 4 1 0" in lines  # published, processed, lag, (no) files
