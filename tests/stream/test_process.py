"""The micro-batch processor: landed lines → live tables, each event counted exactly once."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from _support import CLI
from c360.app import C360
from c360.stream.landing import LandingZone

NOW = datetime.now(UTC).replace(microsecond=0)


def _ts(seconds: float = 0.0) -> str:
    return (NOW + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _vote(n: int, song: str, *, seconds: float = 0.0, **changes: Any) -> dict[str, Any]:
    vote = {"id": f"v{n}", "user_id": f"u{n % 7}", "song": song, "vote": True,
            "timestamp": _ts(seconds)}  # fmt: skip
    vote.update(changes)
    return vote


def _land_raw(zone: LandingZone, stream: str, first: int, lines: list[str]) -> None:
    """Land lines as they are (JSON or not): a file the ingester would never write, which the
    processor must still take."""
    path = zone.path(stream, first, first + len(lines))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def _app(tmp_path: Path) -> tuple[C360, dict[str, Any]]:
    where = {
        "landing": tmp_path / "landing",
        "warehouse": str(tmp_path / "c360.duckdb"),
        "lake": tmp_path / "lake",
    }
    return C360(), where


def _board(app: C360, warehouse: str) -> dict[str, tuple[int, int, int]]:
    rows = app.stream_leaderboard(warehouse=warehouse, limit=1000).to_pylist()
    return {r["song"]: (r["total_votes"], r["votes_1m"], r["votes_10m"]) for r in rows}


def test_every_kind_of_bad_vote_is_quarantined_with_its_reason_and_nothing_else_is_lost(
    tmp_path: Path,
) -> None:
    app, where = _app(tmp_path)
    zone = LandingZone(where["landing"])
    good = [_vote(1, "A"), _vote(2, "A", seconds=-30), _vote(3, "B", seconds=-120)]
    bad = {
        "malformed_json": '{"id": "x1", "song": ',
        "not_object": json.dumps("junk"),
        "missing_id": json.dumps({k: v for k, v in _vote(10, "A").items() if k != "id"}),
        "bad_song": json.dumps(_vote(11, "")),
        "vote_not_true": json.dumps(_vote(12, "A", vote="yes")),
        "bad_timestamp": json.dumps(_vote(13, "A", timestamp="soon")),
        "future_timestamp": json.dumps(_vote(14, "A", seconds=2 * 86_400)),
        "too_old": json.dumps(_vote(15, "A", timestamp="1970-01-01T00:00:00.000000Z")),
        "bad_user": json.dumps(_vote(16, "A", user_id=42)),
    }
    lines = [json.dumps(v) for v in good] + list(bad.values()) + [json.dumps(good[0])]
    _land_raw(zone, "votes", 0, [*lines[:2], "  ", *lines[2:]])  # a blank line is no event
    report = app.stream_process(**where, once=True)
    assert (report.lines, report.counted) == (len(lines), 3)
    assert report.batches[0].duplicates == 1 and report.batches[0].quarantined == len(bad)
    assert _board(app, where["warehouse"]) == {"A": (2, 2, 2), "B": (1, 0, 1)}
    status = app.stream_status(landing=where["landing"])
    assert status["processor"]["quarantine_reasons"] == dict.fromkeys(sorted(bad), 1)
    landed = len(lines) + 1
    assert status["streams"]["votes"] == {"landed": landed, "processed": landed, "lag": 0,
                                          "files": 1}  # fmt: skip
    # Each rejected line is found by its file and line (the blank one counts as a line).
    row = app.read_table("live_batches", warehouse=where["warehouse"]).to_pylist()[-1]
    assert row["quarantined_total"] == len(bad)
    rejected = app.read_table("live_quarantine", warehouse=where["warehouse"]).to_pylist()
    assert [(r["line_no"], r["reason"]) for r in rejected] == [
        (line, reason) for line, reason in enumerate(bad, start=len(good) + 2)
    ]
    assert rejected[0]["raw"] == bad["malformed_json"]


def test_viewing_events_become_live_usage_by_the_batch_categories(tmp_path: Path) -> None:
    app, where = _app(tmp_path)
    zone = LandingZone(where["landing"])
    minute = NOW.replace(second=0)
    base = {"Contract": "HNH579912", "Mac": "0C96E62FC55C", "timestamp": minute.strftime(
        "%Y-%m-%dT%H:%M:%S.%fZ")}  # fmt: skip
    events = [
        {"id": "e1", "AppName": "KPLUS", "TotalDuration": 100, **base},
        {"id": "e2", "AppName": "CHANNEL", "TotalDuration": 20, **base},
        {"id": "e2", "AppName": "CHANNEL", "TotalDuration": 20, **base},  # a repeat
        {"id": "e3", "AppName": "VOD", "TotalDuration": -1, **base},  # bad_duration
        {"id": "e4", "AppName": "VOD", "TotalDuration": 5, **base, "Contract": "x"},
    ]
    zone.write("events", 0, events)
    app.stream_process(**where, once=True)
    usage = pq.read_table(where["lake"] / "gold" / "live_usage.parquet").to_pylist()
    assert usage == [{"category": "Truyen Hinh", "minute": minute.replace(tzinfo=None),
                      "total_duration": 120, "events": 2}]  # fmt: skip
    reasons = app.stream_status(landing=where["landing"])["processor"]["quarantine_reasons"]
    assert reasons == {"bad_contract": 1, "bad_duration": 1}


def test_a_repeat_in_a_later_batch_or_after_a_restart_is_not_counted_again(
    tmp_path: Path,
) -> None:
    app, where = _app(tmp_path)
    zone = LandingZone(where["landing"])
    zone.write("votes", 0, [_vote(1, "A"), _vote(2, "B")])
    app.stream_process(**where, once=True)
    zone.write("votes", 2, [_vote(1, "A"), _vote(3, "A")])  # v1 again, and a new one
    app.stream_process(**where, once=True)  # a new processor: state from the checkpoint
    assert _board(app, where["warehouse"]) == {"A": (2, 2, 2), "B": (1, 1, 1)}
    # Nothing new landed: nothing to do, nothing changes.
    assert app.stream_process(**where, once=True).batches == []
    assert _board(app, where["warehouse"]) == {"A": (2, 2, 2), "B": (1, 1, 1)}


def test_a_batch_takes_at_most_the_configured_events_and_the_rest_follows(
    tmp_path: Path,
) -> None:
    app = C360(overrides={"stream": {"max_batch_events": 3}})
    where = _app(tmp_path)[1]
    zone = LandingZone(where["landing"])
    for first in range(0, 10, 2):
        zone.write("votes", first, [_vote(first, "A"), _vote(first + 1, "B")])
    report = app.stream_process(**where, once=True)
    assert [b.lines for b in report.batches] == [2, 2, 2, 2, 2]
    assert _board(app, where["warehouse"]) == {"A": (5, 5, 5), "B": (5, 5, 5)}


def test_a_gap_in_the_landing_zone_waits_for_the_missing_file(tmp_path: Path) -> None:
    app, where = _app(tmp_path)
    zone = LandingZone(where["landing"])
    zone.write("votes", 0, [_vote(0, "A")])
    zone.write("votes", 2, [_vote(2, "A")])  # position 1 is not landed yet
    app.stream_process(**where, once=True)
    assert _board(app, where["warehouse"]) == {"A": (1, 1, 1)}
    zone.write("votes", 1, [_vote(1, "A")])
    app.stream_process(**where, once=True)
    assert _board(app, where["warehouse"]) == {"A": (3, 3, 3)}


# -- exactly once under kill -9 -------------------------------------------------------------


def _truth(files: list[list[dict[str, Any]]]) -> Counter[str]:
    counted: dict[str, str] = {}
    for events in files:
        for vote in events:
            if isinstance(vote, dict) and vote.get("vote") is True:
                counted.setdefault(vote["id"], vote["song"])
    return Counter(counted.values())


def _random_files(seed: int, files: int, per_file: int) -> list[list[dict[str, Any]]]:
    rng = random.Random(seed)
    out: list[list[dict[str, Any]]] = []
    n = 0
    for _ in range(files):
        events: list[dict[str, Any]] = []
        for _ in range(per_file):
            if n and rng.random() < 0.05:  # a repeat of an earlier vote, maybe files back
                events.append(dict(out[rng.randrange(len(out))][0] if out else events[0]))
            elif rng.random() < 0.03:
                events.append(_vote(n, "A", vote="no"))
            else:
                events.append(_vote(n, f"song {rng.randrange(20)}", seconds=-rng.random() * 900))
            n += 1
        out.append(events)
    return out


@pytest.mark.slow
def test_a_processor_killed_at_random_points_counts_every_vote_exactly_once(
    tmp_path: Path,
) -> None:
    app, where = _app(tmp_path)
    zone = LandingZone(where["landing"])
    files = _random_files(seed=11, files=60, per_file=500)
    command = [
        *CLI, "stream", "process",
        "--landing", str(where["landing"]), "--warehouse", where["warehouse"],
        "--lake", str(where["lake"]), "--trigger", "20ms",
    ]  # fmt: skip
    env = {**os.environ, "C360__STREAM__MAX_BATCH_EVENTS": "1500"}
    rng = random.Random(5)
    position, landed = 0, 0
    kills = 0
    while landed < len(files) or kills < 4:
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE)  # fmt: skip
        deadline = time.monotonic() + rng.uniform(1.5, 4.0)
        while time.monotonic() < deadline:  # land while it runs
            if landed < len(files):
                zone.write("votes", position, files[landed])
                position += len(files[landed])
                landed += 1
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait()
        kills += 1
    # A last processor takes what is left.
    app.stream_process(**where, once=True)
    board = _board(app, where["warehouse"])
    assert {song: total for song, (total, _, _) in board.items()} == dict(_truth(files))
    status = app.stream_status(landing=where["landing"])
    assert status["streams"]["votes"]["lag"] == 0
    # The killed processors did the work: the last one found little left.
    assert status["processor"]["batches"] > kills


def test_a_warehouse_away_delays_the_publish_and_loses_nothing(tmp_path: Path) -> None:
    app, where = _app(tmp_path)
    zone = LandingZone(where["landing"])
    zone.write("votes", 0, [_vote(1, "A"), _vote(2, "B"), _vote(3, "A")])
    away = {**where, "warehouse": "postgresql://root@127.0.0.1:1/test"}  # nothing listens
    report = app.stream_process(**away, once=True)  # counted, said, not stopped
    assert (report.counted, len(report.batches)) == (3, 1)
    assert not Path(where["warehouse"]).exists()
    # The next processor, with its warehouse back, publishes the batch before anything else.
    zone.write("votes", 3, [_vote(4, "B")])
    app.stream_process(**where, once=True)
    assert _board(app, where["warehouse"]) == {"A": (2, 2, 2), "B": (2, 2, 2)}


def test_ids_older_than_the_maximum_age_are_forgotten_and_their_repeats_still_not_counted(
    tmp_path: Path,
) -> None:
    app = C360(overrides={"stream": {"max_age_s": 600}})
    where = _app(tmp_path)[1]
    zone = LandingZone(where["landing"])
    zone.write("votes", 0, [_vote(1, "A", seconds=-1800), _vote(2, "B", seconds=-1700)])
    app.stream_process(**where, once=True)
    zone.write("votes", 2, [_vote(3, "A")])  # the clock moves 30 minutes on
    app.stream_process(**where, once=True)
    import duckdb

    state = duckdb.connect(str(where["landing"] / "_checkpoint" / "state.duckdb"), read_only=True)
    try:
        kept = state.execute("SELECT record_id FROM seen_votes ORDER BY 1").fetchall()
    finally:
        state.close()
    assert kept == [("v3",)]  # v1 and v2 are over 10 minutes behind the clock
    zone.write("votes", 3, [_vote(1, "A", seconds=-1800)])  # v1 again
    report = app.stream_process(**where, once=True)
    assert report.counted == 0 and report.batches[0].quarantined == 1
    assert {s: t for s, (t, _, _) in _board(app, where["warehouse"]).items()} == {"A": 2, "B": 1}
    reasons = app.stream_status(landing=where["landing"])["processor"]["quarantine_reasons"]
    assert reasons == {"too_old": 1}
