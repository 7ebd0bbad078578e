"""Input discovery and the one-pass file scan."""

from __future__ import annotations

import gzip
import hashlib
from datetime import date
from pathlib import Path

import pytest

from c360.errors import InputError
from c360.io.files import find_content_files, scan


def test_find_content_files_sorts_by_date_and_reports_misnamed(tmp_path: Path) -> None:
    for name in ["20220402.json", "20220401.json.gz", "20220431.json", "notes.txt", "x.json"]:
        (tmp_path / name).write_text("{}\n")
    (tmp_path / "_SUCCESS").write_text("")
    files, misnamed = find_content_files(tmp_path)
    assert [f.name for f in files] == ["20220401.json.gz", "20220402.json"]
    assert [f.file_date for f in files] == [date(2022, 4, 1), date(2022, 4, 2)]
    assert sorted(p.name for p in misnamed) == ["20220431.json", "x.json"]
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
