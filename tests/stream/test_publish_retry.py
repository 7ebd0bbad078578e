"""A live publish that fails (the warehouse held by another process) is tried again by the
running processor, on either engine, until the warehouse takes it; nothing is lost meanwhile."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from c360.app import C360
from c360.stream.landing import LandingZone
from stream.test_spark_process import _land_served, _truth


@pytest.mark.parametrize("engine", ["duckdb", pytest.param("spark", marks=pytest.mark.spark)])
def test_a_warehouse_held_by_another_process_is_published_to_once_it_is_free(
    tmp_path: Path, engine: str
) -> None:
    warehouse = tmp_path / "c360.duckdb"
    holder = subprocess.Popen([sys.executable, "-c", (
        "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); print('held', flush=True); "
        "time.sleep(120)"), str(warehouse)], stdout=subprocess.PIPE)  # fmt: skip
    app = C360(overrides={"engine": {"threads": 2}})
    stop = threading.Event()
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"held\n"
        zone = LandingZone(tmp_path / "landing")
        _land_served(zone, "votes", range(500), per_file=250)
        worker = threading.Thread(target=app.stream_process, kwargs={
            "landing": zone.root, "lake": tmp_path / "lake", "warehouse": str(warehouse),
            "trigger_s": 0.3, "stop": stop, "engine": engine})  # fmt: skip
        worker.start()
        # Counted (the lake has it) while the warehouse is held: not published there.
        deadline = time.monotonic() + 90
        while not (tmp_path / "lake" / "gold" / "live_leaderboard.parquet").exists():
            assert time.monotonic() < deadline and worker.is_alive()
            time.sleep(0.2)
        holder.kill()
        holder.wait()
        # Nothing new lands: the processor publishes again on its own.
        while True:
            assert time.monotonic() < deadline and worker.is_alive(), "never published"
            try:
                board = app.stream_leaderboard(warehouse=str(warehouse), limit=1000)
                break
            except Exception:
                time.sleep(0.3)
    finally:
        stop.set()
        if holder.poll() is None:
            holder.kill()
        worker.join(timeout=60) if "worker" in locals() else None
    assert {r["song"]: r["total_votes"] for r in board.to_pylist()} == dict(_truth(range(500)))
