"""Keyword text forms and the ``keyword_category`` rule."""

from __future__ import annotations

from typing import Any

import ibis
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from c360.rules.keywords import UNKNOWN, compact, fold, keyword_categories, normalise_text


@pytest.mark.parametrize(
    ("raw", "norm", "folded", "compacted"),
    [
        ("  Người  Phán Xử ", "người phán xử", "nguoi phan xu", "nguoiphanxu"),
        ("ĐEN VÂU", "đen vâu", "den vau", "denvau"),
        ("Sơn Tùng M-TP", "sơn tùng m-tp", "son tung m-tp", "sontungmtp"),
        # NFD input (combining marks) meets its NFC twin.
        ("Ngu\u031bo\u031b\u0300i", "người", "nguoi", "nguoi"),
        ("K+ Sport 1", "k+ sport 1", "k+ sport 1", "ksport1"),
        ("🔥", "🔥", "🔥", ""),
    ],
)
def test_text_forms(raw: str, norm: str, folded: str, compacted: str) -> None:
    assert (normalise_text(raw), fold(raw), compact(raw)) == (norm, folded, compacted)


@given(st.text())
def test_fold_is_idempotent_and_never_longer_in_words(text: str) -> None:
    assert fold(fold(text)) == fold(text)
    assert compact(compact(text)) == compact(text)
    assert len(fold(text).split()) == len(normalise_text(text).split())


def _decided(rows: list[tuple[str, str, str, float, str, str]]) -> Any:
    columns = ("keyword", "category", "source", "confidence", "version", "decided_at")
    return ibis.memtable(pa.table({c: [r[i] for r in rows] for i, c in enumerate(columns)}))


def test_keyword_categories_one_row_per_keyword_unknown_when_undecided(execute: Any) -> None:
    keywords = ibis.memtable(pa.table({"keyword_norm": ["naruto", "naruto", "vtv3", "xyz"]}))
    decided = _decided([
        ("naruto", "Animation", "llm", 1.0, "m/genre-v1", "2026-01-01T00:00:00+00:00"),
        ("vtv3", "TV Channel", "rule", 0.9, "offline", "2026-01-02T00:00:00+00:00"),
        ("unused", "Drama", "llm", 1.0, "m/genre-v1", "2026-01-01T00:00:00+00:00"),
    ])  # fmt: skip
    rows = execute(keyword_categories(keywords, decided), order_by=["keyword_norm"])
    assert [(r["keyword_norm"], r["category"], r["source"], r["confidence"]) for r in rows] == [
        ("naruto", "Animation", "llm", 1.0),
        ("vtv3", "TV Channel", "rule", 0.9),
        ("xyz", UNKNOWN, None, None),
    ]
    assert rows[2]["decided_at"] is None and rows[0]["version"] == "m/genre-v1"
