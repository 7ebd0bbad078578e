"""Reference inputs: ``keyword,category`` CSVs (a user's mapping, labels to evaluate against)."""

from __future__ import annotations

import csv
from pathlib import Path

from c360.config import SEARCH_CATEGORIES
from c360.errors import InputError
from c360.rules.keywords import normalise_text


def read_keyword_labels(path: Path) -> dict[str, str]:
    """``keyword,category`` rows keyed by normalised keyword (the first row of a keyword wins).

    A header row is optional; every category must be one of the taxonomy's labels.
    """
    if not path.is_file():
        raise InputError(f"keyword file {path} does not exist")
    allowed = set(SEARCH_CATEGORIES)
    labels: dict[str, str] = {}
    with path.open(encoding="utf-8-sig", newline="") as fh:
        for line_no, row in enumerate(csv.reader(fh), start=1):
            if not row or (
                line_no == 1 and [c.strip().lower() for c in row[:2]] == ["keyword", "category"]
            ):
                continue
            if len(row) < 2:
                raise InputError(f"{path}:{line_no}: expected keyword,category")
            keyword, category = normalise_text(row[0]), row[1].strip()
            if category not in allowed:
                raise InputError(
                    f"{path}:{line_no}: category {category!r} is not one of "
                    f"{', '.join(SEARCH_CATEGORIES)}"
                )
            if keyword:
                labels.setdefault(keyword, category)
    return labels
