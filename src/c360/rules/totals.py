"""Window totals that merge day by day (SPEC 2.3–2.4).

Each function here has a *partial* form, computed from the usage grain of any set of days, and a
*merge* that combines partials of disjoint sets of days into the partial of their union: sums add,
first/last dates take min/max, flags OR. The pipeline computes each day's partials once, when the
day's usage is built, and merges them into window totals: all days on a cold run, only the new
days on top of the previous totals when a day is added. The profile and the dimensions are then
computed from the totals (millions of rows) instead of the usage grain (tens of millions).
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from c360.config import CATEGORIES

#: The five counted categories, in canonical order.
COUNTED = tuple(name for name, _ in CATEGORIES)
#: Per-category seconds columns of the contract totals, in canonical order.
CATEGORY_COLUMNS = tuple(column for _, column in CATEGORIES)


def contract_day_totals(usage_cat: ir.Table) -> ir.Table:
    """Contract totals per contract *and date*: the merge layout plus ``date``.

    Without ``date``, one date's rows already are that date's :func:`contract_totals` (one row
    per contract), in one aggregation; the pipeline stores them as the per-date partial.
    """
    t = usage_cat.select("contract", "date", "category", "total_duration")
    counted = t.category.isin(COUNTED)
    per_day = t.group_by("contract", "date").aggregate(
        **{
            column: ibis.ifelse(t.category == name, t.total_duration, 0).sum().cast("int64")
            for name, column in CATEGORIES
        },
        other_duration=ibis.ifelse(counted, 0, t.total_duration).sum().cast("int64"),
        _active=counted.any(),
    )
    active_date = ibis.ifelse(per_day._active, per_day.date, ibis.null("date"))
    return per_day.select(
        "date",
        "contract",
        *CATEGORY_COLUMNS,
        "other_duration",
        active_days=per_day._active.cast("int64"),
        first_active=active_date,
        last_active=active_date,
        first_seen=per_day.date,
        last_seen=per_day.date,
    )


def contract_totals(usage_cat: ir.Table) -> ir.Table:
    """Per contract: seconds per category, active days, first/last active and seen dates.

    Args:
        usage_cat: usage with its category (``contract``, ``date``, ``category``,
            ``total_duration``).

    Returns:
        ``contract``, the five category columns, ``other_duration`` (apps outside the five),
        ``active_days`` (dates with a counted row), ``first_active``/``last_active`` (null when
        none) and ``first_seen``/``last_seen`` (any valid row).
    """
    # Contract-day first: active days are then a plain sum of flags, not a distinct count.
    return merge_contract_totals(contract_day_totals(usage_cat))


def merge_contract_totals(parts: ir.Table) -> ir.Table:
    """Contract totals of disjoint day sets (stacked) → the totals of their union."""
    return parts.group_by("contract").aggregate(
        **{column: parts[column].sum().cast("int64") for column in CATEGORY_COLUMNS},
        other_duration=parts.other_duration.sum().cast("int64"),
        active_days=parts.active_days.sum().cast("int64"),
        first_active=parts.first_active.min(),
        last_active=parts.last_active.max(),
        first_seen=parts.first_seen.min(),
        last_seen=parts.last_seen.max(),
    )


def device_pairs(usage_cat: ir.Table) -> ir.Table:
    """Each (contract, device) pair seen, with whether it has a counted row and when it was seen.

    ``mac`` is null for rows whose Mac was unusable (the unknown device).
    """
    t = usage_cat.select("contract", "mac", "date", "category")
    return t.group_by("contract", "mac").aggregate(
        counted=t.category.isin(COUNTED).any(),
        first_seen=t.date.min(),
        last_seen=t.date.max(),
    )


def device_day_pairs(usage_cat: ir.Table) -> ir.Table:
    """:func:`device_pairs` per date, plus ``date``: the per-date partial."""
    t = usage_cat.select("contract", "mac", "date", "category")
    return t.group_by("date", "contract", "mac").aggregate(
        counted=t.category.isin(COUNTED).any(), first_seen=t.date.min(), last_seen=t.date.max()
    )


def merge_device_pairs(parts: ir.Table) -> ir.Table:
    """Device pairs of disjoint day sets (stacked) → the pairs of their union."""
    return parts.group_by("contract", "mac").aggregate(
        counted=parts.counted.any(),
        first_seen=parts.first_seen.min(),
        last_seen=parts.last_seen.max(),
    )


def app_contracts(fact: ir.Table) -> ir.Table:
    """Each (app, contract) pair of ``fact`` rows (``fact_usage`` of any set of days, or such
    pairs of disjoint day sets, stacked): its own partial and merge. The distinct contracts of an
    app over the window (``top_apps``) are then a count over a few million integer pairs, and a new
    day merges its fact partition in, instead of a distinct count over the window's fact rows."""
    return fact.select("app_key", "contract_key").distinct()


#: Partial → merge, by the name the pipeline stores each total under.
MERGES = {
    "contract_totals": merge_contract_totals,
    "device_pairs": merge_device_pairs,
}
#: Totals whose per-date partial is the date's ``fact_usage`` partition itself: name → merge.
FACT_MERGES = {"app_contracts": app_contracts}
