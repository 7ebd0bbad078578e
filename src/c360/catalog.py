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

#: Column descriptions, by column name (a name means the same thing in every table that has it).
COLUMNS: dict[str, str] = {
    "contract": "Customer contract id (2-letter province prefix, upper-case letters and digits).",
    "contract_key": "Surrogate key of the contract: first 60 bits of MD5(contract).",
    "device_key": "Surrogate key of the device: first 60 bits of MD5(mac), ~unknown when null.",
    "app_key": "Surrogate key of the app: first 60 bits of MD5(app_name).",
    "date_key": "Date as the integer YYYYMMDD.",
    "date": "Event date (from the daily file's name).",
    "mac": "Device MAC, 12 upper-case hex digits; null for an unusable MAC.",
    "app_name": "AppName as logged.",
    "category": "Content category of the app (Other: outside the five counted ones).",
    "truyen_hinh": "Seconds watched in Truyen Hinh (TV).",
    "phim_truyen": "Seconds watched in Phim Truyen (movies).",
    "giai_tri": "Seconds watched in Giai Tri (entertainment).",
    "thieu_nhi": "Seconds watched in Thieu Nhi (kids).",
    "the_thao": "Seconds watched in The Thao (sports).",
    "total_duration": "Seconds watched.",
    "records": "Log rows counted (after de-duplication).",
    "active_days": "Dates with at least one counted row.",
    "most_watch": "Category with the most seconds (ties: canonical order).",
    "taste": "Categories with seconds > 0, in canonical order, joined by '-'.",
    "activeness": "Five levels by active days: very low, low, moderate, high, very high.",
    "level_activeness": "Three levels by active days: Low, Medium, High.",
    "devices": "Distinct known devices.",
    "first_active": "First date with a counted row.",
    "last_active": "Last date with a counted row.",
    "recency_days": "Days from last_active to the window's last day.",
    "recency_score": "RFM recency score 1-4 (4 = most recent quartile).",
    "frequency_score": "RFM frequency score 1-4 from active_days quartiles.",
    "monetary_score": "RFM monetary score 1-4 from total_duration quartiles.",
    "customer_type": "IQR segment: leaving, need attention, normal, potential, loyal, vip,"
    " anomaly.",
    "province": "Province prefix of the contract (its first two letters).",
    "first_seen": "First date with any valid row.",
    "last_seen": "Last date with any valid row.",
    "is_known": "False for the ~unknown device standing for unusable MACs.",
    "contracts": "Distinct contracts.",
    "in_profile": "Whether the app's category counts in the customer profile.",
    "day_of_week": "ISO day of week, 1 = Monday.",
    "day_name": "Name of the day of week.",
    "week": "ISO week of the year.",
    "month": "Month number.",
    "year": "Year.",
    "is_weekend": "Saturday or Sunday.",
    "active_contracts": "Contracts with any valid row that day.",
    "profiled_contracts": "Contracts with a row in the five counted categories that day.",
    "rank": "Rank by seconds watched (ties by app name).",
    "file_date": "Date of the input file.",
    "source_file": "Input file name.",
    "line_no": "Physical line number in the input file (1-based).",
    "reason": "Quarantine reason code.",
    "raw": "The line as read.",
}
