"""The ledger: which input files the lake has ingested (SPEC 4, "State"), and the atomic writes
of small state files.

The ledger is one small Parquet file in the lake, replaced atomically after every ingested file, so
a crash loses at most the file being ingested, which the next run ingests again (its bronze output
is replaced, never appended).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from c360.errors import InputError

STATE_SCHEMA = pa.schema(
    [
        ("source", pa.string()),
        ("name", pa.string()),
        ("path", pa.string()),
        ("file_date", pa.date32()),
        ("size", pa.int64()),
        ("mtime_ns", pa.int64()),
        ("checksum", pa.string()),
        ("rows_read", pa.int64()),
        ("rows_accepted", pa.int64()),
        ("rows_quarantined", pa.int64()),
        ("bronze_path", pa.string()),
        ("rules_hash", pa.string()),
        ("run_id", pa.string()),
        ("ingested_at", pa.timestamp("us", tz="UTC")),
    ]
)


@dataclass(frozen=True)
class FileRecord:
    """One ingested input file."""

    source: str  # "content" or "search"
    name: str
    path: str
    file_date: date
    size: int
    mtime_ns: int
    checksum: str
    rows_read: int
    rows_accepted: int
    rows_quarantined: int
    bronze_path: str
    #: Fingerprint of the validation settings the file was ingested with.
    rules_hash: str
    run_id: str
    ingested_at: datetime


#: Values for columns that state files written by older versions lack.
DEFAULTS: dict[str, object] = {"rules_hash": ""}


class Ledger:
    """The set of ingested files, keyed by (source, name)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.records: dict[tuple[str, str], FileRecord] = {}
        if path.exists():
            names = [f.name for f in fields(FileRecord)]
            try:
                rows = pq.read_table(path).to_pylist()
                for row in rows:
                    # Columns added in later versions read as their defaults.
                    values = {k: row.get(k, DEFAULTS.get(k)) for k in names}
                    record = FileRecord(**values)
                    self.records[(record.source, record.name)] = record
            except (OSError, ValueError, KeyError, TypeError) as exc:
                raise InputError(
                    f"ingestion state {path} is unreadable ({exc}); delete it to re-ingest "
                    "every file"
                ) from exc

    def get(self, source: str, name: str) -> FileRecord | None:
        return self.records.get((source, name))

    def put(self, record: FileRecord) -> None:
        """Record a file and persist the whole state atomically."""
        self.records[(record.source, record.name)] = record
        self.save()

    def save(self) -> None:
        write_atomic(self.table(), self.path)

    def table(self) -> pa.Table:
        ordered = sorted(self.records.values(), key=lambda r: (r.source, r.file_date, r.name))
        return pa.Table.from_pylist([asdict(r) for r in ordered], schema=STATE_SCHEMA)


def write_atomic(table: pa.Table, path: Path) -> Path:
    """Write a small Arrow table to ``path`` as Parquet: temp file + rename, never half-written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    pq.write_table(table, tmp)
    tmp.replace(path)
    return path


def digest(*parts: object) -> str:
    """A short, stable fingerprint of JSON-able values (versions of state)."""
    payload = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def read_json_state(path: Path) -> dict[str, Any]:
    """A small JSON state document, or an empty one when it does not exist yet."""
    if not path.exists():
        return {}
    try:
        loaded = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise InputError(f"state {path} is unreadable ({exc}); delete it to rebuild") from exc
    if not isinstance(loaded, dict):
        raise InputError(f"state {path} is not a JSON object; delete it to rebuild")
    return loaded


def write_json_atomic(document: Mapping[str, Any], path: Path) -> Path:
    """Write a JSON state document: temp file + rename, never half-written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(document, indent=1, sort_keys=True))
    tmp.replace(path)
    return path
