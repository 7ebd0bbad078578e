"""The questions the API answers, each a parameterised query on one snapshot.

Every function takes the :class:`~c360.serving.snapshot.Snapshot` of one request and returns plain
values (dicts, lists); the API shell turns them into its response models. Aggregates are computed
here, in the snapshot's database, never in the browser.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from functools import cache
from typing import Any

import pyarrow as pa

from c360.config import CATEGORIES
from c360.errors import InputError, NotFoundError
from c360.rules.content import STATS_COLUMNS
from c360.rules.unified import SEARCH_COLUMNS
from c360.serving.snapshot import Snapshot

#: The profile's columns by part of the answer: seconds per category, the scores, the segment,
#: and the content profile (the rest of ``customer_content_stats``).
SECONDS_COLUMNS = tuple(column for _, column in CATEGORIES)
SCORE_COLUMNS = ("recency_days", "recency_score", "frequency_score", "monetary_score")
CONTENT_COLUMNS = tuple(
    c
    for c in STATS_COLUMNS
    if c not in {"contract", "customer_type", *SECONDS_COLUMNS, *SCORE_COLUMNS}
)


def profile_of(row: dict[str, Any]) -> dict[str, Any]:
    """The API's profile of a ``customer_360`` row."""
    search = {c: row.get(c) for c in SEARCH_COLUMNS}
    return {
        "contract": row["contract"],
        "seconds_by_category": {
            name: int(row[column] or 0) for name, column in CATEGORIES if column in row
        },
        **{c: row.get(c) for c in CONTENT_COLUMNS},
        "scores": {c: row.get(c) for c in SCORE_COLUMNS},
        "segment": row.get("customer_type"),
        "user_id": row.get("user_id"),
        "search": search if row.get("user_id") is not None else None,
    }


def profile_json(profile: dict[str, Any]) -> str:
    """A profile as compact JSON text: how the API answers it and the online store keeps it."""

    def plain(value: Any) -> Any:
        if isinstance(value, date | datetime):
            return value.isoformat()
        raise TypeError(f"cannot write {type(value).__name__} as JSON")

    return json.dumps(profile, default=plain, ensure_ascii=False, separators=(",", ":"))


def customer(snapshot: Snapshot, contract: str) -> dict[str, Any]:
    """One contract's profile: content, scores, segment and (through the bridge) search."""
    row = snapshot.profile_row(contract)
    if row is None:
        raise NotFoundError(f"no customer with contract {contract!r} in the served run")
    return profile_of(row)


def user(snapshot: Snapshot, user_id: str) -> dict[str, Any]:
    """A search user's profile and the contracts the bridge maps to it."""
    search = None
    if snapshot.has("customer_search_stats"):
        found = snapshot.rows("SELECT * FROM customer_search_stats WHERE user_id = ?", [user_id])
        search = {c: found[0].get(c) for c in SEARCH_COLUMNS} if found else None
    contracts = snapshot.rows(
        "SELECT * FROM customer_360 WHERE user_id = ? ORDER BY contract", [user_id]
    )
    if search is None and not contracts:
        raise NotFoundError(f"no user {user_id!r} in the served run")
    return {
        "user_id": user_id,
        "search": search,
        "customers": [profile_of(row) for row in contracts],
    }


def distribution(snapshot: Snapshot, column: str) -> list[dict[str, Any]]:
    """Customers and hours per value of a profile column (segment, activeness, level)."""
    return snapshot.rows(
        f'SELECT "{column}" AS value, count(*) AS customers, '
        "round(sum(total_duration) / 3600.0, 1) AS hours "
        f'FROM customer_360 GROUP BY "{column}" ORDER BY customers DESC, value'
    )


def rf_grid(snapshot: Snapshot) -> list[dict[str, Any]]:
    """Customers per recency score × frequency score (the R×F heat map)."""
    return snapshot.rows(
        "SELECT recency_score AS recency, frequency_score AS frequency, count(*) AS customers "
        "FROM customer_360 WHERE recency_score IS NOT NULL AND frequency_score IS NOT NULL "
        "GROUP BY ALL ORDER BY recency, frequency"
    )


