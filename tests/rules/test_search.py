"""Search rules (SPEC 2.5–2.6) against hand-computed expectations."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import ibis
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from c360.rules.search import (
    DECODED_COLUMNS,
    duplicate_event_losers,
    monthly_top,
    normalise_keyword,
    normalise_search,
    taste_change,
    with_event_time,
)

Execute = Callable[..., list[dict[str, Any]]]
JULY_1 = date(2022, 7, 1)


def _one(execute: Execute, expr: Any) -> Any:
    return execute(ibis.memtable(pa.table({"x": [0]})).select(v=expr))[0]["v"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("2022-07-01 20:25:11.711", datetime(2022, 7, 1, 20, 25, 11, 711000), id="3f"),
        pytest.param("2022-01-21 18:43:00.10", datetime(2022, 1, 21, 18, 43, 0, 100000), id="2f"),
        pytest.param("2022-07-01 00:14:21.8", datetime(2022, 7, 1, 0, 14, 21, 800000), id="1f"),
        pytest.param(
            "2021-12-24 14:50:56.1256", datetime(2021, 12, 24, 14, 50, 56, 125600), id="4f"
        ),
        pytest.param("2022-07-01 8:14:43.269", datetime(2022, 7, 1, 8, 14, 43, 269000), id="h"),
        pytest.param("2022-07-01 1:08:24.001 CH", datetime(2022, 7, 1, 13, 8, 24, 1000), id="CH"),
        pytest.param(
            "2022-07-01 10:18:14.086 SA", datetime(2022, 7, 1, 10, 18, 14, 86000), id="SA"
        ),
        pytest.param("2022-07-01 12:00:00.000 SA", datetime(2022, 7, 1, 0, 0), id="12SA"),
        pytest.param("2022-07-01 12:30:00.000 CH", datetime(2022, 7, 1, 12, 30), id="12CH"),
        pytest.param("2022-07-01 1:29:00.217 PM", datetime(2022, 7, 1, 13, 29, 0, 217000), id="PM"),
        pytest.param(
            "2022-07-01 1:55:54.104 pm", datetime(2022, 7, 1, 13, 55, 54, 104000), id="pm"
        ),
        pytest.param("2022-07-01 3:23:09.353 AM", datetime(2022, 7, 1, 3, 23, 9, 353000), id="AM"),
        pytest.param("2022-07-01 10:07:07.900 am", datetime(2022, 7, 1, 10, 7, 7, 900000), id="am"),
        pytest.param("۲۰۲۲-۰۷-۰۱ ۰۹:۴۸:۲۴.۷۲۴", datetime(2022, 7, 1, 9, 48, 24, 724000), id="fa"),
        pytest.param("٢٠٢٢-٠٧-٠١ ٠٢:٣٤:١٣.٧١٣", datetime(2022, 7, 1, 2, 34, 13, 713000), id="ar"),
        pytest.param("২০২২-০৭-০১ ১১:০০:০০.৫", datetime(2022, 7, 1, 11, 0, 0, 500000), id="bn"),
        pytest.param(
            "2565-07-01 11:11:47.671", datetime(2022, 7, 1, 11, 11, 47, 671000), id="thai"
        ),
        pytest.param("0004-07-01 11:11:47.671", datetime(4, 7, 1, 11, 11, 47, 671000), id="y4"),
        pytest.param("2022-07-01 20:25:11", datetime(2022, 7, 1, 20, 25, 11), id="no-fraction"),
        pytest.param("2022-02-30 10:00:00.000", None, id="no-such-day"),
        pytest.param("2022-13-01 10:00:00.000", None, id="month-13"),
        pytest.param("2022-07-01 13:00:00.000 PM", None, id="13PM"),
        pytest.param("2022-07-01 24:00:00.000", None, id="hour-24"),
        pytest.param("yesterday", None, id="junk"),
        pytest.param("", None, id="empty"),
        pytest.param(None, None, id="null"),
    ],
)
def test_parse_event_time(execute: Execute, text: str | None, expected: datetime | None) -> None:
    assert _parsed(execute, [text]) == [expected]


def _parsed(execute: Execute, texts: list[str | None]) -> list[datetime | None]:
    table = ibis.memtable(pa.table({"text": pa.array(texts, pa.string())}))
    return [r["t"] for r in execute(with_event_time(table, "text", name="t"))]


@pytest.mark.parametrize(
    ("keyword", "expected"),
    [
        pytest.param("  Cô   Gái Đến Từ  Hôm Qua ", "cô gái đến từ hôm qua", id="trim-collapse"),
        pytest.param("NGƯỜI PHÁN XỬ", "người phán xử", id="upper"),
        # "ệ" written as e + combining circumflex + combining dot below: NFC makes one code point.
        pytest.param("vie\u0302\u0323t", "việt", id="nfc"),
        pytest.param("a\u00a0\u3000b\t\nc", "a b c", id="unicode-spaces"),
        pytest.param("   ", None, id="blank"),
        pytest.param(None, None, id="null"),
        pytest.param("🎬🎬", "🎬🎬", id="emoji-kept"),
    ],
)
def test_normalise_keyword(execute: Execute, keyword: str | None, expected: str | None) -> None:
    assert _one(execute, normalise_keyword(ibis.literal(keyword, type="string"))) == expected


def _decoded(rows: list[dict[str, Any]]) -> Any:
    base = {
        "source_file": "20220701/part-0.parquet",
        "file_date": JULY_1,
        "line_no": 0,
        "event_id": None,
        "datetime": "2022-07-01 10:00:00.000",
        "user_id": "0001",
        "keyword": "bao thanh thien",
        "category": "enter",
        "platform": "android",
        "network_type": "wifi",
        "action": "search",
    }
    full = [{**base, "line_no": i + 1, **row} for i, row in enumerate(rows)]
    types = {"file_date": pa.date32(), "line_no": pa.int64()}
    columns = {
        k: pa.array([r[k] for r in full], types.get(k, pa.string())) for k in DECODED_COLUMNS
    }
    return ibis.memtable(pa.table(columns))


def _normalised(rows: list[dict[str, Any]]) -> Any:
    return normalise_search(
        _decoded(rows), user_pattern=r"^[0-9]{1,12}$", placeholders=["Tìm kiếm bằng giọng nói"]
    )


@pytest.mark.parametrize(
    ("row", "effective", "skew", "event_time"),
    [
        pytest.param({}, JULY_1, False, datetime(2022, 7, 1, 10), id="same-day"),
        pytest.param(
            {"datetime": "2022-06-30 23:59:00.000"},
            date(2022, 6, 30),
            False,
            datetime(2022, 6, 30, 23, 59),
            id="previous-day-is-june",
        ),
        pytest.param(
            {"datetime": "2022-07-02 00:10:00.000"},
            date(2022, 7, 2),
            False,
            datetime(2022, 7, 2, 0, 10),
            id="next-day",
        ),
        pytest.param(
            {"datetime": "2022-06-29 23:59:00.000"},
            JULY_1,
            True,
            datetime(2022, 7, 1),
            id="two-days-off",
        ),
        pytest.param({"datetime": "1970-01-01 07:00:00.000"}, JULY_1, True, datetime(2022, 7, 1)),
        pytest.param({"datetime": "garbage"}, JULY_1, True, datetime(2022, 7, 1), id="junk"),
    ],
)
def test_effective_date_and_clock_skew(
    execute: Execute, row: dict[str, Any], effective: date, skew: bool, event_time: datetime
) -> None:
    got = execute(_normalised([row]))[0]
    assert (got["effective_date"], got["clock_skew"], got["event_time"]) == (
        effective,
        skew,
        event_time,
    )


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        pytest.param({}, None, id="counted"),
        pytest.param({"user_id": "0003361"}, None, id="leading-zeros"),
        pytest.param({"keyword": None}, "no_keyword", id="null-keyword"),
        pytest.param({"keyword": "  "}, "no_keyword", id="blank-keyword"),
        pytest.param({"keyword": "🎬 !!"}, "no_letters", id="emoji-only"),
        pytest.param({"keyword": "TÌM KIẾM  bằng giọng nói"}, "placeholder", id="placeholder"),
        pytest.param({"user_id": None}, "guest", id="guest"),
        pytest.param({"user_id": "12a"}, "bad_user_id", id="letters"),
        pytest.param({"user_id": "1234567890123"}, "bad_user_id", id="13-digits"),
        pytest.param({"user_id": ""}, "bad_user_id", id="empty-user"),
    ],
)
def test_skip_reasons(execute: Execute, row: dict[str, Any], reason: str | None) -> None:
    assert execute(_normalised([row]))[0]["skip_reason"] == reason


def test_user_id_stays_a_string_with_its_leading_zeros(execute: Execute) -> None:
    assert execute(_normalised([{"user_id": "0003361"}]))[0]["user_id"] == "0003361"


def test_duplicate_event_keeps_earliest_then_smallest_keyword_then_user(execute: Execute) -> None:
    rows = [
        {"event_id": "e1", "datetime": "2022-07-01 10:00:00.000", "keyword": "b"},  # 1
        {"event_id": "e1", "datetime": "2022-07-01 09:00:00.000", "keyword": "z"},  # 2 earliest
        {"event_id": "e2", "keyword": "b", "user_id": "2"},  # 3
        {"event_id": "e2", "keyword": "a", "user_id": "9"},  # 4 smallest keyword
        {"event_id": "e3", "keyword": "a", "user_id": "5"},  # 5
        {"event_id": "e3", "keyword": "a", "user_id": "10"},  # 6 smallest user_id (as text)
        {"event_id": "e4"},  # 7 alone
        {"event_id": None},  # 8 no id: never a duplicate
        {"event_id": None},  # 9
    ]
    losers = execute(duplicate_event_losers(_normalised(rows)), order_by=["line_no"])
    assert [r["line_no"] for r in losers] == [1, 3, 5]


def _top(rows: list[tuple[str, str, str, str]]) -> Any:
    """(user_id, month, keyword_norm, event_time)"""
    return ibis.memtable(
        pa.table(
            {
                "user_id": [r[0] for r in rows],
                "month": [r[1] for r in rows],
                "keyword_norm": [r[2] for r in rows],
                "event_time": [datetime.fromisoformat(r[3]) for r in rows],
            }
        )
    )


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        pytest.param(
            [("1", "2022-07", "a", "2022-07-01"), ("1", "2022-07", "b", "2022-07-02"),
             ("1", "2022-07", "a", "2022-07-03")],
            ("a", 2),
            id="most-searched",
        ),
        pytest.param(
            [("1", "2022-07", "a", "2022-07-05"), ("1", "2022-07", "b", "2022-07-09")],
            ("b", 1),
            id="tie-latest-search-wins",
        ),
        pytest.param(
            [("1", "2022-07", "c", "2022-07-05"), ("1", "2022-07", "b", "2022-07-05"),
             ("1", "2022-07", "d", "2022-07-05")],
            ("b", 1),
            id="three-way-tie-smallest-keyword",
        ),
    ],
)  # fmt: skip
def test_monthly_top(
    execute: Execute, rows: list[tuple[str, str, str, str]], expected: tuple[str, int]
) -> None:
    got = execute(monthly_top(_top(rows)))
    assert [(r["most_search"], r["search_count"]) for r in got] == [expected]


def test_monthly_top_is_per_user_and_month(execute: Execute) -> None:
    rows = [
        ("1", "2022-06", "a", "2022-06-01"),
        ("1", "2022-07", "b", "2022-07-01"),
        ("2", "2022-07", "c", "2022-07-01"),
    ]
    got = execute(monthly_top(_top(rows)), order_by=["user_id", "month"])
    assert [(r["user_id"], r["month"], r["most_search"]) for r in got] == [
        ("1", "2022-06", "a"),
        ("1", "2022-07", "b"),
        ("2", "2022-07", "c"),
    ]


def test_taste_change_four_cases(execute: Execute) -> None:
    rows = [
        ("same", "2022-06", "a", "Drama"),
        ("same", "2022-07", "b", "Drama"),
        ("moved", "2022-06", "c", "Action"),
        ("moved", "2022-07", "d", "Romance"),
        ("new", "2022-07", "e", "K Drama"),
        ("gone", "2022-06", "f", "News"),
        ("other", "2022-05", "g", "Music"),  # neither month compared
        ("un", "2022-06", "h", "Unknown"),
        ("un", "2022-07", "i", "Unknown"),
    ]
    top = ibis.memtable(
        pa.table(
            {
                "user_id": [r[0] for r in rows],
                "month": [r[1] for r in rows],
                "most_search": [r[2] for r in rows],
                "search_count": [1] * len(rows),
                "category": [r[3] for r in rows],
            }
        )
    )
    got = execute(taste_change(top, previous="2022-06", current="2022-07"), order_by=["user_id"])
    assert [
        (r["user_id"], r["most_search_prev"], r["most_search_curr"], r["trending_type"],
         r["category_change"])
        for r in got
    ] == [
        ("gone", "f", None, "Lapsed", "News -> None"),
        ("moved", "c", "d", "Changed", "Action -> Romance"),
        ("new", None, "e", "New", "None -> K Drama"),
        ("same", "a", "b", "Unchanged", "Unchanged"),
        ("un", "h", "i", None, "Unknown -> Unknown"),
    ]  # fmt: skip


_FOREIGN = {"fa": "۰۱۲۳۴۵۶۷۸۹", "ar": "٠١٢٣٤٥٦٧٨٩", "bn": "০১২৩৪৫৬৭৮৯"}


@st.composite
def _shaped(draw: st.DrawFn) -> tuple[str, datetime]:
    """A datetime written in one of the logs' shapes, and the value it must parse to."""
    when = draw(st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2035, 12, 31)))
    digits = draw(st.integers(0, 4))
    micro = int(f"{when.microsecond:06d}"[:digits].ljust(6, "0")) if digits else 0
    expected = when.replace(microsecond=micro)
    year = when.year + (543 if draw(st.booleans()) else 0)
    clock = draw(st.sampled_from(["24", "AM/PM", "am/pm", "SA/CH"]))
    hour, suffix = f"{when.hour:02d}", ""
    if clock != "24":
        morning, evening = clock.split("/")
        hour = str((when.hour + 11) % 12 + 1)
        suffix = " " + (evening if when.hour >= 12 else morning)
    fraction = f".{when.microsecond:06d}"[: digits + 1] if digits else ""
    text = f"{year:04d}-{when:%m-%d} {hour}:{when:%M:%S}{fraction}{suffix}"
    script = draw(st.sampled_from(["ascii", *_FOREIGN]))
    if script != "ascii":
        text = text.translate(str.maketrans("0123456789", _FOREIGN[script]))
    return text, expected


@settings(max_examples=25, deadline=None)
@given(st.lists(_shaped(), min_size=1, max_size=40))
def test_every_shape_parses_back_to_its_time(duck: Any, cases: list[tuple[str, datetime]]) -> None:
    table = ibis.memtable(pa.table({"text": [text for text, _ in cases]}))
    got = duck.to_pyarrow(with_event_time(table, "text", name="t")).column("t").to_pylist()
    assert got == [expected for _, expected in cases]


@settings(max_examples=25, deadline=None)
@given(st.lists(st.text(max_size=30), min_size=1, max_size=40))
def test_normalised_keywords_are_idempotent_and_tidy(duck: Any, words: list[str]) -> None:
    table = ibis.memtable(pa.table({"k": words}))
    once = table.select(k=normalise_keyword(table.k))
    twice = once.select(k=normalise_keyword(once.k))
    first = duck.to_pyarrow(once).column("k").to_pylist()
    assert duck.to_pyarrow(twice).column("k").to_pylist() == first
    for value in first:
        assert value is None or (value == value.strip() and "  " not in value and value != "")
