"""Helpers shared by the tests: raw content lines and daily files (import as ``_support``)."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

REAL_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"


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
