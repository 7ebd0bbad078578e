"""The streaming rules (SPEC 8.2): event validation, first occurrences, windows, live usage."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import ibis
import pyarrow as pa
import pytest

from c360.config import DEFAULT_APP_CATEGORIES, ContentConfig
from c360.rules import live

Rows = list[dict[str, Any]]
Execute = Callable[..., Rows]
NOW = datetime(2026, 12, 2, 18, 0, 0)
LATEST = NOW + timedelta(minutes=5)
OLDEST = NOW - timedelta(days=1)


def _vote(**fields: Any) -> dict[str, Any]:
    row = {
        "file": "f", "line_no": 1, "raw": "{}", "json_ok": True, "is_object": True,
        "record_id": "v1", "user_id": "u1", "song": "Song", "vote_true": True, "ts": NOW,
    }  # fmt: skip
    row.update(fields)
    return row


def _table(rows: Rows, columns: dict[str, str]) -> Any:
    schema = pa.schema([(name, _arrow(kind)) for name, kind in columns.items()])
    return ibis.memtable(pa.Table.from_pylist(rows, schema=schema))


def _arrow(kind: str) -> pa.DataType:
    return {
        "string": pa.string(), "int64": pa.int64(), "boolean": pa.bool_(),
        "timestamp": pa.timestamp("us"),
    }[kind]  # fmt: skip


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({}, None),
        ({"json_ok": False, "is_object": False, "record_id": None}, "malformed_json"),
        ({"is_object": False, "record_id": None}, "not_object"),
        ({"record_id": None}, "missing_id"),
        ({"record_id": ""}, "missing_id"),
        ({"record_id": "x\x00y"}, "missing_id"),
        ({"user_id": None}, "bad_user"),
        ({"song": None}, "bad_song"),
        ({"song": "   "}, "bad_song"),
        ({"song": "s" * 256}, "bad_song"),
        ({"vote_true": False}, "vote_not_true"),
        ({"vote_true": None}, "vote_not_true"),
        ({"ts": None}, "bad_timestamp"),
        ({"ts": LATEST + timedelta(microseconds=1)}, "future_timestamp"),
        ({"ts": LATEST}, None),
        ({"ts": OLDEST - timedelta(microseconds=1)}, "too_old"),
        ({"ts": OLDEST}, None),
        # The first failed check is the reason: a missing id before a bad song.
        ({"record_id": None, "song": None}, "missing_id"),
    ],
)
def test_a_vote_gets_the_first_failed_check_as_its_reason(
    execute: Execute, fields: dict[str, Any], reason: str | None
) -> None:
    decoded = _table([_vote(**fields)], live.DECODED_VOTE_COLUMNS)
    rows = execute(live.validate_votes(decoded, latest_allowed=LATEST, oldest_allowed=OLDEST))
    assert rows[0]["reason"] == reason
    # Raw text is kept for a rejected vote only.
    assert rows[0]["raw"] == (None if reason is None else "{}")


def _view(**fields: Any) -> dict[str, Any]:
    row = {
        "file": "f", "line_no": 1, "raw": "{}", "json_ok": True, "is_object": True,
        "record_id": "e1", "ts": NOW, "contract": "HNH579912", "mac": "0c:96:e6:2f:c5:5c",
        "app_name": "KPLUS", "duration_is_int": True, "duration": 100,
    }  # fmt: skip
    row.update(fields)
    return row


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({}, None),
        ({"record_id": None}, "missing_id"),
        ({"ts": None}, "bad_timestamp"),
        ({"ts": LATEST + timedelta(seconds=1)}, "future_timestamp"),
        ({"ts": OLDEST - timedelta(seconds=1)}, "too_old"),
        # The batch content rules, not a copy: the same codes and bounds as SPEC 2.1.
        ({"contract": "bad"}, "bad_contract"),
        ({"contract": None}, "bad_contract"),
        ({"duration": -5}, "bad_duration"),
        ({"duration": 86_401}, "bad_duration"),
        ({"duration": 86_400}, None),
        ({"duration_is_int": False, "duration": None}, "bad_duration"),
        ({"app_name": None}, "bad_app_name"),
        ({"app_name": ""}, "bad_app_name"),
    ],
)
def test_a_viewing_event_is_checked_by_the_content_rules(
    execute: Execute, fields: dict[str, Any], reason: str | None
) -> None:
    content = ContentConfig()
    decoded = _table([_view(**fields)], live.DECODED_VIEW_COLUMNS)
    rows = execute(
        live.validate_views(
            decoded, latest_allowed=LATEST, oldest_allowed=OLDEST,
            contract_pattern=content.contract_pattern, max_duration=content.max_duration,
            mapping=DEFAULT_APP_CATEGORIES,
        )
    )  # fmt: skip
    assert rows[0]["reason"] == reason


def test_a_viewing_event_gets_the_batch_category_and_mac(execute: Execute) -> None:
    content = ContentConfig()
    rows = [
        _view(record_id="a", app_name="KPLUS"),
        _view(record_id="b", app_name="VOD", mac="nonsense"),
        _view(record_id="c", app_name="SOMETHING_NEW"),
    ]
    decoded = _table(rows, live.DECODED_VIEW_COLUMNS)
    out = execute(
        live.validate_views(
            decoded, latest_allowed=LATEST, oldest_allowed=OLDEST,
            contract_pattern=content.contract_pattern, max_duration=content.max_duration,
            mapping=DEFAULT_APP_CATEGORIES,
        ),
        order_by=["record_id"],
    )  # fmt: skip
    assert [(r["category"], r["mac"]) for r in out] == [
        ("Truyen Hinh", "0C96E62FC55C"),
        ("Phim Truyen", None),
        ("Other", "0C96E62FC55C"),
    ]


def test_first_occurrences_drop_ids_seen_before_and_repeats_in_landing_order(
    execute: Execute,
) -> None:
    valid = _table(
        [
            _vote(record_id="a", file="000002", line_no=1, song="late copy"),
            _vote(record_id="a", file="000001", line_no=9, song="first"),
            _vote(record_id="a", file="000001", line_no=10, song="second"),
            _vote(record_id="b", file="000001", line_no=1),
            _vote(record_id="old", file="000001", line_no=2),
        ],
        live.DECODED_VOTE_COLUMNS,
    )
    seen = ibis.memtable(pa.table({"record_id": pa.array(["old"], pa.string())}))
    out = execute(live.first_occurrences(valid, seen), order_by=["record_id"])
    assert [(r["record_id"], r["song"]) for r in out] == [("a", "first"), ("b", "Song")]


def test_first_occurrences_of_nothing_new_is_empty(execute: Execute) -> None:
    valid = _table([_vote(record_id="a")], live.DECODED_VOTE_COLUMNS)
    seen = ibis.memtable(pa.table({"record_id": pa.array(["a"], pa.string())}))
    assert execute(live.first_occurrences(valid, seen)) == []


def test_vote_seconds_keep_only_events_at_or_after_the_watermark(execute: Execute) -> None:
    watermark = NOW - timedelta(minutes=10)
    votes = _table(
        [
            _vote(song="a", ts=watermark - timedelta(microseconds=1)),
            _vote(song="a", ts=watermark),
            _vote(song="a", ts=NOW + timedelta(milliseconds=300)),
            _vote(song="a", ts=NOW + timedelta(milliseconds=900)),
        ],
        live.DECODED_VOTE_COLUMNS,
    )
    out = execute(live.vote_seconds(votes, watermark=watermark), order_by=["second"])
    assert out == [
        {"song": "a", "second": watermark, "votes": 1},
        {"song": "a", "second": NOW, "votes": 2},
    ]


def _seconds(rows: list[tuple[str, datetime, int]]) -> Any:
    return ibis.memtable(
        pa.table(
            {
                "song": pa.array([r[0] for r in rows], pa.string()),
                "second": pa.array([r[1] for r in rows], pa.timestamp("us")),
                "votes": pa.array([r[2] for r in rows], pa.int64()),
            }
        )
    )


def _totals(rows: dict[str, int]) -> Any:
    return ibis.memtable(
        pa.table(
            {
                "song": pa.array(list(rows), pa.string()),
                "votes": pa.array(list(rows.values()), pa.int64()),
            }
        )
    )


def test_the_leaderboard_windows_hold_the_last_whole_seconds_up_to_the_clock(
    execute: Execute,
) -> None:
    clock = NOW + timedelta(milliseconds=700)
    seconds = _seconds(
        [
            ("a", NOW, 1),  # the clock's own second: in both windows
            ("a", NOW - timedelta(seconds=59), 2),  # the 60th second back: in both
            ("a", NOW - timedelta(seconds=60), 4),  # the 61st: 10-minute window only
            ("a", NOW - timedelta(seconds=599), 8),  # the 600th: 10-minute window
            ("a", NOW - timedelta(seconds=600), 16),  # the 601st: in neither
            ("b", NOW - timedelta(seconds=30), 5),
        ]
    )
    totals = _totals({"a": 100, "b": 100, "c": 7})
    out = execute(live.leaderboard(totals, seconds, clock=clock), order_by=["rank"])
    assert out == [
        {"rank": 1, "song": "a", "total_votes": 100, "votes_1m": 3, "votes_10m": 15},
        # A tie on total votes is broken by the song's name.
        {"rank": 2, "song": "b", "total_votes": 100, "votes_1m": 5, "votes_10m": 5},
        {"rank": 3, "song": "c", "total_votes": 7, "votes_1m": 0, "votes_10m": 0},
    ]


def test_the_leaderboard_before_any_vote_is_empty(execute: Execute) -> None:
    out = execute(live.leaderboard(_totals({}), _seconds([]), clock=None))
    assert out == []


def test_live_usage_sums_seconds_and_events_per_category_and_minute(execute: Execute) -> None:
    views = ibis.memtable(
        pa.table(
            {
                "category": ["Truyen Hinh", "Truyen Hinh", "Truyen Hinh", "Other"],
                "ts": pa.array(
                    [NOW, NOW + timedelta(seconds=59), NOW + timedelta(seconds=60), NOW],
                    pa.timestamp("us"),
                ),
                "duration": pa.array([10, 20, 40, 0], pa.int64()),
            }
        )
    )
    out = execute(live.usage_minutes(views), order_by=["minute", "category"])
    assert out == [
        {"category": "Other", "minute": NOW, "total_duration": 0, "events": 1},
        {"category": "Truyen Hinh", "minute": NOW, "total_duration": 30, "events": 2},
        {
            "category": "Truyen Hinh",
            "minute": NOW + timedelta(minutes=1),
            "total_duration": 40,
            "events": 1,
        },
    ]
