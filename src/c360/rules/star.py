"""The warehouse star schema and the summaries a dashboard needs (SPEC 2.4)."""

from __future__ import annotations

from collections.abc import Mapping

import ibis
import ibis.expr.types as ir

from c360.config import CATEGORIES, OTHER_CATEGORY
from c360.rules._keys import UNKNOWN, date_key, surrogate_key
from c360.rules.content import app_category


def fact_usage(rows: ir.Table) -> ir.Table:
    """Grain: date × contract × device × app, from de-duplicated valid rows.

    Measures: ``total_duration`` (seconds) and ``records`` (rows). ``mac`` is kept next to its key
    so the rest of the model can be derived from the fact without going back to the rows.
    """
    grouped = rows.group_by("file_date", "contract", "mac", "app_name").aggregate(
        total_duration=rows.duration.sum().cast("int64"),
        records=rows.count().cast("int64"),
    )
    return grouped.select(
        date_key=date_key(grouped.file_date),
        contract_key=surrogate_key(grouped.contract),
        device_key=surrogate_key(grouped.mac),
        app_key=surrogate_key(grouped.app_name),
        date=grouped.file_date,
        contract=grouped.contract,
        mac=grouped.mac,
        app_name=grouped.app_name,
        total_duration=grouped.total_duration,
        records=grouped.records,
    )


def dim_contract(fact: ir.Table) -> ir.Table:
    """One row per contract seen in any valid row (including apps outside the five categories)."""
    agg = fact.group_by("contract_key", "contract").aggregate(
        first_seen=fact.date.min(),
        last_seen=fact.date.max(),
        devices=fact.mac.nunique().cast("int64"),
    )
    return agg.select(
        "contract_key",
        "contract",
        province=agg.contract.left(2),
        first_seen=agg.first_seen,
        last_seen=agg.last_seen,
        devices=agg.devices,
    )


def dim_device(fact: ir.Table) -> ir.Table:
    """One row per device key; the ``~unknown`` member (null ``mac``) stands for unusable Macs."""
    agg = fact.group_by("device_key", "mac").aggregate(
        first_seen=fact.date.min(),
        last_seen=fact.date.max(),
        contracts=fact.contract.nunique().cast("int64"),
    )
    return agg.select(
        "device_key", "mac", is_known=agg.mac.notnull(), first_seen=agg.first_seen,
        last_seen=agg.last_seen, contracts=agg.contracts,
    )  # fmt: skip


def dim_app(fact: ir.Table, mapping: Mapping[str, str]) -> ir.Table:
    """Every app in the mapping or in the data, with its category and whether it is counted."""
    mapped = ibis.memtable({"app_name": list(mapping)}, schema={"app_name": "string"})
    names = fact.select("app_name").distinct().union(mapped, distinct=True)
    category = app_category(names.app_name, mapping)
    counted = [name for name, _ in CATEGORIES]
    return names.select(
        app_key=surrogate_key(names.app_name),
        app_name=names.app_name,
        category=category,
        in_profile=category.isin(counted),
    )


def dim_date(fact: ir.Table) -> ir.Table:
    """One row per date present in the window's facts."""
    days = fact.select(day=fact.date).distinct()
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


def with_category(fact: ir.Table, mapping: Mapping[str, str]) -> ir.Table:
    """The fact with each app's category, for the summaries and the profile."""
    return fact.mutate(category=app_category(fact.app_name, mapping))


def daily_category_usage(fact_cat: ir.Table) -> ir.Table:
    """Per day and category: seconds, records and active contracts."""
    return fact_cat.group_by("date", "category").aggregate(
        total_duration=fact_cat.total_duration.sum().cast("int64"),
        records=fact_cat.records.sum().cast("int64"),
        contracts=fact_cat.contract.nunique().cast("int64"),
    )


def daily_app_usage(fact_cat: ir.Table) -> ir.Table:
    """Per day and app: seconds, records and active contracts."""
    return fact_cat.group_by("date", "app_name", "category").aggregate(
        total_duration=fact_cat.total_duration.sum().cast("int64"),
        records=fact_cat.records.sum().cast("int64"),
        contracts=fact_cat.contract.nunique().cast("int64"),
    )


def daily_active_contracts(fact_cat: ir.Table) -> ir.Table:
    """Per day: contracts with any valid row, and those with a row in the five categories."""
    counted = [name for name, _ in CATEGORIES]
    return fact_cat.group_by("date").aggregate(
        active_contracts=fact_cat.contract.nunique().cast("int64"),
        profiled_contracts=fact_cat.contract.nunique(where=fact_cat.category.isin(counted)).cast(
            "int64"
        ),
    )


def top_apps(fact_cat: ir.Table) -> ir.Table:
    """Apps ranked by watched seconds over the window (ties by name)."""
    agg = fact_cat.group_by("app_name", "category").aggregate(
        total_duration=fact_cat.total_duration.sum().cast("int64"),
        records=fact_cat.records.sum().cast("int64"),
        contracts=fact_cat.contract.nunique().cast("int64"),
    )
    rank = ibis.row_number().over(order_by=[agg.total_duration.desc(), agg.app_name.asc()])
    return agg.mutate(rank=(rank + 1).cast("int32"))


__all__ = [
    "OTHER_CATEGORY",
    "UNKNOWN",
    "daily_active_contracts",
    "daily_app_usage",
    "daily_category_usage",
    "dim_app",
    "dim_contract",
    "dim_date",
    "dim_device",
    "fact_usage",
    "top_apps",
    "with_category",
]
