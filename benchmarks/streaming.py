"""Streaming: how many events/s the processor takes, and how soon a served vote is visible.

Two measures, each in its own processes (SPEC 8.2, issue targets: DuckDB ≥ 50,000 events/s
processed, Spark ≥ 10,000; p95 visibility ≤ 2 s at 5,000 events/s):

* **throughput**: ``--events`` votes and as many viewing events (2 % each of duplicates, late
  and junk events) landed beforehand, then one ``c360 stream process --once`` over them: events
  per second of its wall time (the process's start included) and of its batches alone; on
  DuckDB, then on Spark (``--engine spark``) over the same files.
* **visibility**: ``c360 simulate --rate R`` (votes), ``c360 stream ingest`` and ``c360 stream
  process --trigger T`` running together for ``--seconds``; each vote's latency is the time from
  the simulator serving it (its dump) to the publish of the batch that counted it (the
  processor's state), p50/p95/max; the end-to-end rate is the votes over the time from the
  first served to the last visible.

    python benchmarks/streaming.py                       # both, median of 3 throughput runs
    python benchmarks/streaming.py --events 200000 --seconds 20 --repeat 1
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import httpx

from _harness import machine, measure, median, write_section

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache" / "streaming"
BIN = Path(sys.executable).parent
C360 = str(BIN / "c360")


def land(folder: Path, events: int) -> None:
    """``events`` votes and as many viewing events in a landing zone, 1,000 to a file."""
    from c360.generate.stream_events import EventSource, FaultRates
    from c360.stream.landing import LandingZone

    zone = LandingZone(folder)
    faults = FaultRates(duplicate=0.02, late=0.02, junk=0.02)
    for stream in ("votes", "events"):
        source = EventSource(stream, seed=1, rate=5000, start=datetime.now(UTC), faults=faults)
        for first in range(0, events, 1000):
            zone.write(stream, first, [source.at(p).event for p in range(first, first + 1000)])


def throughput(events: int, repeat: int, engine: str = "duckdb") -> dict[str, object]:
    work = CACHE / "throughput"
    landing = work / "landing"
    if not (landing / "events").is_dir() or _landed(landing) != 2 * events:
        shutil.rmtree(work, ignore_errors=True)
        land(landing, events)
    walls, busy, rss = [], [], []
    for _ in range(repeat):
        shutil.rmtree(landing / "_checkpoint", ignore_errors=True)
        shutil.rmtree(work / "lake", ignore_errors=True)
        (work / "c360.duckdb").unlink(missing_ok=True)
        run = measure([
            C360, "stream", "process", "--landing", str(landing), "--lake", str(work / "lake"),
            "--warehouse", str(work / "c360.duckdb"), "--once", "--engine", engine,
        ])  # fmt: skip
        status = json.loads((landing / "_checkpoint" / "status.json").read_text())
        assert status["events"] == 2 * events, status
        walls.append(run.wall_s)
        busy.append(status["busy_seconds"])
        rss.append(run.peak_rss_mb)
    total = 2 * events
    return {
        "events": total, "wall_s": walls, "busy_s": busy, "peak_rss_mb": rss,
        "events_per_s": total / median(walls), "events_per_s_busy": total / median(busy),
    }  # fmt: skip


def _landed(landing: Path) -> int:
    """Events in a landing zone, from its file names."""
    from c360.stream.landing import LandingZone

    zone = LandingZone(landing)
    return sum(f.events for stream in ("votes", "events") for f in zone.files(stream))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def visibility(rate: int, seconds: float, trigger: str) -> dict[str, object]:
    work = CACHE / "visibility"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    port, dump, landing = _free_port(), work / "dump.jsonl", work / "landing"
    total = int(rate * seconds)
    source = f"http://127.0.0.1:{port}"
    children = [subprocess.Popen([
        C360, "simulate", "--seed", "7", "--rate", str(rate), "--total", str(total),
        "--dump", str(dump), "--port", str(port),
    ], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{source}/healthz", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise SystemExit("the simulator did not start") from None
                time.sleep(0.1)
        processor = subprocess.Popen([
            C360, "stream", "process", "--landing", str(landing), "--lake", str(work / "lake"),
            "--warehouse", str(work / "c360.duckdb"), "--trigger", trigger,
        ], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        children.append(processor)
        time.sleep(3)  # the processor's start-up (imports) is not a latency of the stream
        ingester = subprocess.run([
            C360, "stream", "ingest", "--source", source, "--landing", str(landing),
            "--stream", "votes",
        ], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        del ingester
        state = landing / "_checkpoint" / "status.json"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if state.exists() and json.loads(state.read_text())["offsets"].get("votes") == total:
                break
            time.sleep(0.2)
        time.sleep(1)  # the last publish
    finally:
        for child in children:
            child.send_signal(signal.SIGINT)
        for child in children:
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.kill()
    return _latencies(dump, landing / "_checkpoint" / "state.duckdb", total)


def _latencies(dump: Path, state: Path, total: int) -> dict[str, object]:
    con = duckdb.connect()
    con.execute(f"ATTACH '{state}' AS state (READ_ONLY)")
    row = con.execute(
        f"""
        WITH served AS (
            SELECT position, served_at FROM read_json('{dump}', format = 'newline_delimited',
                columns = {{'stream': 'VARCHAR', 'position': 'BIGINT', 'served_at': 'DOUBLE'}})
            WHERE stream = 'votes'
        ), visible AS (
            SELECT s.position, epoch(p.published_at) - s.served_at AS latency
            FROM served s
            JOIN state.batch_files f ON f.stream = 'votes' AND s.position >= f.first
                AND s.position < f.next
            JOIN state.published p USING (batch_id)
        )
        SELECT count(*), quantile_cont(latency, 0.5), quantile_cont(latency, 0.95),
            max(latency), (SELECT epoch(max(published_at)) FROM state.published)
                - (SELECT min(served_at) FROM served)
        FROM visible
        """
    ).fetchone()
    assert row is not None and row[0] == total, (row, total)
    return {
        "events": total, "p50_s": row[1], "p95_s": row[2], "max_s": row[3],
        "events_per_s": total / row[4] if row[4] else None,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=500_000, help="landed votes (and views)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rate", type=int, default=5000, help="votes/s served")
    parser.add_argument("--seconds", type=float, default=30.0, help="of serving at --rate")
    parser.add_argument("--trigger", default="500ms")
    args = parser.parse_args()
    os.environ.setdefault("PYTHONUNBUFFERED", "1")

    fast = throughput(args.events, args.repeat)
    print(f"throughput: {fast['events_per_s']:,.0f} events/s", flush=True)
    spark = throughput(args.events, args.repeat, engine="spark")
    print(f"throughput on Spark: {spark['events_per_s']:,.0f} events/s", flush=True)
    shutil.rmtree(CACHE / "throughput", ignore_errors=True)
    seen = visibility(args.rate, args.seconds, args.trigger)
    print(f"visibility: p50 {seen['p50_s']:.2f} s, p95 {seen['p95_s']:.2f} s", flush=True)
    info = machine()
    markdown = f"""
