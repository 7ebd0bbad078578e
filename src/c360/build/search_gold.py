"""Search gold: keyword genres, each user's top keyword per month and the taste change between
the last two months, from the window's search bronze (SPEC 2.5–2.6).

Search logs are small (~5 MB a day), so the window's tables are recomputed whole from bronze,
which keeps ``eventID`` de-duplication across days and month boundaries exact. After a keyword
classification, :func:`recategorise` recomputes only the tables that carry a genre.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import ibis
import pyarrow as pa

from c360.build.gold import write_gold
from c360.catalog import CATEGORISED_TABLES
from c360.context import SEARCH
from c360.enrich.store import Answer, AnswerStore
from c360.errors import InputError
from c360.io.reference import read_keyword_labels
from c360.lake.ledger import read_json_state, write_json_atomic
from c360.rules import keywords as keyword_rules
from c360.rules import search as search_rules

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from c360.context import RunContext
    from c360.engines.base import Engine
    from c360.lake.layout import LakeLayout


def build_search_gold(ctx: RunContext) -> None:
    """Every search table of the window, written to gold and named in ``ctx.outputs``."""
    engine, lake, request = ctx.engine, ctx.lake, ctx.request
    report = ctx.report.search
    assert report is not None  # set by the search source
    window = ctx.windows[SEARCH]
    bronze = engine.read_parquet([lake.bronze(SEARCH, day) for day in window.dates])
    losers = engine.materialize(search_rules.duplicate_event_losers(bronze), "search_losers")
    searches = engine.materialize(search_rules.counted_searches(bronze, losers), "counted_searches")
    # Compared: the last two months of the day folders, not of the effective dates (a
    # window's last day spills a few searches into the next month).
    previous, current = _last_two(tuple(sorted({f"{d:%Y-%m}" for d in window.dates})))
    mapping = read_keyword_labels(request.mapping) if request.mapping else {}
    decided = decisions(mapping, stored_answers(lake))
    _categorised(
        ctx.engine, lake, searches, decided, search_rules.monthly_top(searches),
        previous=previous, current=current,
    )  # fmt: skip
    ctx.outputs.update({name: lake.gold(name) for name in CATEGORISED_TABLES})
    write_json_atomic({"previous": previous, "current": current}, lake.search_months)
    top = engine.read_parquet([lake.gold("search_monthly_top")])
    months = engine.to_pyarrow(top.select("month").distinct().order_by("month"))
    report.months = tuple(str(m) for m in months.column("month").to_pylist())

    write_gold(ctx, "search_quality", search_quality(bronze, losers), quiet=True)
    quarantine = search_rules.quarantined_searches(bronze)
    write_gold(ctx, "quarantine_search", quarantine, quiet=True)

    totals = engine.to_pyarrow(
        searches.aggregate(n=searches.count(), users=searches.user_id.nunique())
    ).to_pylist()[0]
    report.searches_counted, report.users = int(totals["n"]), int(totals["users"])
    quality = engine.read_parquet([lake.gold("search_quality")])
    skipped_rows = engine.to_pyarrow(quality.group_by("reason").aggregate(rows=quality.rows.sum()))
    report.skipped = {str(r["reason"]): int(r["rows"]) for r in skipped_rows.to_pylist()}
    report.duplicates = report.skipped.get("duplicate_event", 0)
    ctx.inputs["state/keyword_answers"] = [("lake file", lake.relative(lake.keyword_answers))]
    if request.mapping is not None:
        ctx.inputs["reference/mapping"] = [("file", str(request.mapping.resolve()))]


def recategorise(engine: Engine, lake: LakeLayout, *, mapping: dict[str, str]) -> list[str]:
    """Recompute the category columns of the last run's search tables from the stored
    answers; ``mapping`` (see :func:`mapped_keywords`) still decides first. Returns the
    tables rewritten."""
    months = read_json_state(lake.search_months)
    paths = [lake.gold("keyword_category"), lake.gold("search_monthly_top")]
    if not months or not all(p.exists() for p in paths):
        raise InputError(
            f"no search tables in the lake {lake.root}; run `c360 run --search DIR` first"
        )
    keywords = engine.materialize(
        engine.read_parquet([paths[0]]).select("keyword_norm"), "keywords_seen"
    )
    top = engine.materialize(engine.read_parquet([paths[1]]).drop("category"), "monthly_top_seen")
    _categorised(
        engine, lake, keywords, decisions(mapping, stored_answers(lake)), top,
        previous=str(months["previous"]), current=str(months["current"]),
    )  # fmt: skip
    return list(CATEGORISED_TABLES)


def _categorised(
    engine: Engine,
    lake: LakeLayout,
    searches: ir.Table,
    decided: ir.Table,
    top: ir.Table,
    *,
    previous: str,
    current: str,
) -> None:
    """The tables that carry a keyword's category: ``keyword_category``,
    ``search_monthly_top`` and ``customer_search_stats``."""
    categories_path = lake.gold("keyword_category")
    engine.write_parquet(keyword_rules.keyword_categories(searches, decided), categories_path)
    categories = engine.read_parquet([categories_path])
    top_path = lake.gold("search_monthly_top")
    engine.write_parquet(search_rules.with_categories(top, categories), top_path)
    top = engine.read_parquet([top_path])
    stats = search_rules.taste_change(top, previous=previous, current=current)
    engine.write_parquet(stats, lake.gold("customer_search_stats"))


def decisions(mapping: dict[str, str], answers: list[Answer]) -> ir.Table:
    """One decision per keyword: the user's mapping first, then stored classifier answers."""
    now = datetime.now(UTC).isoformat(timespec="seconds")
    decided = {a.keyword: a for a in answers}
    decided.update({k: Answer(k, c, "mapping", 1.0, "mapping", now) for k, c in mapping.items()})
    rows = list(decided.values())
    return ibis.memtable(
        pa.table(
            {
                "keyword": pa.array([a.keyword for a in rows], pa.string()),
                "category": pa.array([a.category for a in rows], pa.string()),
                "source": pa.array([a.source for a in rows], pa.string()),
                "confidence": pa.array([a.confidence for a in rows], pa.float64()),
                "version": pa.array([a.version for a in rows], pa.string()),
                "decided_at": pa.array([a.decided_at for a in rows], pa.string()),
            }
        )
    )


