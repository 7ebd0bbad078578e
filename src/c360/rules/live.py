"""Streaming rules (SPEC 8.2): validation of votes and viewing events, and the live tables.

The input of :func:`validate_votes` and :func:`validate_views` is the *decoded* table an engine's
reader produces from landed JSON lines (:data:`DECODED_VOTE_COLUMNS`,
:data:`DECODED_VIEW_COLUMNS`). Viewing events are checked with the content rules themselves
(contract, duration, app name, Mac) and categorised by the same app mapping, so a live minute
and a batch day agree on what a valid row and its category are.

Event time runs on the stream's own clock: the latest valid event time seen (``clock``). The
watermark trails it by the configured lateness; an event older than the watermark still counts
in the totals but is in no window (the widest window, 10 minutes, is inside the lateness).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import ibis
import ibis.expr.types as ir

from c360.rules import content as content_rules
from c360.rules._text import escape_nul, storable

if TYPE_CHECKING:
    from c360.config import ContentConfig

#: Columns an engine's vote reader produces, one row per landed line.
DECODED_VOTE_COLUMNS: dict[str, str] = {
    "file": "string",  # landed file name, e.g. 000000001000-000000002000.jsonl
    "line_no": "int64",  # 1-based line within the file
    "raw": "string",  # the line as landed
    "json_ok": "boolean",  # the line parses as one JSON value
    "is_object": "boolean",  # ... and that value is an object
    "record_id": "string",  # `id` when a JSON string, else null
    "user_id": "string",  # `user_id` when a JSON string, else null
    "song": "string",  # `song` when a JSON string, else null
    "vote_true": "boolean",  # `vote` is the JSON literal true
    "ts": "timestamp",  # `timestamp` parsed as ISO-8601 UTC, else null
}
#: Columns an engine's viewing-event reader produces, one row per landed line.
DECODED_VIEW_COLUMNS: dict[str, str] = {
    "file": "string",
    "line_no": "int64",
    "raw": "string",
    "json_ok": "boolean",
    "is_object": "boolean",
    "record_id": "string",
    "ts": "timestamp",
    "contract": "string",  # as the content decoder reads `_source.Contract`
    "mac": "string",
    "app_name": "string",
    "duration_is_int": "boolean",
    "duration": "int64",
}

#: Quarantine reasons of votes, in the order they are tested.
VOTE_REASONS = (
    "malformed_json",
    "not_object",
    "missing_id",
    "bad_user",
    "bad_song",
    "vote_not_true",
    "bad_timestamp",
    "future_timestamp",
    "too_old",
)
#: Quarantine reasons of viewing events: the stream's own checks, then the content rules'.
VIEW_REASONS = (
    "malformed_json",
    "not_object",
    "missing_id",
    "bad_timestamp",
    "future_timestamp",
    "too_old",
    "bad_contract",
    "bad_duration",
    "bad_app_name",
)
#: Seconds of the leaderboard's windows of event time.
WINDOWS_S = {"votes_1m": 60, "votes_10m": 600}


#: A (failed, reason) check, in the order of a reason list.
Check = tuple[ir.BooleanValue, str]


def _identity_checks(t: ir.Table) -> list[Check]:
    """The checks every event stream starts with: JSON, an object, a text id."""
    text_id = t.record_id.notnull() & (t.record_id.length() > 0) & storable(t.record_id)
    return [
        (~t.json_ok, "malformed_json"),
        (~t.is_object, "not_object"),
        (~text_id.fill_null(False), "missing_id"),
    ]


def _time_checks(t: ir.Table, *, latest_allowed: datetime, oldest_allowed: datetime) -> list[Check]:
    """The event-time checks every event stream shares."""
    return [
        (t.ts.isnull(), "bad_timestamp"),
        (t.ts > ibis.literal(latest_allowed, type="timestamp"), "future_timestamp"),
        (t.ts < ibis.literal(oldest_allowed, type="timestamp"), "too_old"),
    ]


def vote_reject_reason(
    decoded: ir.Table, *, latest_allowed: datetime, oldest_allowed: datetime
) -> ir.StringValue:
    """The first failed check of a vote (:data:`VOTE_REASONS`); null for a valid vote."""
    t = decoded
    text_ok = storable(t.user_id) & (t.user_id.length() > 0)
    song_ok = storable(t.song) & (t.song.strip().length() > 0)
    return ibis.cases(
        *_identity_checks(t),
        (~text_ok.fill_null(False), "bad_user"),
        (~song_ok.fill_null(False), "bad_song"),
        (~t.vote_true.fill_null(False), "vote_not_true"),
        *_time_checks(t, latest_allowed=latest_allowed, oldest_allowed=oldest_allowed),
        else_=ibis.null("string"),
    )


def validate_votes(
    decoded: ir.Table, *, latest_allowed: datetime, oldest_allowed: datetime
) -> ir.Table:
    """Every decoded vote with its ``reason`` (null: valid); raw text kept for rejected ones."""
    reason = vote_reject_reason(
        decoded, latest_allowed=latest_allowed, oldest_allowed=oldest_allowed
    )
    checked = decoded.mutate(reason=reason)
    return checked.select(
        "file",
        "line_no",
        "reason",
        "record_id",
        "user_id",
        "song",
        "ts",
        raw=ibis.ifelse(checked.reason.isnull(), ibis.null("string"), escape_nul(checked.raw)),
    )


def validate_views(
    decoded: ir.Table,
    *,
    latest_allowed: datetime,
    oldest_allowed: datetime,
    contract_pattern: str,
    max_duration: int,
    mapping: Mapping[str, str],
) -> ir.Table:
    """Every decoded viewing event with its ``reason`` (null: valid), normalised ``mac`` and
    ``category``: the stream's checks first, then the content rules' (SPEC 2.1, 2.2)."""
    # The content rules read the content decoder's shape: a landed event is one clean line.
    t = decoded.mutate(
        blank=ibis.literal(False),
        too_long=ibis.literal(False),
        encoding_ok=ibis.literal(True),
        source_is_object=decoded.is_object,
    )
    content_reason = content_rules.reject_reason(
        t, contract_pattern=contract_pattern, max_duration=max_duration
    )
    time_checks = _time_checks(t, latest_allowed=latest_allowed, oldest_allowed=oldest_allowed)
    reason = ibis.cases(*_identity_checks(t), *time_checks, else_=content_reason)
    checked = t.mutate(reason=reason)
    return checked.select(
        "file",
        "line_no",
        "reason",
        "record_id",
        "ts",
        "contract",
        "app_name",
        "duration",
        mac=content_rules.normalise_mac(checked.mac),
        category=content_rules.app_category(checked.app_name, mapping),
        raw=ibis.ifelse(checked.reason.isnull(), ibis.null("string"), escape_nul(checked.raw)),
    )


@dataclass(frozen=True)
class Bounds:
    """The event-time bounds a micro-batch is validated with."""

    #: Later than this is ``future_timestamp`` (the processor's clock plus the tolerance).
    latest_allowed: datetime
    #: Earlier than this is ``too_old`` (the stream's clock minus the maximum age).
    oldest_allowed: datetime
    #: The stream's latest valid event time so far, this batch included (None: no event yet).
    clock: datetime | None
    #: The processor's clock when the batch began.
    now: datetime


def validate_stream(
    stream: str, decoded: ir.Table, *, bounds: Bounds, content: ContentConfig
) -> ir.Table:
    """:func:`validate_votes` (``votes``) or :func:`validate_views` (``events``)."""
    limits = {"latest_allowed": bounds.latest_allowed, "oldest_allowed": bounds.oldest_allowed}
    if stream == "votes":
        return validate_votes(decoded, **limits)
    return validate_views(
        decoded, **limits, contract_pattern=content.contract_pattern,
        max_duration=content.max_duration, mapping=content.app_categories,
    )  # fmt: skip


def first_occurrences(valid: ir.Table, seen: ir.Table) -> ir.Table:
    """Valid events whose id was never counted (``seen``: column ``record_id``), each id once:
    its first occurrence in landing order (file, then line)."""
    fresh = valid.anti_join(seen, "record_id")
    rank = ibis.row_number().over(
        group_by=fresh.record_id, order_by=[fresh.file.asc(), fresh.line_no.asc()]
    )
    return fresh.filter(rank == 0)


def song_totals(votes: ir.Table) -> ir.Table:
    """Votes per song (``song``, ``votes``)."""
    return votes.group_by("song").aggregate(votes=votes.count().cast("int64"))


def vote_seconds(votes: ir.Table, *, watermark: datetime) -> ir.Table:
    """Votes per song and second of event time, for events at or after the watermark (the
    window state; older events are in no window)."""
    recent = votes.filter(votes.ts >= ibis.literal(watermark, type="timestamp"))
    keyed = recent.mutate(second=recent.ts.truncate("s"))
    return keyed.group_by("song", "second").aggregate(votes=keyed.count().cast("int64"))


def usage_minutes(views: ir.Table) -> ir.Table:
    """Seconds watched and events per category and minute of event time (``live_usage``)."""
    keyed = views.mutate(minute=views.ts.truncate("m"))
    return keyed.group_by("category", "minute").aggregate(
        total_duration=keyed.duration.sum().cast("int64"),
        events=keyed.count().cast("int64"),
    )


def leaderboard(totals: ir.Table, seconds: ir.Table, *, clock: datetime | None) -> ir.Table:
    """``live_leaderboard``: every song with its total votes and its votes in the last 1 and 10
    minutes of event time (up to ``clock``, the latest event time), ranked by total votes, then
    by song.

    Args:
        totals: ``song, votes`` over every counted vote.
        seconds: ``song, second, votes`` since the watermark (:func:`vote_seconds`).
        clock: the stream's latest valid event time (None before the first vote).

    The window of width w holds the votes of the last w whole seconds of event time up to and
    including the clock's own second.
    """
    # Whole seconds of event time: the window of width w holds the votes of the last w seconds
    # up to and including the clock's own second (none before the first vote).
    reference = (clock or datetime(1970, 1, 1)).replace(microsecond=0)
    windows = {}
    for column, width in WINDOWS_S.items():
        start = ibis.literal(reference - timedelta(seconds=width), type="timestamp")
        inside = (seconds.second > start) & ibis.literal(clock is not None)
        windows[column] = ibis.ifelse(inside, seconds.votes, 0).sum().cast("int64")
    recent = seconds.group_by("song").aggregate(**windows)
    joined = totals.left_join(recent, "song")
    ranked = joined.select(
        song=joined.song,
        total_votes=joined.votes,
        **{column: joined[column].fill_null(0) for column in WINDOWS_S},
    )
    rank = ibis.row_number().over(order_by=[ranked.total_votes.desc(), ranked.song.asc()])
    return ranked.mutate(rank=(rank + 1).cast("int32")).select(
        "rank", "song", "total_votes", *WINDOWS_S
    )