## Streaming (`benchmarks/streaming.py`)

Measured {info["date"]} on {info["cores"]} cores / {info["ram_gb"]} GB RAM, Python
{info["python"]}. Targets (issue): DuckDB ≥ 50,000 events/s processed, Spark ≥ 10,000; p95
visibility ≤ 2 s at 5,000 events/s.

| measure | figure |
|---|---|
| processed, `c360 stream process --once` over {fast["events"]:,} landed events (median of {args.repeat}, wall time incl. start-up) | {fast["events_per_s"]:,.0f} events/s |
| the same, the batches' own time | {fast["events_per_s_busy"]:,.0f} events/s |
| peak RSS of that process | {median(fast["peak_rss_mb"]):,.0f} MB |
| processed on Spark, `--engine spark` (`local[*]`, Structured Streaming, same files; median of {args.repeat}, wall time incl. Spark's start) | {spark["events_per_s"]:,.0f} events/s |
| the same, the batches' own time | {spark["events_per_s_busy"]:,.0f} events/s |
| peak RSS of that process (the JVM included) | {median(spark["peak_rss_mb"]):,.0f} MB |
| served → visible in `live_leaderboard`, p50 ({args.rate:,} votes/s for {args.seconds:g} s, trigger {args.trigger}) | {seen["p50_s"]:.2f} s |
| the same, p95 | {seen["p95_s"]:.2f} s |
| the same, max | {seen["max_s"]:.2f} s |
| end to end, first vote served → last vote visible | {seen["events_per_s"]:,.0f} votes/s |
"""  # noqa: E501
    results = {"throughput": fast, "throughput_spark": spark, "visibility": seen}
    write_section("streaming", markdown, results)
    print(markdown)


if __name__ == "__main__":
    main()
