"""``c360 serve`` as a user runs it: a real uvicorn server on loopback, keys from the
environment, and the loopback rule."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from c360.shells.api.security import key_hash

C360 = str(Path(sys.executable).with_name("c360"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def _serving(
    *args: str,
    env: dict[str, str] | None = None,
    logs: list[str] | None = None,
    pid: list[int] | None = None,
) -> Iterator[str]:
    port = _free_port()
    process = subprocess.Popen(
        [C360, "serve", "--port", str(port), *args],
        env={**os.environ, "C360_API_KEYS": "", **(env or {})},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    if pid is not None:
        pid.append(process.pid)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                if process.poll() is not None:
                    raise AssertionError(process.communicate()[1]) from None
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        out, err = process.communicate(timeout=20)
        if logs is not None:
            logs.append(out + err)


def test_serve_answers_over_http_with_keys_from_the_environment(warehouse: Path) -> None:
    with _serving("--warehouse", str(warehouse), env={"C360_API_KEYS": "alpha,beta"}) as base:
        ready = httpx.get(f"{base}/readyz").json()
        assert ready["ready"] is True
        url = f"{base}/api/v1/distributions/segment"
        assert httpx.get(url).status_code == 401
        answer = httpx.get(url, headers={"X-API-Key": "beta"})
        assert answer.status_code == 200 and answer.json()["served"]["run_id"] == ready["run_id"]


def test_keys_never_reach_the_logs(warehouse: Path) -> None:
    logs: list[str] = []
    secret = "s3cret-key-for-the-log-test"
    with _serving(
        "--warehouse", str(warehouse), "--access-log", env={"C360_API_KEYS": secret}, logs=logs
    ) as base:
        for key in (secret, secret + "-wrong"):
            httpx.get(f"{base}/api/v1/runs", headers={"X-API-Key": key})
    (text,) = logs
    assert "GET /api/v1/runs" in text  # the access log is on
    assert secret not in text


def test_serve_reads_hashed_keys_from_a_file(warehouse: Path, tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    keys.write_text(key_hash("gamma") + "\n", encoding="utf-8")
    with _serving("--warehouse", str(warehouse), "--api-keys-file", str(keys)) as base:
        url = f"{base}/api/v1/runs"
        assert httpx.get(url, headers={"X-API-Key": "gamma"}).status_code == 200
        assert httpx.get(url, headers={"X-API-Key": "alpha"}).status_code == 401


def test_serving_without_keys_is_only_for_loopback(warehouse: Path) -> None:
    done = subprocess.run(
        [C360, "serve", "--warehouse", str(warehouse), "--host", "0.0.0.0", "--port", "1"],
        env={**os.environ, "C360_API_KEYS": ""}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1
    assert (
        done.stderr.strip()
        .splitlines()[-1]
        .startswith("error: serving on 0.0.0.0 needs API keys: set C360_API_KEYS")
    )


@pytest.mark.parametrize("missing", ["nowhere.duckdb"])
def test_a_missing_warehouse_is_not_ready_but_the_server_runs(tmp_path: Path, missing: str) -> None:
    with _serving("--warehouse", str(tmp_path / missing)) as base:
        ready = httpx.get(f"{base}/readyz")
        assert ready.status_code == 503 and ready.json()["ready"] is False
        assert "does not exist" in ready.json()["error"]
        answer = httpx.get(f"{base}/api/v1/runs")
        assert answer.status_code == 503 and "does not exist" in answer.json()["error"]


def _workers(pid: int) -> set[int]:
    """The live worker processes of the server ``pid``."""
    found = set()
    for child in psutil.Process(pid).children():
        try:
            if "spawn_main" in " ".join(child.cmdline()):
                found.add(child.pid)
        except (psutil.ZombieProcess, psutil.NoSuchProcess):  # one just killed
            continue
    return found


def _wait(condition: Callable[[], bool], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.2)


def test_workers_answer_alike_and_a_dead_worker_is_replaced(
    warehouse: Path, sql: Callable[..., list[dict[str, Any]]]
) -> None:
    (row,) = sql("SELECT contract FROM customer_360 ORDER BY contract LIMIT 1")
    pid: list[int] = []
    with _serving("--warehouse", str(warehouse), "--workers", "2", pid=pid) as base:
        _wait(lambda: httpx.get(f"{base}/readyz").status_code == 200)
        workers = _workers(pid[0])
        assert len(workers) == 2
        url = f"{base}/api/v1/customers/{row['contract']}"
        bodies = {httpx.get(url).text for _ in range(40)}  # new connections: both workers answer
        assert len(bodies) == 1 and row["contract"] in bodies.pop()
        os.kill(min(workers), signal.SIGKILL)
        _wait(lambda: len(_workers(pid[0]) - {min(workers)}) == 2)
        _wait(lambda: httpx.get(f"{base}/readyz").status_code == 200)
        assert all(httpx.get(url).status_code == 200 for _ in range(20))
