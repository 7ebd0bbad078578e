"""Exactly once, end to end, as a user runs it: ``c360 simulate`` with every fault on, ``c360
stream ingest`` and ``c360 stream process`` each killed with ``kill -9`` at random points and
started again; the live tables then equal what the simulator's dump says was served."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from _support import CLI, free_port, wait_until_up
from c360.app import C360
from c360.config import DEFAULT_APP_CATEGORIES, OTHER_CATEGORY
from c360.stream.landing import LandingZone
from c360.stream.state import read_status

TOTAL = 12_000


def _start(*args: object, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*CLI, *map(str, args)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), **(env or {})},
    )  # fmt: skip


def _truth(dump: Path) -> tuple[Counter[str], dict[str, tuple[int, int]]]:
    """Votes per song and (seconds, events) per category of what was served: each position
    once, junk left out, each id once."""
    served: dict[tuple[str, int], dict[str, object]] = {}
    for line in dump.read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        served.setdefault((entry["stream"], entry["position"]), entry)
    votes: dict[str, str] = {}
    views: dict[str, tuple[str, int]] = {}
    for (stream, _), entry in sorted(served.items()):
        fault, event = entry["fault"], entry["event"]
        if isinstance(fault, str) and fault.startswith("junk"):
            continue
        assert isinstance(event, dict)
        if stream == "votes":
            votes.setdefault(event["id"], event["song"])
        else:
            category = DEFAULT_APP_CATEGORIES.get(event["AppName"], OTHER_CATEGORY)
            views.setdefault(event["id"], (category, event["TotalDuration"]))
    usage: dict[str, tuple[int, int]] = {}
    for category, seconds in views.values():
        total, events = usage.get(category, (0, 0))
        usage[category] = (total + seconds, events + 1)
    return Counter(votes.values()), usage


#: Per engine: events served a second (the stream outlasts the kills of a processor that takes
#: seconds to start) and the processor kills wanted.
ENGINES = {"duckdb": (600, 4), "spark": (300, 3)}


def _committed(landing: Path) -> int:
    status = read_status(LandingZone(landing))
    return int(status["batches"]) if status else 0


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["duckdb", pytest.param("spark", marks=pytest.mark.spark)])
def test_kill_9_of_the_ingester_and_the_processor_loses_and_doubles_nothing(
    tmp_path: Path, engine: str
) -> None:
    port, dump = free_port(), tmp_path / "truth.jsonl"
    landing, lake, warehouse = tmp_path / "landing", tmp_path / "lake", tmp_path / "c360.duckdb"
    rate, processor_kills = ENGINES[engine]
    simulator = _start(
        "simulate", "--seed", 7, "--rate", rate, "--total", TOTAL, "--faults", "--dump", dump,
        "--port", port,
    )  # fmt: skip
    source = f"http://127.0.0.1:{port}"
    ingest = ["stream", "ingest", "--source", source, "--landing", landing]
    process = ["stream", "process", "--landing", landing, "--lake", lake,
               "--warehouse", warehouse, "--trigger", "100ms", "--engine", engine]  # fmt: skip
    small_polls = {"C360__STREAM__POLL_COUNT": "200", "C360__STREAM__MAX_BATCH_EVENTS": "2000",
                   "C360__ENGINE__THREADS": "2"}  # fmt: skip
    rng = random.Random(17)
    try:
        wait_until_up(f"{source}/healthz", simulator)
        running = {
            "ingest": _start(*ingest, env=small_polls),
            "process": _start(*process, env=small_polls),
        }
        kills: Counter[str] = Counter()
        since = 0  # batches committed when the running processor started
        deadline = time.monotonic() + 300
        while kills["process"] < processor_kills or kills["ingest"] < 2:
            assert time.monotonic() < deadline, f"kills so far: {dict(kills)}"
            time.sleep(rng.uniform(0.3, 1.5))
            victims = ["ingest"]
            # A processor is killed once it has committed a batch of its own (or the stream is
            # over), at a random point after.
            if _committed(landing) > since or running["ingest"].poll() == 0:
                victims.append("process")
            victim = rng.choice(victims)
            running[victim].send_signal(signal.SIGKILL)
            running[victim].wait()
            kills[victim] += 1
            if victim == "process":
                since = _committed(landing)
            args = ingest if victim == "ingest" else process
            running[victim] = _start(*args, env=small_polls)
        # The ingester ends once the source is done; the processor takes what is left.
        assert running["ingest"].wait(timeout=120) == 0, running["ingest"].stderr
        running["process"].send_signal(signal.SIGKILL)
        running["process"].wait()
        assert kills["ingest"] and kills["process"]
    finally:
        for child in [simulator, *locals().get("running", {}).values()]:
            if child.poll() is None:
                child.kill()
                child.wait()
    app = C360(overrides={"engine": {"threads": 2}})
    app.stream_process(
        landing=landing, lake=lake, warehouse=str(warehouse), once=True, engine=engine
    )

    votes, usage = _truth(dump)
    board = app.stream_leaderboard(warehouse=str(warehouse), limit=1000).to_pylist()
    assert {r["song"]: r["total_votes"] for r in board} == dict(votes)
    live_usage = pq.read_table(lake / "gold" / "live_usage.parquet").to_pylist()
    shown: dict[str, tuple[int, int]] = {}
    for row in live_usage:
        total, events = shown.get(row["category"], (0, 0))
        shown[row["category"]] = (total + row["total_duration"], events + row["events"])
    assert shown == usage
    status = app.stream_status(landing=landing)
    assert {s: v["lag"] for s, v in status["streams"].items()} == {"votes": 0, "events": 0}
    assert {s: v["landed"] for s, v in status["streams"].items()} == {
        "votes": TOTAL,
        "events": TOTAL,
    }
