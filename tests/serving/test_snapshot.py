"""The served snapshot (``c360.serving.snapshot``): one publish at a time, swapped in whole while
publishes go on, on every warehouse."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from c360.config import load_config
from c360.errors import UnavailableError
from c360.serving.service import Service
from c360.serving.snapshot import ServedWarehouse
from c360.sinks import create_sink
from c360.sinks.base import PUBLISH_TABLE, Sink
from sinks.conftest import Server

CONTRACTS = [f"HN{n:07d}" for n in range(50)]


def _generation(folder: Path, g: int) -> dict[str, Path]:
    """Publish number ``g``: every customer watched 1000 + g seconds; run ``run-g``."""
    folder.mkdir(parents=True, exist_ok=True)
    tables = {
        "customer_360": pa.table(
            {
                "contract": CONTRACTS,
                "total_duration": [1000 + g] * len(CONTRACTS),
                "customer_type": ["loyal"] * len(CONTRACTS),
                "user_id": pa.nulls(len(CONTRACTS), pa.string()),
            }
        ),
        "pipeline_runs": pa.table(
            {
                "run_id": [f"run-{g}"],
                "status": ["succeeded"],
                "started_at": [datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=g)],
            }
        ),
    }
    paths = {}
    for name, table in tables.items():
        paths[name] = folder / f"{name}.parquet"
        pq.write_table(table, paths[name])
    return paths


def _served(sink: Sink) -> Service:
    return Service(ServedWarehouse(sink, poll_s=0.01), load_config(env={}))


def _check_reads_while_publishing(sink: Sink, tmp_path: Path, publishes: int) -> set[str]:
    sink.publish(_generation(tmp_path / "g0", 0))
    seen: set[str] = set()
    problems: list[str] = []
    done = threading.Event()

    def read() -> None:
        last = -1
        while not done.is_set():
            answer = service.customer(CONTRACTS[7])
            g = int(str(answer.run_id).removeprefix("run-"))
            if answer.data["total_duration"] != 1000 + g:
                problems.append(f"{answer.run_id} served {answer.data['total_duration']}")
            if g < last:
                problems.append(f"went back from run-{last} to run-{g}")
            last = g
            seen.add(str(answer.run_id))

    with _served(sink) as service:
        readers = [threading.Thread(target=read) for _ in range(4)]
        for reader in readers:
            reader.start()
        try:
            for g in range(1, publishes + 1):
                sink.publish(_generation(tmp_path / f"g{g}", g))
            service.served.wait_for(_last_publish(sink), timeout_s=20)
        finally:
            done.set()
            for reader in readers:
                reader.join()
        final = service.customer(CONTRACTS[0])
    assert problems == []
    assert final.run_id == f"run-{publishes}" and final.data["total_duration"] == 1000 + publishes
    return seen


def _last_publish(sink: Sink) -> str:
    _, marker = sink.read_consistent([], {})
    assert marker is not None
    return str(marker["publish_id"])


def test_each_answer_comes_from_one_publish_while_publishes_go_on(tmp_path: Path) -> None:
    sink = create_sink(str(tmp_path / "w.duckdb"))
    seen = _check_reads_while_publishing(sink, tmp_path, publishes=25)
    assert len(seen) >= 3, seen  # the readers did see publishes come in


def test_each_answer_comes_from_one_publish_on_a_server_warehouse(
    server: Server, tmp_path: Path
) -> None:
    sink = create_sink(server.url)
    seen = _check_reads_while_publishing(sink, tmp_path, publishes=10)
    assert len(seen) >= 2, seen
    assert server.rows(f"SELECT state FROM {PUBLISH_TABLE}") == [("done",)]


def test_the_version_changes_with_every_publish_and_internal_tables_stay_hidden(
    tmp_path: Path,
) -> None:
    sink = create_sink(str(tmp_path / "w.duckdb"))
    assert sink.version() is None
    sink.publish(_generation(tmp_path / "a", 1))
    first = sink.version()
    read, marker = sink.read_consistent(
        ["customer_360", "absent"], {"customer_360": ["customer_type"]}
    )
    assert set(read) == {"customer_360", "count:customer_360"}
    assert read["count:customer_360"].to_pylist() == [{"customer_type": "loyal", "rows": 50}]
    assert marker is not None and marker["state"] == "done"
    sink.publish(_generation(tmp_path / "b", 2))
    assert sink.version() != first
    assert _last_publish(sink) != marker["publish_id"]
    assert PUBLISH_TABLE not in sink.tables()


def test_a_missing_warehouse_is_unavailable_then_served_once_published(tmp_path: Path) -> None:
    sink = create_sink(str(tmp_path / "w.duckdb"))
    with _served(sink) as service:
        status = service.status()
        assert not status.ready and "does not exist" in str(status.error)
        with pytest.raises(UnavailableError, match="does not exist"):
            service.customer(CONTRACTS[0])
        sink.publish(_generation(tmp_path / "a", 4))
        service.served.wait_for(_last_publish(sink))
        assert service.customer(CONTRACTS[0]).run_id == "run-4"
        assert service.status().ready and service.status().error is None


def test_a_failed_refresh_keeps_the_served_publish(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    sink = create_sink(str(path))
    sink.publish(_generation(tmp_path / "a", 1))
    with _served(sink) as service:
        path.unlink()
        path.write_bytes(b"not a database")
        assert not service.served.refresh()
        status = service.status()
        assert status.ready and status.run_id == "run-1" and status.error
        assert service.customer(CONTRACTS[0]).data["total_duration"] == 1001
