"""What the ``c360`` commands print for a report, without running a command."""

from __future__ import annotations

import pyarrow as pa
import pytest

from c360.console import console
from c360.reports import LoadReport
from c360.shells.cli import render


@pytest.mark.parametrize(
    ("value", "shown"),
    [(None, ""), (0, "0"), (9_999, "9999"), (10_000, "10.0k"), (48_123, "48.1k"),
     (48_123_456, "48.1M"), (2_500_000_000, "2.5G")],
)  # fmt: skip
def test_counts_are_short(value: int | None, shown: str) -> None:
    assert render._count(value) == shown


def test_long_values_are_cut_to_the_width() -> None:
    assert render._short(None) == ""
    assert render._short("x" * 120) == "x" * 120
    assert render._short("x" * 121) == "x" * 119 + "…"


def test_a_load_lists_its_tables_and_time() -> None:
    report = LoadReport(target="postgresql://u@h/db", tables={"top_apps": 12_345}, seconds=2.04)
    with console.capture() as captured:
        render.print_load(report)
    text = captured.get()
    assert "loadedintopostgresql://u@h/db" in _flat(text)  # the title wraps to the table's width
    assert "top_apps" in text and "12,345" in text
    assert "2.0 s" in text


def test_no_quarantined_rows_says_so_and_names_the_reason() -> None:
    empty = pa.table({"file": pa.array([], pa.string()), "file_date": pa.array([], pa.date32())})
    with console.capture() as captured:
        render.print_quarantine(empty, source="search", reason="bad_user_id")
    text = captured.get()
    assert "quarantine_search" in _flat(text) and "file_date" not in text
    assert "no quarantined rows with reason bad_user_id" in text


def _flat(text: str) -> str:
    return "".join(text.split())
