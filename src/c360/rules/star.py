"""The warehouse star schema and the summaries a dashboard needs (SPEC 2.4).

``usage`` is the de-duplicated valid rows aggregated to the fact grain (date × contract × device
× app) with their natural keys; ``fact_usage`` and the daily summaries derive from it day by day.
The contract and device dimensions derive from the window totals of ``rules.totals``;
``top_apps`` from the daily app summaries and the window's (app, contract) pairs. Surrogate keys
are a function of the natural key, so a fact row and its dimension member agree without a join.
"""

from __future__ import annotations

from collections.abc import Mapping

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from c360.config import CATEGORIES
from c360.rules._keys import date_key, surrogate_key, with_surrogate_key
from c360.rules.content import app_category

#: Columns of the usage table every other table derives from.
USAGE_COLUMNS = ("date", "contract", "mac", "app_name", "total_duration", "records")


def usage(rows: ir.Table) -> ir.Table:
    """De-duplicated valid rows aggregated to the fact grain, with natural keys."""
    keys = {"date": rows.file_date, "contract": rows.contract, "mac": rows.mac}
    grouped = rows.group_by(**keys, app_name=rows.app_name)
    return grouped.aggregate(
        total_duration=rows.duration.sum().cast("int64"),
        records=rows.count().cast("int64"),
    )


def fact_usage(usage: ir.Table) -> ir.Table:
    """Keys and measures only: date, contract, device and app keys; seconds and records.

    Keys are computed from the natural keys with the same function the dimensions use, so each
    day's fact partition is computed on its own. Contracts and devices are nearly unique per
    row, so their keys are computed row by row; the dozen app names get theirs once each and
    are joined (measured on a 1.6 M-line day: 0.55 s → 0.40 s for the partition).
    """
    names = usage.select("app_name").distinct()
    apps = names.select(_app=names.app_name, app_key=surrogate_key(names.app_name))
    joined = usage.join(apps, usage.app_name == apps._app)
    return joined.select(
        date_key=date_key(joined.date),
        contract_key=surrogate_key(joined.contract),
        device_key=surrogate_key(joined.mac),
        app_key=joined.app_key,
        total_duration=joined.total_duration,
        records=joined.records,
    )


def dim_contract(contracts: ir.Table, pairs: ir.Table) -> ir.Table:
    """One row per contract seen in any valid row (including apps outside the five categories).

    Args:
        contracts: ``totals.contract_totals`` of the window.
        pairs: ``totals.device_pairs`` of the window.
    """
    known = pairs.filter(pairs.mac.notnull())
    devices = known.group_by("contract").aggregate(devices=known.count().cast("int64"))
    seen = contracts.select("contract", "first_seen", "last_seen")
    joined = seen.left_join(devices, "contract").drop("contract_right")
    keyed = with_surrogate_key(joined, "contract", name="contract_key")
    return keyed.select(
        "contract_key",
        "contract",
        province=keyed.contract.left(2),
        first_seen=keyed.first_seen,
        last_seen=keyed.last_seen,
        devices=keyed.devices.fill_null(0),
    )


def dim_device(pairs: ir.Table) -> ir.Table:
    """One row per device; the ``~unknown`` member (null ``mac``) stands for unusable Macs.

    Args:
        pairs: ``totals.device_pairs`` of the window (one row per contract and device).
    """
    per_device = pairs.group_by("mac").aggregate(
        first_seen=pairs.first_seen.min(),
        last_seen=pairs.last_seen.max(),
        contracts=pairs.count().cast("int64"),
    )
    keyed = with_surrogate_key(per_device, "mac", name="device_key")
    return keyed.select(
        "device_key",
        "mac",
        is_known=keyed.mac.notnull(),
        first_seen=keyed.first_seen,
        last_seen=keyed.last_seen,
        contracts=keyed.contracts,
    )


