"""Runs that meet damaged inputs, changed settings or failures: clear errors, honest records."""

from __future__ import annotations

import gzip
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from _support import TOLERANT, content_line, write_day
from c360.app import C360
from c360.config import load_config
from c360.errors import C360Error, InputError

DAY = date(2022, 4, 1)


def _run(tmp_path: Path, content: Path, **env: str) -> object:
    app = C360(
        config=load_config(env={f"C360__{k}": v for k, v in env.items()}, overrides=TOLERANT)
    )
    return app.run(content, warehouse=str(tmp_path / "w.duckdb"), lake=tmp_path / "lake")


def test_changing_validation_settings_re_ingests_every_file(tmp_path: Path) -> None:
    content = tmp_path / "in"
    write_day(content, DAY, [content_line(duration=100), content_line(duration=5000)])
    first = _run(tmp_path, content)
    assert (first.files_ingested, first.rows_quarantined) == (1, 0)  # type: ignore[attr-defined]
    second = _run(tmp_path, content, CONTENT__MAX_DURATION="3600")
    assert (second.files_ingested, second.rows_quarantined) == (1, 1)  # type: ignore[attr-defined]
    third = _run(tmp_path, content, CONTENT__MAX_DURATION="3600")
    assert third.files_ingested == 0  # type: ignore[attr-defined]


def test_lone_carriage_return_keeps_physical_line_numbers(tmp_path: Path) -> None:
    content = tmp_path / "in"
    content.mkdir()
    good = content_line().encode()
    (content / "20220401.json").write_bytes(good + b"\n" + b"junk\rmore junk\n" + good + b"\n")
    report = _run(tmp_path, content)
    assert (report.rows_read, report.rows_quarantined) == (3, 1)  # type: ignore[attr-defined]
    quarantine = pq.read_table(tmp_path / "lake" / "gold" / "quarantine_content.parquet")
    assert quarantine.select(["line_no", "reason", "raw"]).to_pylist() == [
        {"line_no": 2, "reason": "malformed_json", "raw": "junk\rmore junk"}
    ]


def test_truncated_gzip_stops_with_a_message_naming_the_file(tmp_path: Path) -> None:
    content = tmp_path / "in"
    content.mkdir()
    data = gzip.compress(("\n".join([content_line()] * 5000) + "\n").encode())
    (content / "20220401.json.gz").write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match=r"20220401\.json\.gz: the gzip stream is truncated"):
        _run(tmp_path, content)
    history = pq.read_table(tmp_path / "lake" / "_state" / "pipeline_runs.parquet").to_pylist()
    assert [(r["status"], r["error"][:30]) for r in history] == [
        ("failed", str(tmp_path / "in" / "20220401.json.gz")[:30])
    ]


def test_an_unreadable_state_file_is_a_clear_error(tmp_path: Path) -> None:
    content = tmp_path / "in"
    write_day(content, DAY, [content_line()])
    _run(tmp_path, content)
    (tmp_path / "lake" / "_state" / "ingested_files.parquet").write_bytes(b"not parquet")
    with pytest.raises(InputError, match="delete it to re-ingest"):
        _run(tmp_path, content)


def test_a_failed_publish_is_recorded_as_failed_and_raises_a_c360_error(tmp_path: Path) -> None:
    content = tmp_path / "in"
    write_day(content, DAY, [content_line()])
    (tmp_path / "w.duckdb").mkdir()  # a folder where the warehouse file should be
    with pytest.raises(C360Error):
        _run(tmp_path, content)
    history = pq.read_table(tmp_path / "lake" / "_state" / "pipeline_runs.parquet").to_pylist()
    assert [r["status"] for r in history] == ["failed"]
