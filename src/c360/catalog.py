"""The output tables: names, keys, indexes and descriptions, shared by every sink."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TableSpec:
    """What a sink needs to create a table well."""

    name: str
    description: str
    primary_key: tuple[str, ...] = ()
    indexes: tuple[tuple[str, ...], ...] = ()
    layer: str = "gold"


TABLES: dict[str, TableSpec] = {
    spec.name: spec
    for spec in (
        TableSpec(
            "customer_content_stats",
            "One row per contract: seconds per category, activeness, taste, RFM and segment.",
            primary_key=("contract",),
            indexes=(("customer_type",), ("last_active",)),
        ),
        TableSpec(
            "fact_usage",
            "Viewing facts, grain date x contract x device x app: seconds and records.",
            indexes=(("date_key",), ("contract_key",)),
        ),
        TableSpec(
            "dim_contract",
            "Contracts: province prefix, first/last seen, known devices.",
            primary_key=("contract_key",),
            indexes=(("contract",),),
        ),
        TableSpec("dim_device", "Devices by normalised MAC.", primary_key=("device_key",)),
        TableSpec("dim_app", "Apps and their content category.", primary_key=("app_key",)),
        TableSpec("dim_date", "Calendar of the window.", primary_key=("date_key",)),
        TableSpec(
            "daily_category_usage",
            "Per day and category: seconds, records, active contracts.",
            primary_key=("date", "category"),
        ),
        TableSpec(
            "daily_app_usage",
            "Per day and app: seconds, records, active contracts.",
            primary_key=("date", "app_name"),
        ),
        TableSpec(
            "daily_active_contracts",
            "Per day: active contracts and contracts counted in the profile.",
            primary_key=("date",),
        ),
        TableSpec(
            "top_apps", "Apps ranked by seconds watched in the window.", primary_key=("app_name",)
        ),
        TableSpec(
            "quarantine_content",
            "Invalid content rows of the window: file, line, reason and raw text.",
            indexes=(("reason",), ("file_date",)),
            layer="quality",
        ),
        TableSpec(
            "ingested_files",
            "Input files ingested into the lake: size, checksum, rows accepted/rejected, run id.",
            primary_key=("source", "name"),
            layer="state",
        ),
        TableSpec(
            "pipeline_runs",
            "One row per run: window, inputs, rows in and out, timings, status.",
            primary_key=("run_id",),
            layer="state",
        ),
    )
}
