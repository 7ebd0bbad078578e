"""Helpers shared by the tests: raw content lines and daily files (import as ``_support``)."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

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
