"""The run's window (``c360.context.Window``): requested bounds are its edges."""

from __future__ import annotations

from datetime import date

import pytest

from c360.context import Window

D1, D2, D3, D4 = (date(2022, 4, d) for d in (1, 2, 3, 4))


def test_without_bounds_the_window_is_the_dates_found() -> None:
    window = Window.over([D3, D1, D1])
    assert (window.first, window.last, window.dates) == (D1, D3, (D1, D3))
    assert window.days == 3 and window.missing == [D2]


def test_requested_bounds_are_the_edges_even_without_input_there() -> None:
    window = Window.over([D2, D3], start=D1, end=D4)
    assert (window.first, window.last) == (D1, D4)
    assert window.missing == [D1, D4]


def test_no_dates_and_no_bounds_is_no_window() -> None:
    assert Window.over([], start=D1, end=D2).missing == [D1, D2]
    with pytest.raises(ValueError, match="needs dates or both bounds"):
        Window.over([], start=D1)
