"""Reading ``keyword,category`` CSVs (a user's mapping, labels to evaluate against)."""

from __future__ import annotations

from pathlib import Path

import pytest

from c360.errors import InputError
from c360.io.reference import read_keyword_labels


def _csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "labels.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_keywords_are_normalised_and_the_first_row_of_a_keyword_wins(tmp_path: Path) -> None:
    text = "keyword,category\n  NARUTO ,Animation\nnaruto,Drama\n\nVTV3,TV Channel\n"
    path = _csv(tmp_path, text)
    assert read_keyword_labels(path) == {"naruto": "Animation", "vtv3": "TV Channel"}


def test_the_header_is_optional_and_a_bom_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "labels.csv"
    path.write_bytes("\ufeffthời sự,News\n".encode())
    assert read_keyword_labels(path) == {"thời sự": "News"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("keyword,category\nx,Thriller\n", r"labels.csv:2: category 'Thriller' is not one of"),
        ("keyword,category\nonly-a-keyword\n", r"labels.csv:2: expected keyword,category"),
        ("x,unknown\n", r"labels.csv:1: category 'unknown'"),
    ],
)
def test_bad_rows_name_the_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        read_keyword_labels(_csv(tmp_path, text))


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"keyword file .*nope\.csv does not exist"):
        read_keyword_labels(tmp_path / "nope.csv")
