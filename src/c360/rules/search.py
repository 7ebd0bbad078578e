"""Search rules (SPEC 2.5–2.6): event times, keywords, counted searches, monthly top, taste change.

The input of :func:`normalise_search` is the *decoded* table every engine's reader produces from
the raw Parquet parts (see :data:`DECODED_COLUMNS`): every value as text, plus where it came from.
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis
import ibis.expr.types as ir

from c360.rules._text import MAX_TEXT, escape_nul, storable
from c360.rules.keywords import UNKNOWN

#: Columns the engines' search readers must produce, one row per Parquet row.
DECODED_COLUMNS: dict[str, str] = {
    "source_file": "string",  # day folder / part file name
    "file_date": "date",  # the folder's date (YYYYMMDD)
    "line_no": "int64",  # 1-based row position in the part file
    "event_id": "string",
    "datetime": "string",
    "user_id": "string",
    "keyword": "string",
    "category": "string",  # enter / quit: how the search box was left (not a genre)
    "platform": "string",
    "network_type": "string",
    "action": "string",
}

#: Search log column → the decoded column every engine's reader turns it into (as text).
SOURCE_COLUMNS: dict[str, str] = {
    "eventID": "event_id",
    "datetime": "datetime",
    "user_id": "user_id",
    "keyword": "keyword",
    "category": "category",
    "platform": "platform",
    "networkType": "network_type",
    "action": "action",
}

#: Non-ASCII decimal digits met in the logs (Persian, Arabic-Indic, Bengali) and their values.
FOREIGN_DIGITS = "۰۱۲۳۴۵۶۷۸۹" + "٠١٢٣٤٥٦٧٨٩" + "০১২৩৪৫৬৭৮৯"
ASCII_DIGITS = "0123456789" * 3
#: Date, time, 1–9 fraction digits and an optional 12-hour marker (AM/PM, Vietnamese SA/CH).
DATETIME_PATTERN = (
    r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})[ T]+(\d{1,2}):(\d{1,2}):(\d{1,2})"
    r"(?:[.,](\d{1,9}))?\s*(AM|PM|SA|CH)?\s*$"
)
#: The shape most rows have, which a plain cast reads exactly (no Buddhist year: 0000–2399).
USUAL_PATTERN = r"^([01]\d{3}|2[0-3]\d{2})-\d{2}-\d{2} ([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,6})?$"
#: Thai Buddhist years are 543 ahead; a year above this one is taken as Buddhist.
BUDDHIST_FROM = 2400
BUDDHIST_OFFSET = 543
#: Name of the engine's Unicode NFC function (defined in every engine's session).
NFC_FUNCTION = "c360_nfc"

#: Why a row is not counted as a user's search (null: it is counted).
SKIP_REASONS = (
    "duplicate_event",
    "no_keyword",
    "no_letters",
    "placeholder",
    "guest",
    "bad_user_id",
    "keyword_too_long",
)
#: Skip reasons that mark a row as junk (quarantined), not merely as "not a user's search".
JUNK = ("bad_user_id", "no_letters", "keyword_too_long")


@ibis.udf.scalar.builtin(name=NFC_FUNCTION)  # type: ignore[untyped-decorator]
def _nfc(value: str) -> str:  # type: ignore[empty-body]
    """Unicode NFC normalisation, computed by the engine."""


def with_event_time(table: ir.Table, column: str, *, name: str = "parsed_time") -> ir.Table:
    """``table`` plus ``name``: every datetime shape of SPEC 1.2 in ``column`` as a timestamp,
    null when it cannot be read.

    Non-ASCII digits become ASCII, Buddhist years lose 543, 12-hour clocks (AM/PM, SA/CH in any
    case) become 24-hour, fractions keep microseconds. Impossible values (month 13, 30 February,
    13 PM, 24:00) are null. Computed in stages (each a projection over the previous one), so each
    regular expression runs once per row instead of being repeated in one huge expression.
    """
    text = table[column]
    shaped = table.mutate(
        _dt=text.translate(FOREIGN_DIGITS, ASCII_DIGITS).upper(),
        # The usual shape (ASCII digits, 24-hour clock, year before 2400) is read by one cast.
        _usual=text.re_search(USUAL_PATTERN).fill_null(False),
    )
    parts = shaped.mutate(
        **{f"_p{i}": shaped._dt.re_extract(DATETIME_PATTERN, i).nullif("") for i in range(1, 9)}
    )
    year = parts._p1.cast("int64")
    hour = parts._p4.cast("int64")
    pm = parts._p8.isin(["PM", "CH"])
    numbers = parts.mutate(
        _year=ibis.ifelse(year > BUDDHIST_FROM, year - BUDDHIST_OFFSET, year),
        _hour=ibis.cases(
            (parts._p8.isnull() & hour.between(0, 23), hour),
            (parts._p8.notnull() & hour.between(0, 11), ibis.ifelse(pm, hour + 12, hour)),
            (parts._p8.notnull() & (hour == 12), ibis.ifelse(pm, 12, 0)),
            else_=ibis.null("int64"),
        ),
    )

    def pad(value: ir.Value, width: int) -> ir.StringValue:
        return value.cast("string").lpad(width, "0")

    n = numbers
    iso = (
        pad(n._year, 4) + "-" + pad(n._p2, 2) + "-" + pad(n._p3, 2) + " " + pad(n._hour, 2)
        + ":" + pad(n._p5, 2) + ":" + pad(n._p6, 2) + "."
        + n._p7.fill_null("0").substr(0, 6).rpad(6, "0")
    )  # fmt: skip
    # try_cast: an impossible calendar date is null, not an error.
    parsed = ibis.ifelse(n._usual, n[column].try_cast("timestamp"), iso.try_cast("timestamp"))
    helpers = ["_dt", "_usual", "_year", "_hour", *(f"_p{i}" for i in range(1, 9))]
    return n.mutate(**{name: parsed}).drop(*helpers)


def normalise_keyword(keyword: ir.StringValue) -> ir.StringValue:
    """NFC; runs of whitespace, Unicode spaces and control characters become one space; trimmed;
    lower-cased; an empty result is null."""
    # Trimmed by a regex, not strip(): Ibis writes strip() for Spark as TRIM(' \t\n\r\v\f' …),
    # whose \v and \f Spark SQL reads as the letters v and f. After the collapse only a single
    # space can be left at either end.
    collapsed = _nfc(keyword).re_replace(r"[\s\p{Z}\p{Cc}]+", " ").re_replace(r"^ | $", "")
    return collapsed.lower().nullif("")


def normalise_search(
    decoded: ir.Table, *, user_pattern: str, placeholders: Sequence[str]
) -> ir.Table:
    """Every decoded row with its event time, effective date, normalised keyword and verdict.

    Adds ``event_time`` (the parsed time; the folder's day at 00:00 when unparseable or skewed),
    ``effective_date``, ``clock_skew``, ``keyword_norm``, ``user_ok`` and ``skip_reason`` (null
    when the row is a counted search; a duplicate ``eventID`` is decided later, across days).
    """
    t = with_event_time(decoded, "datetime", name="_parsed")
    parsed = t._parsed
    folder_start = t.file_date.cast("timestamp")
    offset = parsed.date().delta(t.file_date, unit="day")
    near = parsed.notnull() & (offset.abs() <= 1)
    keyword_norm = normalise_keyword(t.keyword)
    marks = [p.lower() for p in placeholders]
    user_ok = (t.user_id.re_search(user_pattern) & storable(t.user_id)).fill_null(False)
    skip = ibis.cases(
        (keyword_norm.isnull(), "no_keyword"),
        (~keyword_norm.re_search(r"[\p{L}\p{N}]"), "no_letters"),
        (keyword_norm.isin(marks), "placeholder"),
        (t.user_id.isnull(), "guest"),
        (~user_ok, "bad_user_id"),
        # Longer than a warehouse's key column (a pasted paragraph, not a search).
        (keyword_norm.length() > MAX_TEXT, "keyword_too_long"),
        else_=ibis.null("string"),
    )
    return t.mutate(
        event_time=ibis.ifelse(near, parsed, folder_start),
        effective_date=ibis.ifelse(near, parsed.date(), t.file_date),
        clock_skew=~near,
        keyword_norm=keyword_norm,
        user_ok=user_ok,
        skip_reason=skip,
    ).drop("_parsed")


def duplicate_event_losers(rows: ir.Table) -> ir.Table:
    """Rows to drop as repeats of an ``event_id``: all but the earliest event time, then the
    smallest ``keyword_norm``, then the smallest ``user_id`` (then file and position, so the
    choice is total). Returns ``source_file, line_no``."""
    with_id = rows.filter(rows.event_id.notnull())
    counts = with_id.group_by("event_id").aggregate(_n=with_id.count())
    repeated = counts.filter(counts._n > 1).select("event_id")
    candidates = with_id.semi_join(repeated, "event_id")
    order = [
        candidates.event_time.asc(nulls_first=False),
        candidates.keyword_norm.asc(nulls_first=False),
        candidates.user_id.asc(nulls_first=False),
        candidates.file_date.asc(),
        candidates.source_file.asc(),
        candidates.line_no.asc(),
    ]
    rank = ibis.row_number().over(group_by=candidates.event_id, order_by=order)
    return candidates.filter(rank > 0).select("source_file", "line_no")


def counted_searches(rows: ir.Table, losers: ir.Table) -> ir.Table:
    """The searches that count for a user profile: usable keyword, valid user, not a repeat."""
    kept = rows.anti_join(losers, ["source_file", "line_no"])
    counted = kept.filter(kept.skip_reason.isnull())
    return counted.select(
        "user_id",
        "keyword_norm",
        "event_time",
        month=counted.effective_date.strftime("%Y-%m"),
    )


def monthly_top(searches: ir.Table) -> ir.Table:
    """Per user and month: the most searched keyword (SPEC 2.6) and its count.

    Ties go to the keyword searched most recently, then to the smallest ``keyword_norm``.
    """
    per_keyword = searches.group_by("user_id", "month", "keyword_norm").aggregate(
        search_count=searches.count().cast("int64"),
        last_search=searches.event_time.max(),
    )
    order = [
        per_keyword.search_count.desc(),
        per_keyword.last_search.desc(),
        per_keyword.keyword_norm.asc(),
    ]
    rank = ibis.row_number().over(group_by=["user_id", "month"], order_by=order)
    top = per_keyword.filter(rank == 0)
    return top.select(
        "user_id", "month", most_search=top.keyword_norm, search_count=top.search_count
    )


def with_categories(top: ir.Table, categories: ir.Table) -> ir.Table:
    """Each top keyword's category from ``keyword_category``; ``Unknown`` when none decided yet."""
    c = categories.select(_keyword="keyword_norm", _category="category")
    joined = top.left_join(c, top.most_search == c._keyword)
    return joined.select(
        *[joined[name] for name in top.columns],
        category=joined._category.fill_null(UNKNOWN),
    )


#: ``trending_type`` values (null: a category is still Unknown).
TRENDING_TYPES = ("Unchanged", "Changed", "New", "Lapsed")


def taste_change(top: ir.Table, *, previous: str, current: str) -> ir.Table:
    """``customer_search_stats``: each user seen in either month, with both months' top keyword
    and category, ``trending_type`` and ``category_change``.

    ``trending_type`` is null when the user searched in both months but a category is still
    ``Unknown``: whether the genre changed cannot be told yet.
    """
    prev = top.filter(top.month == previous).select(
        user_id=top.user_id, most_search_prev=top.most_search, category_prev=top.category
    )
    curr = top.filter(top.month == current).select(
        _user=top.user_id, most_search_curr=top.most_search, category_curr=top.category
    )
    joined = prev.outer_join(curr, prev.user_id == curr._user)
    user = joined.user_id.fill_null(joined._user)
    had_prev, has_curr = joined.most_search_prev.notnull(), joined.most_search_curr.notnull()
    same = joined.category_prev == joined.category_curr
    undecided = joined.category_prev.isin([UNKNOWN]) | joined.category_curr.isin([UNKNOWN])
    trending = ibis.cases(
        # Whether an unclassified keyword's genre changed is not known: null, not a guess.
        (had_prev & has_curr & undecided.fill_null(False), ibis.null("string")),
        (had_prev & has_curr & same, "Unchanged"),
        (had_prev & has_curr, "Changed"),
        (has_curr, "New"),
        else_="Lapsed",
    )
    change = ibis.ifelse(
        (trending == "Unchanged").fill_null(False),
        "Unchanged",
        joined.category_prev.fill_null("None") + " -> " + joined.category_curr.fill_null("None"),
    )
    return joined.select(
        user_id=user,
        previous_month=ibis.literal(previous),
        current_month=ibis.literal(current),
        most_search_prev=joined.most_search_prev,
        category_prev=joined.category_prev,
        most_search_curr=joined.most_search_curr,
        category_curr=joined.category_curr,
        trending_type=trending,
        category_change=change,
    )


def quarantined_searches(rows: ir.Table) -> ir.Table:
    """Junk rows (:data:`JUNK`) with their raw values (each NUL escaped) and reason."""
    junk = rows.filter(rows.skip_reason.isin(JUNK))
    return junk.select(
        "file_date", "source_file", "line_no", reason=junk.skip_reason,
        event_id=escape_nul(junk.event_id), user_id=escape_nul(junk.user_id),
        keyword=escape_nul(junk.keyword), datetime=escape_nul(junk.datetime),
    )  # fmt: skip
