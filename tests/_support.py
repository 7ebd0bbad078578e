"""Helpers shared by the tests: raw content lines and daily files (import as ``_support``)."""

from __future__ import annotations

import gzip
import json
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

REAL_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
#: The ``c360`` command as a child process runs it (this interpreter, this environment).
CLI = [sys.executable, "-m", "c360.shells.cli"]
#: Config overrides for runs over hand-made junk, whose reject rates are far above the real
#: data's: the data quality checks still run and are recorded, but do not stop the run.
TOLERANT = {"quality.allow_failures": True}


def content_line(
    contract: Any = "HNH579912",
    *,
    mac: Any = "0C96E62FC55C",
    duration: Any = 100,
    app: Any = "KPLUS",
    record_id: str | None = None,
    drop: Iterable[str] = (),
) -> str:
    """One raw content line in the Elasticsearch export format."""
    source = {"Contract": contract, "Mac": mac, "TotalDuration": duration, "AppName": app}
    for key in drop:
        source.pop(key, None)
    record: dict[str, Any] = {"_index": "history", "_type": "kplus", "_score": 0, "_source": source}
    if record_id is not None:
        record["_id"] = record_id
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def write_day(folder: Path, day: date, lines: Iterable[str], *, gz: bool = False) -> Path:
    """Write a daily content file (``YYYYMMDD.json`` or ``.json.gz``)."""
    folder.mkdir(parents=True, exist_ok=True)
    text = "".join(line + "\n" for line in lines)
    path = folder / (day.strftime("%Y%m%d") + (".json.gz" if gz else ".json"))
    if gz:
        path.write_bytes(gzip.compress(text.encode("utf-8")))
    else:
        path.write_text(text, encoding="utf-8")
    return path


def write_search_day(
    folder: Path, day: date, rows: list[tuple[str, str, str | None, str | None]]
) -> None:
    """(eventID, datetime, user_id, keyword) rows as a Spark-style day folder with two parts."""
    target = folder / day.strftime("%Y%m%d")
    target.mkdir(parents=True, exist_ok=True)
    half = max(1, len(rows) // 2)
    for i, chunk in enumerate((rows[:half], rows[half:])):
        if not chunk:
            continue
        table = pa.table(
            {
                "eventID": [r[0] for r in chunk],
                "datetime": [r[1] for r in chunk],
                "user_id": [r[2] for r in chunk],
                "keyword": [r[3] for r in chunk],
                "category": ["enter"] * len(chunk),
                "proxy_isp": ["vnpt"] * len(chunk),
                "platform": ["android"] * len(chunk),
                "networkType": ["wifi"] * len(chunk),
                "action": ["search"] * len(chunk),
                "userPlansMap": pa.array([[]] * len(chunk), pa.list_(pa.string())),
            }
        )
        pq.write_table(table, target / f"part-0000{i}-x.snappy.parquet")
    (target / "_SUCCESS").write_text("")
    (target / ".part-00000-x.snappy.parquet.crc").write_bytes(b"crc")


# -- hand-made content days with known answers ----------------------------------------------

OK, DUP, BLANK = "ok", "duplicate", "blank"

#: (line, outcome) per day; outcome is OK, DUP (a valid line whose `_id` was seen earlier), BLANK
#: or the quarantine reason.
DAY1: list[tuple[str, str]] = [
    (content_line("HNH000001", duration=100, app="KPLUS", record_id="a1"), OK),
    (content_line("HNH000002", duration=10, app="VOD", record_id="dup-in"), OK),
    ("", BLANK),
    (content_line("HNH000002", duration=999, app="VOD", record_id="dup-in"), DUP),
    (content_line("0", record_id="j1"), "bad_contract"),
    (content_line("113.182.209.48", record_id="j2"), "bad_contract"),
    ('{"_id":"m1","_source":{"Contract":"HNH1', "malformed_json"),
    (content_line("HNH000003", duration=50, app="RELAX", record_id="dup-x"), OK),
    ("   ", BLANK),
    (
        content_line(
            "HNH000001", duration=86_400, app="SPORT", mac="0c:96:e6:2f:c5:5c", record_id="a2"
        ),
        OK,
    ),
]
DAY2_GZ: list[tuple[str, str]] = [
    (content_line("", record_id="j3"), "bad_contract"),
    (content_line("hnh579912", record_id="j4"), "bad_contract"),
    (content_line("HNH000003", duration=7000, app="RELAX", record_id="dup-x"), DUP),
    (content_line("HNH000001", duration=-1, record_id="b1"), "bad_duration"),
    (content_line("HNH000001", duration=86_401, record_id="b2"), "bad_duration"),
    (content_line("HNH000001", duration="12", record_id="b3"), "bad_duration"),
    (content_line("HNH000001", duration=12.5, record_id="b4"), "bad_duration"),
    ("", BLANK),
    (content_line("HNH000001", duration=12.0, record_id="b5"), "bad_duration"),
    (content_line("HNH000001", duration=None, record_id="b6"), "bad_duration"),
    (content_line("HNH000001", drop=["TotalDuration"], record_id="b7"), "bad_duration"),
    (content_line("HNH000002", duration=0, app="CHILD", record_id="z1"), OK),
    ('{"_index":"history","_id":"s1","_score":0}', "missing_source"),
    ('{"_id":"s2","_source":[{"Contract":"HNH000001","TotalDuration":5}]}', "missing_source"),
]
DAY3: list[tuple[str, str]] = [
    (content_line("HNH000003", duration=300, app="RELAX", record_id="late"), OK),
    (content_line("HNH000002", duration=5, app="VOD", record_id="dup-in"), DUP),
    (content_line("HNH000004", duration=40, app="APP", record_id="o1"), OK),
    (content_line("HNH000001", duration=20, app="CHANNEL", mac="zz", record_id="a3"), OK),
    ('{"_id": "x9", "_source": {"Contract": "Hà Nội", "TotalDuration": 1,', "malformed_json"),
]
DAYS = {"20220401.json": DAY1, "20220402.json.gz": DAY2_GZ, "20220403.json": DAY3}


def write_known_days(folder: Path) -> None:
    """The three hand-made days (one gzipped) into ``folder``."""
    write_day(folder, date(2022, 4, 1), [line for line, _ in DAY1])
    write_day(folder, date(2022, 4, 2), [line for line, _ in DAY2_GZ], gz=True)
    write_day(folder, date(2022, 4, 3), [line for line, _ in DAY3])


def free_port() -> int:
    """A loopback port nothing listens on (yet)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving_in_thread(app: Any, *, port: int | None = None) -> Iterator[str]:
    """``app`` (ASGI) served by a real uvicorn on loopback in a thread; yields its base URL."""
    import threading
    import time

    import uvicorn

    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def wait_until_up(url: str, process: Any, *, seconds: float = 30) -> None:
    """Wait for ``url`` to answer while the child ``process`` that serves it is alive."""
    import time

    import httpx

    deadline = time.monotonic() + seconds
    while True:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            if process.poll() is not None or time.monotonic() >= deadline:
                raise AssertionError(f"{url} did not come up") from None
            time.sleep(0.1)
