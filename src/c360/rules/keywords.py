"""Keyword rules: text forms used to match keywords, and the ``keyword_category`` table (SPEC 2.6).

``normalise_text`` is the Python twin of :func:`c360.rules.search.normalise_keyword`, for
keywords that come from files (a mapping, a label set) rather than from the logs. ``fold`` strips
Vietnamese diacritics so that ``nguoi phan xu`` and ``người phán xử`` meet.

>>> normalise_text("  Người  Phán Xử ")
'người phán xử'
>>> fold("Người Phán Xử - Tập 12")
'nguoi phan xu - tap 12'
>>> compact("Đen Vâu  (Live)")
'denvaulive'
"""

from __future__ import annotations

import unicodedata

import ibis.expr.types as ir

#: The category of a keyword nobody has classified yet (never silently ``Other``).
UNKNOWN = "Unknown"
#: Letters that NFD does not decompose into a base letter and a mark.
_UNDECOMPOSED = str.maketrans({"đ": "d", "Đ": "d", "ø": "o", "ł": "l", "æ": "ae", "œ": "oe"})


def normalise_text(keyword: str) -> str:
    """NFC, trimmed, inner whitespace collapsed, lower-cased: ``keyword_norm`` of one string."""
    return " ".join(unicodedata.normalize("NFC", keyword).split()).lower()


def fold(keyword: str) -> str:
    """``normalise_text`` without diacritics (``đ`` → ``d``): how people type without accents."""
    decomposed = unicodedata.normalize("NFD", normalise_text(keyword).translate(_UNDECOMPOSED))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def compact(keyword: str) -> str:
    """``fold`` with only letters and digits left: spacing and punctuation variants meet."""
    return "".join(c for c in fold(keyword) if c.isalnum())


def keyword_categories(keywords: ir.Table, decided: ir.Table) -> ir.Table:
    """``keyword_category``: every keyword of ``keywords.keyword_norm`` with its decision.

    ``decided`` holds at most one decision per keyword (``keyword``, ``category``, ``source``,
    ``confidence``, ``version``, ``decided_at``), already ranked by the caller; a keyword without
    one is ``Unknown`` with no source.
    """
    distinct = keywords.select("keyword_norm").distinct()
    given = decided.rename(_keyword="keyword", _category="category")
    joined = distinct.left_join(given, distinct.keyword_norm == given._keyword)
    return joined.select(
        keyword_norm=joined.keyword_norm,
        category=joined._category.fill_null(UNKNOWN),
        source=joined.source,
        confidence=joined.confidence,
        version=joined.version,
        decided_at=joined.decided_at,
    )
