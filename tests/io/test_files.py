"""Input discovery and the one-pass file scan."""

from __future__ import annotations

import gzip
import hashlib
from datetime import date
from pathlib import Path

import pytest

from c360.errors import InputError
from c360.io.files import find_content_files, scan


def test_find_content_files_sorts_by_date_and_reports_every_other_entry(tmp_path: Path) -> None:
    names = ["20220402.json", "20220401.json.gz", "20220403.JSON", "20220431.json", "notes.txt"]
    for name in [*names, "x.json", "_SUCCESS"]:
        (tmp_path / name).write_text("{}\n")
    (tmp_path / "20220404.json").mkdir()
    (tmp_path / "20220405.json.gz").symlink_to(tmp_path / "gone")
    files, skipped = find_content_files(tmp_path)
    assert [f.name for f in files] == ["20220401.json.gz", "20220402.json", "20220403.JSON"]
    assert [f.file_date for f in files] == [date(2022, 4, 1), date(2022, 4, 2), date(2022, 4, 3)]
    assert [f.usual_name for f in files] == [True, True, False]
    assert {s.path.name: s.reason for s in skipped} == {
        "20220404.json": "a folder, not a file",
        "20220405.json.gz": "a broken link (its target does not exist)",
        "20220431.json": "the name is not a date (YYYYMMDD.json[.gz])",
        "_SUCCESS": "a hidden file",
        "notes.txt": "not a content file (YYYYMMDD.json or YYYYMMDD.json.gz)",
        "x.json": "the name is not a date (YYYYMMDD.json[.gz])",
    }
    window, _ = find_content_files(tmp_path, start=date(2022, 4, 2), end=date(2022, 4, 2))
    assert [f.name for f in window] == ["20220402.json"]


def test_find_content_files_needs_a_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        find_content_files(tmp_path / "missing")
    (tmp_path / "file").write_text("")
    with pytest.raises(InputError, match="not a folder"):
        find_content_files(tmp_path / "file")


@pytest.mark.parametrize(
    ("payload", "plain"),
    [
        (b'{"a":"h\xc3\xa0 n\xe1\xbb\x99i"}\n', True),  # UTF-8 Vietnamese
        (b'{"a":1}\n\xff\n', False),  # not UTF-8
        (b'{"a":1}\n\x01\n', False),  # the fast reader's delimiter
        (b"", True),
    ],
)
def test_scan_checksums_and_checks_text(tmp_path: Path, payload: bytes, plain: bool) -> None:
    path = tmp_path / "20220401.json"
    path.write_bytes(payload)
    result = scan(path)
    assert result.checksum == hashlib.sha256(payload).hexdigest()
    assert result.plain_text is plain
    packed = tmp_path / "20220401.json.gz"
    packed.write_bytes(gzip.compress(payload))
    assert scan(packed).plain_text is plain


def test_scan_handles_a_character_split_across_chunks(tmp_path: Path) -> None:
    path = tmp_path / "20220401.json"
    chunk = 8 << 20
    path.write_bytes(b"a" * (chunk - 1) + "ộ".encode() + b"\n")
    assert scan(path).plain_text is True


def test_scan_rejects_truncated_and_corrupt_gzip(tmp_path: Path) -> None:
    full = gzip.compress(b'{"a":1}\n' * 10_000)
    path = tmp_path / "20220401.json.gz"
    path.write_bytes(full[: len(full) // 2])
    with pytest.raises(InputError, match="truncated"):
        scan(path)
    path.write_bytes(full[:100] + b"xxxx" + full[104:])
    with pytest.raises(InputError, match="corrupt gzip"):
        scan(path)


def test_scan_follows_multi_member_gzip(tmp_path: Path) -> None:
    path = tmp_path / "20220401.json.gz"
    path.write_bytes(gzip.compress(b'{"a":1}\n') + gzip.compress(b'{"b":"\xc3\xa0"}\n'))
    assert scan(path).plain_text is True


@pytest.mark.parametrize(
    ("payload", "plain"),
    [(b'{"a":1}\r\n{"b":2}\r\n', True), (b'{"a":1}\n{"b":2}\rjunk\n', False)],
)
def test_scan_sends_lone_carriage_returns_to_the_exact_reader(
    tmp_path: Path, payload: bytes, plain: bool
) -> None:
    path = tmp_path / "20220401.json"
    path.write_bytes(payload)
    assert scan(path).plain_text is plain


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize(
    ("lengths", "flagged"),
    [
        ([100] * 50, False),
        ([100, 4096 * 3, 100], True),  # over the limit, inside a chunk
        ([100, 4096 + 1, 100], True),  # just over it
        ([100, 2047, 100], False),  # under half of it
        ([100, (8 << 20) + 5], True),  # a last line longer than a chunk, without a line end
        ([(8 << 20) - 10, 5000], True),  # crossing a chunk boundary
    ],
)
def test_scan_flags_every_line_over_the_limit(
    tmp_path: Path, lengths: list[int], flagged: bool, gz: bool
) -> None:
    payload = b"".join(b"x" * n + b"\n" for n in lengths[:-1]) + b"y" * lengths[-1]
    path = tmp_path / ("20220401.json.gz" if gz else "20220401.json")
    path.write_bytes(gzip.compress(payload) if gz else payload)
    assert scan(path, long_line=4096).long_line is flagged
