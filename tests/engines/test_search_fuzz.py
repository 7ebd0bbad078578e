"""Property: any strings in a search part are read and normalised without a crash, and every
row comes out once, with an event time near its folder's day and exactly one verdict."""

from __future__ import annotations

import tempfile
from datetime import date, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from c360.config import SearchConfig
from c360.engines.duckdb import DuckDBEngine
from c360.io.files import find_search_days
from c360.rules.search import FOREIGN_DIGITS, SKIP_REASONS, normalise_search

DAY = date(2022, 7, 1)
CFG = SearchConfig()


def _digits(text: str, script: int) -> str:
    """``text`` with its ASCII digits written in another script (0: ASCII)."""
    if script == 0:
        return text
    table = FOREIGN_DIGITS[(script - 1) * 10 : script * 10]
    return "".join(table[int(c)] if c.isdigit() else c for c in text)


#: Strings shaped like the log's datetimes, with out-of-range fields, Buddhist years, foreign
#: digits and 12-hour markers: near misses are where parsers crash.
near_datetimes = st.builds(
    lambda y, mo, d, h, mi, s, frac, marker, script: _digits(
        f"{y:04d}-{mo:02d}-{d:02d} {h:02d}:{mi:02d}:{s:02d}{frac}{marker}", script
    ),
    st.sampled_from([4, 1970, 2018, 2022, 2565, 9999]),
    st.integers(0, 13),
    st.integers(0, 32),
    st.integers(0, 25),
    st.integers(0, 61),
    st.integers(0, 61),
    st.sampled_from(["", ".7", ".711", ".1234", ".1234567"]),
    st.sampled_from(["", " AM", " pm", " SA", " CH", " XM"]),
    st.integers(0, 3),
)
datetimes = st.one_of(st.none(), st.text(max_size=30), near_datetimes)
users = st.one_of(st.none(), st.text(max_size=14), st.from_regex(r"\A0*[0-9]{1,13}\Z"))
keywords = st.one_of(
    st.none(),
    st.text(max_size=25),
    st.sampled_from(["Tìm kiếm bằng giọng nói", "  phim   HÀN ", "🎬🎬", "VTV3", "\u00a0"]),
)
rows = st.lists(
    st.tuples(
        st.one_of(st.none(), st.sampled_from(["e1", "e2", "e3"])), datetimes, users, keywords
    ),
    min_size=1,
    max_size=30,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows)
def test_any_search_part_is_read_and_every_row_accounted_for(
    engine: DuckDBEngine, cases: list[tuple[str | None, str | None, str | None, str | None]]
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        day_folder = Path(folder) / "20220701"
        day_folder.mkdir()
        columns = ("eventID", "datetime", "user_id", "keyword")
        table = pa.table(
            {c: pa.array([r[i] for r in cases], pa.string()) for i, c in enumerate(columns)}
        )
        pq.write_table(table, day_folder / "part-00000.parquet")
        (day,), _ = find_search_days(Path(folder))
        decoded = engine.decode_search([day])
        out = engine.to_pyarrow(
            normalise_search(decoded, user_pattern=CFG.user_pattern, placeholders=CFG.placeholders)
        ).sort_by("line_no")
    assert out.column("line_no").to_pylist() == list(range(1, len(cases) + 1))
    assert out.column("keyword").to_pylist() == [r[3] for r in cases]
    near = {DAY - timedelta(1), DAY, DAY + timedelta(1)}
    for row in out.to_pylist():
        assert row["event_time"] is not None
        assert row["effective_date"] in near
        assert row["effective_date"] == row["event_time"].date()
        assert row["skip_reason"] is None or row["skip_reason"] in SKIP_REASONS
        if row["clock_skew"]:
            assert (row["effective_date"], row["event_time"].time().isoformat()) == (
                DAY, "00:00:00",
            )  # fmt: skip
        if row["skip_reason"] is None:
            assert row["user_ok"] and row["keyword_norm"]