def mapped_keywords(engine: Engine, lake: LakeLayout) -> dict[str, str]:
    """The keywords the user's mapping decided in the last run (kept in ``keyword_category``)."""
    path = lake.gold("keyword_category")
    if not path.exists():
        return {}
    table = engine.read_parquet([path])
    mapped = table.filter(table.source == "mapping").select("keyword_norm", "category")
    rows = engine.to_pyarrow(mapped).to_pylist()
    return {str(r["keyword_norm"]): str(r["category"]) for r in rows}


def stored_answers(lake: LakeLayout) -> list[Answer]:
    """Every classifier answer kept in the lake."""
    path: Path = lake.keyword_answers
    if not path.exists():
        return []
    store = AnswerStore(path)
    try:
        return store.all()
    finally:
        store.close()


def keyword_frequencies(engine: Engine, lake: LakeLayout) -> list[str]:
    """Counted keywords of every ingested search day, most searched first (ties by keyword)."""
    days = lake.bronze_files(SEARCH)
    if not days:
        raise InputError(
            f"no search logs in the lake {lake.root}; run `c360 run --search DIR` first"
        )
    rows = engine.read_parquet(days)
    counted = rows.filter(rows.skip_reason.isnull())
    ranked = counted.group_by("keyword_norm").aggregate(n=counted.count())
    ranked = ranked.order_by([ibis.desc("n"), "keyword_norm"]).select("keyword_norm")
    return [str(k) for k in engine.to_pyarrow(ranked).column(0).to_pylist()]


def search_quality(rows: ir.Table, losers: ir.Table) -> ir.Table:
    """Per folder date and reason: rows not counted as a user's search (and clock skews)."""
    marked = rows.left_join(losers.mutate(_dup=True), ["source_file", "line_no"])
    reason = ibis.ifelse(marked._dup.notnull(), "duplicate_event", marked.skip_reason)
    labelled = marked.select(file_date=marked.file_date, reason=reason.fill_null("counted"))
    per_reason = labelled.group_by("file_date", "reason").aggregate(
        rows=labelled.count().cast("int64")
    )
    skews = (
        rows.filter(rows.clock_skew)
        .group_by("file_date")
        .aggregate(rows=lambda t: t.count().cast("int64"))
    )
    return per_reason.union(
        skews.mutate(reason=ibis.literal("clock_skew")).select("file_date", "reason", "rows")
    )


def _last_two(months: tuple[str, ...]) -> tuple[str, str]:
    """The previous and current month: the last two present (one month: compared to none)."""
    if not months:
        return "", ""
    if len(months) == 1:
        return "", months[0]
    return months[-2], months[-1]
