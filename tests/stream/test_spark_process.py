"""The Spark Structured Streaming processor: the same live tables as the DuckDB processor from
the same landed files, and each event counted once across Spark's replays and restarts."""

from __future__ import annotations

import json
import os
import random
import shutil
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
from c360.generate.stream_events import EventSource, FaultRates
from c360.stream.landing import LandingZone
from c360.stream.state import read_status

pytestmark = pytest.mark.spark

START = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=20)
ALL_FAULTS = FaultRates(error=0.0, duplicate=0.05, late=0.1, junk=0.05)


def _land_served(zone: LandingZone, stream: str, positions: range, per_file: int) -> None:
    source = EventSource(stream, seed=3, rate=20.0, start=START, faults=ALL_FAULTS)
    for first in range(positions.start, positions.stop, per_file):
        last = min(first + per_file, positions.stop)
        zone.write(stream, first, [source.at(p).event for p in range(first, last)])


def _land_raw(zone: LandingZone, stream: str, first: int, lines: list[str]) -> None:
    path = zone.path(stream, first, first + len(lines))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def _hostile_votes() -> list[str]:
    ts = (START + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    vote = {"id": "h0", "user_id": "u", "song": "Song A", "vote": True, "timestamp": ts}

    def changed(n: int, **changes: Any) -> str:
        return json.dumps({**vote, "id": f"h{n}", **changes})

    return [
        changed(1),
        '{"id": "h2", "user_id": "u", "song": "Song B", "vote": true, "vote": true, '
        f'"timestamp": "{ts}"}}',  # a duplicated key: DuckDB's reading decides (D78)
        '{"id": "h3", "song": ',
        changed(4, timestamp=ts.replace("T", "t")),  # only one engine's parser took these
        changed(5, timestamp=" " + ts),
        changed(6, timestamp=ts[:11] + ts[12:]),  # a one-digit hour
        changed(7, timestamp=ts.replace("Z", "+00:00")),
        changed(8, timestamp=ts[:19] + "Z"),
        changed(9, vote=1),
        changed(10, song=["x"]),
        changed(11, user_id=None),
        changed(12, id=12),
        "[1, 2]",
        "   ",
        "\u00a0",  # white space alone, as blank as "   "
        changed(13, song="Ünïcödé ♫"),
        changed(1),  # a repeat inside the batch
    ]


def _process(tmp_path: Path, name: str, landing: Path, engine: str, **options: Any) -> C360:
    app = C360(overrides={"engine": {"threads": 2, "spark_shuffle_partitions": 2}})
    app.stream_process(
        landing=landing, lake=tmp_path / f"lake_{name}", warehouse=str(tmp_path / f"{name}.duckdb"),
        once=True, engine=engine, **options,
    )  # fmt: skip
    return app


def _tables(tmp_path: Path, name: str) -> dict[str, list[dict[str, Any]]]:
    gold = tmp_path / f"lake_{name}" / "gold"
    out = {}
    for table in ("live_leaderboard", "live_usage"):
        out[table] = pq.read_table(gold / f"{table}.parquet").to_pylist()
    quarantine = pq.read_table(gold / "live_quarantine.parquet").to_pylist()
    out["live_quarantine"] = sorted(
        [{k: v for k, v in row.items() if k != "batch_id"} for row in quarantine],
        key=lambda r: (r["stream"], r["file"], r["line_no"]),
    )
    return out


def test_spark_and_duckdb_make_the_same_live_tables_from_the_same_landed_files(
    tmp_path: Path,
) -> None:
    zone = LandingZone(tmp_path / "landing")
    _land_served(zone, "votes", range(3000), per_file=400)
    _land_served(zone, "events", range(2000), per_file=500)
    _land_raw(zone, "votes", 3000, _hostile_votes())
    copy = tmp_path / "landing_duckdb"
    shutil.copytree(zone.root, copy)

    _process(tmp_path, "spark", zone.root, "spark")
    _process(tmp_path, "duckdb", copy, "duckdb")
    spark, duckdb = _tables(tmp_path, "spark"), _tables(tmp_path, "duckdb")
    assert spark["live_leaderboard"] == duckdb["live_leaderboard"]
    assert spark["live_usage"] == duckdb["live_usage"]
    assert spark["live_quarantine"] == duckdb["live_quarantine"]
    # Real values: every fault kind was met, and the hostile file's verdicts are these.
    reasons = Counter(r["reason"] for r in spark["live_quarantine"])
    assert {"malformed_json", "not_object", "missing_id", "bad_song", "vote_not_true",
            "bad_timestamp", "future_timestamp", "too_old", "bad_contract", "bad_duration",
            "bad_app_name"} <= set(reasons)  # fmt: skip
    hostile = {r["line_no"]: r["reason"] for r in spark["live_quarantine"]
               if r["file"] == "000000003000-000000003017.jsonl"}  # fmt: skip
    assert hostile == {3: "malformed_json", 4: "bad_timestamp", 5: "bad_timestamp",
                       6: "bad_timestamp", 9: "vote_not_true", 10: "bad_song", 11: "bad_user",
                       12: "missing_id", 13: "not_object"}  # fmt: skip
    board = {r["song"]: r["total_votes"] for r in spark["live_leaderboard"]}
    assert board["Ünïcödé ♫"] == 1
    assert sum(board.values()) == sum(r["total_votes"] for r in duckdb["live_leaderboard"])


def test_a_file_counted_before_is_not_counted_again_by_a_replay_or_another_engine(
    tmp_path: Path,
) -> None:
    zone = LandingZone(tmp_path / "landing")
    _land_served(zone, "votes", range(1000), per_file=250)
    app = _process(tmp_path, "one", zone.root, "duckdb")  # DuckDB counts the first files
    board = app.stream_leaderboard(warehouse=str(tmp_path / "one.duckdb"), limit=100)
    first = {r["song"]: r["total_votes"] for r in board.to_pylist()}
    _land_served(zone, "votes", range(1000, 1500), per_file=250)
    # Spark's own checkpoint is new: it takes every file; the state skips those counted.
    _process(tmp_path, "one", zone.root, "spark")
    # Spark's checkpoint lost (a replay of everything): nothing is counted twice.
    shutil.rmtree(zone.checkpoint / "spark")
    _process(tmp_path, "one", zone.root, "spark")
    board = _tables(tmp_path, "one")["live_leaderboard"]

    truth = _truth(range(1500))
    assert {r["song"]: r["total_votes"] for r in board} == dict(truth)
    assert sum(truth.values()) > sum(first.values()) > 0
    status = C360().stream_status(landing=zone.root)
    assert status["streams"]["votes"]["lag"] == 0


def _truth(positions: range) -> Counter[str]:
    """Votes per song of what was served at ``positions``: junk left out, each id once."""
    source = EventSource("votes", seed=3, rate=20.0, start=START, faults=ALL_FAULTS)
    counted: dict[str, str] = {}
    for position in positions:
        served = source.at(position)
        if not (served.fault or "").startswith("junk"):
            counted.setdefault(served.event["id"], served.event["song"])
    return Counter(counted.values())


@pytest.mark.slow
def test_a_spark_processor_killed_at_random_points_counts_every_vote_exactly_once(
    tmp_path: Path,
) -> None:
    zone = LandingZone(tmp_path / "landing")
    where = ["--landing", zone.root, "--warehouse", tmp_path / "c360.duckdb",
             "--lake", tmp_path / "lake"]  # fmt: skip
    command = [*CLI, "stream", "process", *map(str, where),
               "--trigger", "200ms", "--engine", "spark"]  # fmt: skip
    env = {**os.environ, "C360__STREAM__MAX_BATCH_EVENTS": "1000",
           "C360__STREAM__POLL_COUNT": "250", "C360__ENGINE__THREADS": "2"}  # fmt: skip
    rng = random.Random(9)
    position, kills, committed = 0, 0, 0
    while kills < 4:
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)  # fmt: skip
        # Killed at a random point once it has committed a batch of its own (Spark takes
        # seconds to start), while files keep landing.
        kill_at: float | None = None
        deadline = time.monotonic() + 120
        while kill_at is None or time.monotonic() < kill_at:
            assert time.monotonic() < deadline, "the processor committed nothing in 2 minutes"
            if position < 20_000:
                _land_served(zone, "votes", range(position, position + 250), per_file=250)
                position += 250
            time.sleep(0.1)
            if kill_at is None and _batches(zone) > committed:
                kill_at = time.monotonic() + rng.uniform(0.0, 3.0)
        process.send_signal(signal.SIGKILL)
        process.wait()
        kills += 1
        committed = _batches(zone)
    _process(tmp_path, "last", zone.root, "spark")  # a last processor takes what is left
    last = _tables(tmp_path, "last")["live_leaderboard"]
    assert {r["song"]: r["total_votes"] for r in last} == dict(_truth(range(position)))
    status = C360().stream_status(landing=zone.root)
    assert status["streams"]["votes"]["lag"] == 0
    assert status["processor"]["batches"] > kills


def _batches(zone: LandingZone) -> int:
    """Batches committed so far, as the processor's status says."""
    status = read_status(zone)
    return int(status["batches"]) if status else 0