def _cursor(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        padded = value + "=" * (-len(value) % 4)
        return base64.b64decode(padded, altchars=b"-_", validate=True).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError) as exc:
        raise InputError(f"cursor {value!r} is not one this API gave") from exc


def _next_cursor(contract: str) -> str:
    return base64.urlsafe_b64encode(contract.encode("utf-8")).decode("ascii").rstrip("=")


def segment_members(
    snapshot: Snapshot, segment: str, *, limit: int, cursor: str | None
) -> dict[str, Any]:
    """Contracts of a segment in contract order, ``limit`` at a time; ``next_cursor`` asks for
    the following page (None at the end)."""
    after = _cursor(cursor)
    params: list[object] = [segment]
    sql = (
        "SELECT contract, total_duration, active_days, activeness, recency_days "
        "FROM customer_360 WHERE customer_type = ?"
    )
    if after is not None:
        sql += " AND contract > ?"
        params.append(after)
    rows = snapshot.rows(sql + " ORDER BY contract LIMIT ?", [*params, limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "segment": segment,
        "customers": rows,
        "next_cursor": _next_cursor(rows[-1]["contract"]) if more and rows else None,
    }


def top_apps(snapshot: Snapshot, *, limit: int) -> list[dict[str, Any]]:
    """Apps by hours watched in the window."""
    return snapshot.rows(
        "SELECT * FROM top_apps ORDER BY total_duration DESC, app_name LIMIT ?", [limit]
    )


def usage(snapshot: Snapshot, *, start: date | None, end: date | None) -> list[dict[str, Any]]:
    """Hours, records and active contracts per day and category."""
    sql, params = "SELECT * FROM daily_category_usage WHERE TRUE", []
    if start is not None:
        sql += " AND date >= ?"
        params.append(start)
    if end is not None:
        sql += " AND date <= ?"
        params.append(end)
    return snapshot.rows(sql + " ORDER BY date, category", list(params))


def search_trends(snapshot: Snapshot, *, month: str | None, limit: int) -> dict[str, Any]:
    """One month's top keywords and genre shares (default: the latest month), and the
    taste-change flows previous → current genre."""
    if not snapshot.has("search_monthly_top"):
        raise NotFoundError("the served run has no search tables (run with --search)")
    months = [
        r["month"]
        for r in snapshot.rows("SELECT DISTINCT month FROM search_monthly_top ORDER BY month")
    ]
    if month is None:
        month = months[-1] if months else None
    elif month not in months:
        raise NotFoundError(f"no search month {month!r} in the served run (months: {months})")
    keywords = snapshot.rows(
        "SELECT most_search AS keyword, any_value(category) AS category, count(*) AS users, "
        "sum(search_count) AS searches FROM search_monthly_top WHERE month = ? "
        "GROUP BY most_search ORDER BY users DESC, searches DESC, keyword LIMIT ?",
        [month, limit],
    )
    genres = snapshot.rows(
        "SELECT coalesce(category, 'Unknown') AS genre, count(*) AS users, "
        "round(count(*) / sum(count(*)) OVER (), 4) AS share FROM search_monthly_top "
        "WHERE month = ? GROUP BY ALL ORDER BY users DESC, genre",
        [month],
    )
    flows = snapshot.rows(
        "SELECT coalesce(category_prev, 'None') AS source, "
        "coalesce(category_curr, 'None') AS target, count(*) AS users "
        "FROM customer_search_stats GROUP BY ALL ORDER BY users DESC, source, target"
    )
    return {"months": months, "month": month, "keywords": keywords, "genres": genres,
            "flows": flows}  # fmt: skip


@cache
def _normalise_sql() -> str:
    """The search rules' keyword normalisation, compiled for DuckDB over ``_keyword(k)``."""
    import ibis

    from c360.rules.search import normalise_keyword

    typed = ibis.table({"k": "string"}, name="_keyword")
    return str(ibis.to_sql(typed.select(norm=normalise_keyword(typed.k)), dialect="duckdb"))


def keyword(snapshot: Snapshot, text: str) -> dict[str, Any]:
    """A keyword's genre, as classified (the keyword is normalised by the search rules)."""
    if not snapshot.has("keyword_category"):
        raise NotFoundError("the served run has no search tables (run with --search)")
    found = snapshot.rows(f"WITH _keyword AS (SELECT ?::VARCHAR AS k) {_normalise_sql()}", [text])
    norm = found[0]["norm"] if found else None
    if norm is None:
        raise NotFoundError(f"keyword {text!r} is empty once normalised: never searched")
    rows = snapshot.rows("SELECT * FROM keyword_category WHERE keyword_norm = ?", [norm])
    if not rows:
        raise NotFoundError(f"keyword {text!r} ({norm!r}) was not searched in the window")
    return rows[0]


def runs(snapshot: Snapshot, *, limit: int) -> list[dict[str, Any]]:
    """Past runs, newest first."""
    return snapshot.rows("SELECT * FROM pipeline_runs ORDER BY started_at DESC LIMIT ?", [limit])


def checks(snapshot: Snapshot, run_id: str | None) -> dict[str, Any]:
    """One run's checks (default: the latest run), failures first."""
    run_id = run_id or snapshot.run_id
    known = snapshot.rows("SELECT run_id FROM pipeline_runs WHERE run_id = ?", [run_id])
    if not known:
        raise NotFoundError(f"no run {run_id!r} in the served warehouse")
    rows = snapshot.rows(
        "SELECT * FROM dq_results WHERE run_id = ? ORDER BY CASE status WHEN 'fail' THEN 0 "
        "WHEN 'warn' THEN 1 WHEN 'skipped' THEN 2 ELSE 3 END, stage, check_name, subject",
        [run_id],
    )
    return {"run_id": run_id, "checks": rows}


def quarantine(snapshot: Snapshot) -> list[dict[str, Any]]:
    """Quarantined rows of the latest window, per source and reason."""
    parts = []
    for source in ("content", "search"):
        table = f"count_quarantine_{source}"
        if snapshot.has(table):
            parts.append(f"SELECT '{source}' AS source, reason, rows FROM {table}")
    if not parts:
        return []
    return snapshot.rows(" UNION ALL ".join(parts) + " ORDER BY source, rows DESC, reason")


def live(tables: Mapping[str, pa.Table], *, limit: int, minutes: int) -> dict[str, Any]:
    """The live answer from the published live tables: the best ``limit`` songs, the last
    ``minutes`` of usage up to the latest minute, and the last batch with its age and rate."""
    board = tables["live_leaderboard"].sort_by("rank").slice(0, limit).to_pylist()
    batches = tables["live_batches"].sort_by("batch_id").to_pylist()
    usage = tables["live_usage"]
    rows = usage.to_pylist()
    if rows:
        last = max(r["minute"] for r in rows)
        rows = [r for r in rows if (last - r["minute"]).total_seconds() < minutes * 60]
    batch = None
    if batches:
        latest = batches[-1]
        committed = latest["committed_at"].replace(tzinfo=UTC)
        recent = batches[-10:]
        span = (recent[-1]["committed_at"] - recent[0]["committed_at"]).total_seconds()
        rate = sum(b["lines"] for b in recent[1:]) / span if span > 0 else None
        batch = {
            "batch_id": latest["batch_id"],
            "committed_at": committed,
            "age_s": max(0.0, (datetime.now(UTC) - committed).total_seconds()),
            "clock": latest["clock"],
            "events_per_s": rate,
            "events": latest["lines_total"],
            "counted": latest["counted_total"],
            "duplicates": latest["duplicates_total"],
            "quarantined": latest["quarantined_total"],
        }
    return {"batch": batch, "leaderboard": board, "usage": rows}
