"""Decoding raw content lines on DuckDB and validating them (SPEC 2.1), line by line."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from _support import content_line, write_day
from c360.config import ContentConfig
from c360.engines.duckdb import DuckDBEngine
from c360.io.files import SourceFile
from c360.rules.content import accepted_rows, line_counts, quarantined_rows, validate_content

DAY = date(2022, 4, 1)
CFG = ContentConfig()


def _bronze(engine: DuckDBEngine, path: Path) -> Any:
    """Decode and validate a file, write its bronze Parquet, read it back with line numbers."""
    stat = path.stat()
    decoded = engine.decode_content([SourceFile(path, DAY, stat.st_size, stat.st_mtime_ns)])
    validated = validate_content(
        decoded, contract_pattern=CFG.contract_pattern, max_duration=CFG.max_duration
    )
    bronze = path.with_name(path.name + ".parquet")
    engine.write_parquet(validated, bronze)
    return engine.read_parquet([bronze], line_numbers=True)


def _validate(engine: DuckDBEngine, path: Path) -> list[dict[str, Any]]:
    """Non-blank lines with their verdict, in line order."""
    bronze = _bronze(engine, path)
    rows = engine.to_pyarrow(bronze.filter(~bronze.blank).order_by("line_no")).to_pylist()
    return list(rows)


CASES: list[tuple[str, str, str | None]] = [
    # (case id, raw line, expected reason)
    ("valid", content_line(), None),
    ("valid-short-contract", content_line("HN123"), None),
    ("valid-long-contract", content_line("AGAAA0518"), None),
    ("valid-zero-duration", content_line(duration=0), None),
    ("valid-max-duration", content_line(duration=86_400), None),
    ("valid-unmapped-app", content_line(app="APP"), None),
    ("contract-zero", content_line("0"), "bad_contract"),
    ("contract-ip", content_line("113.182.209.48"), "bad_contract"),
    ("contract-empty", content_line(""), "bad_contract"),
    ("contract-lower", content_line("hnh579912"), "bad_contract"),
    ("contract-mixed-case", content_line("HNh579912"), "bad_contract"),
    ("contract-too-short", content_line("HN12"), "bad_contract"),
    ("contract-too-long", content_line("HN" + "1" * 15), "bad_contract"),
    ("contract-number", content_line(579912), "bad_contract"),
    ("contract-null", content_line(None), "bad_contract"),
    ("contract-missing", content_line(drop=["Contract"]), "bad_contract"),
    ("duration-negative", content_line(duration=-1), "bad_duration"),
    ("duration-over-a-day", content_line(duration=86_401), "bad_duration"),
    ("duration-huge", content_line(duration=10**30), "bad_duration"),
    ("duration-string", content_line(duration="12"), "bad_duration"),
    ("duration-float", content_line(duration=12.5), "bad_duration"),
    (
        "duration-float-integral",
        content_line().replace('"TotalDuration":100', '"TotalDuration":12.0'),
        "bad_duration",
    ),
    (
        "duration-exponent",
        content_line().replace('"TotalDuration":100', '"TotalDuration":1e3'),
        "bad_duration",
    ),
    ("duration-null", content_line(duration=None), "bad_duration"),
    ("duration-bool", content_line(duration=True), "bad_duration"),
    ("duration-missing", content_line(drop=["TotalDuration"]), "bad_duration"),
    ("app-empty", content_line(app=""), "bad_app_name"),
    ("app-null", content_line(app=None), "bad_app_name"),
    ("app-number", content_line(app=5), "bad_app_name"),
    ("app-missing", content_line(drop=["AppName"]), "bad_app_name"),
    ("malformed-truncated", content_line()[:60], "malformed_json"),
    ("malformed-text", "not json at all", "malformed_json"),
    ("malformed-trailing", content_line() + " trailing", "malformed_json"),
    ("source-missing", '{"_id":"x","_index":"history"}', "missing_source"),
    ("source-null", '{"_id":"x","_source":null}', "missing_source"),
    ("source-list", '{"_id":"x","_source":[1,2]}', "missing_source"),
    ("source-string", '{"_id":"x","_source":"HNH579912"}', "missing_source"),
    ("source-empty-object", '{"_id":"x","_source":{}}', "bad_contract"),
    ("top-level-array", "[1,2,3]", "missing_source"),
    ("first-reason-wins", content_line("0", duration=-5, app=""), "bad_contract"),
]


@pytest.mark.parametrize(("raw", "reason"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_line_gets_the_first_failing_reason(
    engine: DuckDBEngine, tmp_path: Path, raw: str, reason: str | None
) -> None:
    path = write_day(tmp_path, DAY, [raw])
    [row] = _validate(engine, path)
    assert row["reject_reason"] == reason
    assert row["raw"] == (raw if reason else None), "raw text is kept for quarantined rows only"


@pytest.mark.parametrize(
    ("mac", "expected"),
    [
        ("0C96E62FC55C", "0C96E62FC55C"),
        ("0c96e62fc55c", "0C96E62FC55C"),
        ("0c:96:e6:2f:c5:5c", "0C96E62FC55C"),
        ("0C-96-E6-2F-C5-5C", "0C96E62FC55C"),
        ("0C96E62FC55", None),  # 11 digits
        ("0C96E62FC55CA", None),  # 13 digits
        ("0C96E62FC55G", None),  # not hex
        ("", None),
        ("UNKNOWN", None),
        (None, None),
    ],
)
def test_mac_is_normalised_and_unusable_macs_keep_the_row(
    engine: DuckDBEngine, tmp_path: Path, mac: str | None, expected: str | None
) -> None:
    path = write_day(tmp_path, DAY, [content_line(mac=mac)])
    [row] = _validate(engine, path)
    assert row["reject_reason"] is None
    assert row["mac"] == expected


def test_fields_are_decoded_with_their_types(engine: DuckDBEngine, tmp_path: Path) -> None:
    line = content_line("SGJ048834", mac="AABBCCDDEEFF", duration=254, app="VOD", record_id="AX1")
    path = write_day(tmp_path, DAY, [line])
    [row] = _validate(engine, path)
    assert (row["record_id"], row["contract"], row["app_name"], row["duration"]) == (
        "AX1",
        "SGJ048834",
        "VOD",
        254,
    )
    assert (row["source_file"], row["file_date"], row["line_no"]) == ("20220401.json", DAY, 1)


def test_blank_lines_are_skipped_and_line_numbers_are_physical(
    engine: DuckDBEngine, tmp_path: Path
) -> None:
    lines = [content_line(record_id="a"), "", "   ", "broken {", content_line(record_id="b"), "\t "]
    path = write_day(tmp_path, DAY, lines)
    rows = _validate(engine, path)
    assert [(r["line_no"], r["record_id"], r["reject_reason"]) for r in rows] == [
        (1, "a", None),
        (4, None, "malformed_json"),
        (5, "b", None),
    ]


def test_gzip_files_decode_like_plain_ones(engine: DuckDBEngine, tmp_path: Path) -> None:
    lines = [content_line(record_id=str(i), duration=i) for i in range(50)] + ["junk"]
    plain = _validate(engine, write_day(tmp_path / "plain", DAY, lines))
    packed = _validate(engine, write_day(tmp_path / "gz", DAY, lines, gz=True))
    strip = [{k: v for k, v in r.items() if k != "source_file"} for r in plain]
    assert strip == [{k: v for k, v in r.items() if k != "source_file"} for r in packed]
    assert packed[0]["source_file"] == "20220401.json.gz"


def test_accepted_and_quarantined_split_every_row_once(
    engine: DuckDBEngine, tmp_path: Path
) -> None:
    lines = [content_line(), content_line("0"), "x", "", content_line(duration="1"), content_line()]
    bronze = _bronze(engine, write_day(tmp_path, DAY, lines))
    good = engine.to_pyarrow(accepted_rows(bronze).order_by("line_no")).to_pylist()
    bad = engine.to_pyarrow(quarantined_rows(bronze).order_by("line_no")).to_pylist()
    assert [r["line_no"] for r in good] == [1, 6]
    assert [(r["line_no"], r["reason"]) for r in bad] == [
        (2, "bad_contract"),
        (3, "malformed_json"),
        (5, "bad_duration"),
    ]
    assert bad[1]["raw"] == "x"
    [counts] = engine.to_pyarrow(line_counts(bronze)).to_pylist()
    assert counts == {
        "source_file": "20220401.json",
        "rows_read": 5,
        "rows_accepted": 2,
        "rows_quarantined": 3,
    }


def test_a_large_file_keeps_line_numbers_in_order(engine: DuckDBEngine, tmp_path: Path) -> None:
    # Big enough for DuckDB to split the scan across threads.
    lines = [content_line(record_id=f"id{i}", duration=i % 86_400) for i in range(200_000)]
    lines[123_456] = "broken"
    rows = _validate(engine, write_day(tmp_path, DAY, lines))
    assert len(rows) == 200_000
    assert all(r["record_id"] == f"id{r['line_no'] - 1}" for r in rows if r["record_id"])
    assert [r["line_no"] for r in rows if r["reject_reason"]] == [123_457]


def _decode_exact(engine: DuckDBEngine, path: Path) -> list[dict[str, Any]]:
    stat = path.stat()
    source = SourceFile(path, DAY, stat.st_size, stat.st_mtime_ns)
    decoded = engine.decode_content([source], plain_text=False)
    validated = validate_content(
        decoded, contract_pattern=CFG.contract_pattern, max_duration=CFG.max_duration
    )
    bronze = path.with_name(path.name + ".exact.parquet")
    engine.write_parquet(validated, bronze)
    table = engine.read_parquet([bronze], line_numbers=True)
    return engine.to_pyarrow(table.filter(~table.blank).order_by("line_no")).to_pylist()


@pytest.mark.parametrize("gz", [False, True])
def test_the_exact_reader_agrees_with_the_fast_one_on_clean_files(
    engine: DuckDBEngine, tmp_path: Path, gz: bool
) -> None:
    lines = [content_line(record_id=str(i), duration=i) for i in range(20)]
    lines[3], lines[7], lines[9] = "", "junk", "  "
    path = write_day(tmp_path, DAY, lines, gz=gz)
    assert _decode_exact(engine, path) == _validate(engine, path)


def test_undecodable_bytes_and_control_bytes_are_quarantined_line_by_line(
    engine: DuckDBEngine, tmp_path: Path
) -> None:
    good = content_line(record_id="ok").encode()
    data = b"\r\n".join([good, b'{"_id":"\xff\xfe"}', b"a\x01b\x01c", b"", good]) + b"\r\n"
    path = tmp_path / "20220401.json"
    path.write_bytes(data)
    rows = _decode_exact(engine, path)
    assert [(r["line_no"], r["reject_reason"]) for r in rows] == [
        (1, None),
        (2, "bad_encoding"),
        (3, "malformed_json"),
        (5, None),
    ]
    assert rows[1]["raw"] == '{"_id":"\ufffd\ufffd"}'
    assert rows[2]["raw"] == "a\x01b\x01c"
