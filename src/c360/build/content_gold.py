"""Content gold: the star schema, the customer profile, the daily summaries and the quarantine,
from the window's totals and per-date files (:mod:`c360.build.content_dates`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from c360.build.content_dates import FACT, build_content_dates, fact_partition
from c360.build.gold import write_gold
from c360.catalog import DAILY_SUMMARY_TABLES
from c360.context import CONTENT
from c360.rules import content as content_rules
from c360.rules import star
from c360.sinks.base import Partitioned

if TYPE_CHECKING:
    from c360.context import RunContext


def build_content_gold(ctx: RunContext) -> None:
    """Every content table of the window, written to gold and named in ``ctx.outputs``."""
    report, engine, lake = ctx.report, ctx.engine, ctx.lake
    result = build_content_dates(ctx)
    report.dates_built = result.dates_built
    report.totals_mode = result.totals_mode
    ctx.reporter.info(
        f"{result.dates_built} of {len(result.fact)} dates built, totals {result.totals_mode}, "
        f"{result.repeated_ids} id hashes on more than one date"
    )
    window_end = ctx.windows[CONTENT].last
    steps = 10  # 4 dimensions, profile, 3 daily summaries, top apps, quarantine
    ctx.reporter.stage("gold", total=steps)
    for name in DAILY_SUMMARY_TABLES:
        write_gold(ctx, name, engine.read_parquet(result.daily[name]))
    contracts, pairs = (
        engine.read_parquet([result.totals[name]]) for name in ("contract_totals", "device_pairs")
    )
    mapping = ctx.config.content.app_categories
    days = engine.read_parquet([lake.gold("daily_active_contracts")])
    daily_apps = engine.read_parquet([lake.gold("daily_app_usage")])
    app_contracts = engine.read_parquet([result.totals["app_contracts"]])
    tables = {
        "dim_contract": star.dim_contract(contracts, pairs),
        "dim_device": star.dim_device(pairs),
        "dim_app": star.dim_app(daily_apps, mapping),
        "dim_date": star.dim_date(days),
        "customer_content_stats": content_rules.profile_contracts(
            contracts, pairs, window_end=window_end, profile=ctx.config.profile
        ),
        "top_apps": star.top_apps(daily_apps, app_contracts),
    }
    for name, expr in tables.items():
        rows_written = write_gold(ctx, name, expr)
        if name == "customer_content_stats":
            report.contracts_profiled = rows_written
    ctx.outputs[FACT] = Partitioned(
        "date_key", {fact_partition(day): path for day, path in result.fact.items()}
    )
    ctx.fresh[FACT] = [fact_partition(day) for day in result.built]
    usage_days = engine.read_parquet([lake.gold("daily_category_usage")])
    kept = engine.to_pyarrow(usage_days.aggregate(n=usage_days.records.sum()))
    report.duplicates = report.rows_accepted - int(kept.column("n")[0].as_py() or 0)
    _quarantine(ctx)


def _quarantine(ctx: RunContext) -> None:
    """The window's quarantined lines, and how many of each reason."""
    engine, lake = ctx.engine, ctx.lake
    paths = [
        lake.bronze(CONTENT, ctx.ledger.records[(CONTENT, name)].file_date, name)
        for name in ctx.report.input_files
    ]
    bronze = engine.read_parquet(paths, line_numbers=True)
    write_gold(ctx, "quarantine_content", content_rules.quarantined_rows(bronze), quiet=True)
    quarantine = engine.read_parquet([lake.gold("quarantine_content")])
    reasons = engine.to_pyarrow(quarantine.group_by("reason").aggregate(rows=quarantine.count()))
    ctx.report.quarantine_reasons = {str(r["reason"]): int(r["rows"]) for r in reasons.to_pylist()}
    ctx.reporter.advance("quarantine_content")