def dim_app(usage: ir.Table, mapping: Mapping[str, str]) -> ir.Table:
    """Every app in the mapping or in the data, with its category and whether it is counted.

    Args:
        usage: any table of the window with an ``app_name`` column (the daily app summaries).
        mapping: app name → category.
    """
    # An Arrow table, not a dict: a dict memtable goes through pandas (a 1-2 s import).
    mapped = ibis.memtable(pa.table({"app_name": pa.array(list(mapping), pa.string())}))
    names = usage.select("app_name").distinct().union(mapped, distinct=True)
    category = app_category(names.app_name, mapping)
    counted = [name for name, _ in CATEGORIES]
    described = names.mutate(category=category, in_profile=category.isin(counted))
    keyed = with_surrogate_key(described, "app_name", name="app_key")
    return keyed.select("app_key", "app_name", "category", "in_profile")


def dim_date(usage: ir.Table) -> ir.Table:
    """One row per date present in the window's usage."""
    days = usage.select(day=usage.date).distinct()
    d = days.day
    weekday = d.day_of_week.index()  # 0 = Monday
    return days.select(
        date_key=date_key(d),
        date=d,
        day_of_week=(weekday + 1).cast("int8"),  # ISO: 1 = Monday … 7 = Sunday
        day_name=d.day_of_week.full_name(),
        week=d.week_of_year().cast("int8"),
        month=d.month().cast("int8"),
        year=d.year().cast("int16"),
        is_weekend=weekday >= 5,
    )


def with_category(usage: ir.Table, mapping: Mapping[str, str]) -> ir.Table:
    """Usage with each app's category, for the summaries and the profile."""
    return usage.mutate(category=app_category(usage.app_name, mapping))


def daily_category_usage(usage_cat: ir.Table) -> ir.Table:
    """Per day and category: seconds, records and active contracts."""
    return _daily(usage_cat, ("date", "category"))


def daily_app_usage(usage_cat: ir.Table) -> ir.Table:
    """Per day and app: seconds, records and active contracts."""
    return _daily(usage_cat, ("date", "app_name", "category"))


def _daily(usage_cat: ir.Table, by: tuple[str, ...]) -> ir.Table:
    """Seconds, records and distinct contracts per ``by`` group, in one aggregation (measured on
    a 1.6 M-line day: 0.11 s, against 0.15 s for totals and distinct pairs joined)."""
    return usage_cat.group_by(*by).aggregate(
        total_duration=usage_cat.total_duration.sum().cast("int64"),
        records=usage_cat.records.sum().cast("int64"),
        contracts=usage_cat.contract.nunique().cast("int64"),
    )


def daily_active_contracts(contract_days: ir.Table) -> ir.Table:
    """Per day: contracts with any valid row, and those with a row in the five categories.

    Args:
        contract_days: ``totals.contract_day_totals`` (one row per contract and date, with
            ``active_days`` 1 when the contract has a counted row that date): a few integer sums
            over rows the build computes anyway, instead of another pass over the usage grain.
    """
    return contract_days.group_by("date").aggregate(
        active_contracts=contract_days.count().cast("int64"),
        profiled_contracts=contract_days.active_days.sum().cast("int64"),
    )


def top_apps(daily_apps: ir.Table, app_contracts: ir.Table) -> ir.Table:
    """Apps ranked by watched seconds over the window (ties by name).

    Seconds and records add up from the daily summaries; the distinct contracts of each app
    are a count of the window's (app, contract) pairs, a total kept up to date from the fact's
    integer keys (a new day merges its partition in: 0.9 s on an SF1 month, against 1.9 s for a
    distinct count over the window's 33 M fact rows).

    Args:
        daily_apps: :func:`daily_app_usage` of the window's dates.
        app_contracts: ``totals.app_contracts`` of the window.
    """
    agg = daily_apps.group_by("app_name", "category").aggregate(
        total_duration=daily_apps.total_duration.sum().cast("int64"),
        records=daily_apps.records.sum().cast("int64"),
    )
    reach = app_contracts.group_by("app_key").aggregate(
        contracts=app_contracts.count().cast("int64")
    )
    keyed = with_surrogate_key(agg, "app_name", name="_app_key")
    joined = keyed.join(reach, keyed._app_key == reach.app_key)
    ranked = joined.select("app_name", "category", "total_duration", "records", "contracts")
    rank = ibis.row_number().over(order_by=[ranked.total_duration.desc(), ranked.app_name.asc()])
    return ranked.mutate(rank=(rank + 1).cast("int32"))
