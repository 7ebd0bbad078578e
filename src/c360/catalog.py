"""The output tables and their contracts, shared by every sink and by the data quality checks.

A :class:`TableSpec` is the whole contract of one table (as a SQLMesh model's meta is): its grain
and indexes, the keys it references, the values its columns may take, the columns that must not
be negative, how it is partitioned and whether its rows grow with the window. The checks of
:mod:`c360.quality.checks` are derived from it; the groups of tables that runs handle together
(:data:`RECORD_TABLES`, :data:`CATEGORISED_TABLES`, :data:`DAILY_SUMMARY_TABLES`) are read off it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from c360.config import C360Config

#: A named set of allowed values; :func:`domain_values` resolves each name with the config.
Domain = Literal[
    "activeness",
    "level",
    "customer_type",
    "content_category",
    "app_category",
    "keyword_genre",
    "rfm_score",
    "decision_source",
    "trending_type",
]
#: Tables that runs handle together: the run's own records, the tables that carry a keyword's
#: category (recomputed after a keyword classification), the daily summaries.
Group = Literal["records", "categorised", "daily_summary"]


def domain_values(config: C360Config) -> dict[Domain, tuple[object, ...]]:
    """The allowed values of every :data:`Domain` under ``config``.

    The values are those of the rules and the config, imported here rather than at the top:
    the rules load Ibis, which a sink that only reads table names and keys does not need.
    """
    from c360.config import CATEGORIES, OTHER_CATEGORY, SEARCH_CATEGORIES
    from c360.rules.content import CUSTOMER_TYPES, LEVELS
    from c360.rules.keywords import UNKNOWN
    from c360.rules.search import TRENDING_TYPES

    content = tuple(name for name, _ in CATEGORIES)
    return {
        "activeness": config.profile.activeness_labels,
        "level": LEVELS,
        "customer_type": CUSTOMER_TYPES,
        "content_category": content,
        "app_category": (*content, OTHER_CATEGORY),
        "keyword_genre": (*SEARCH_CATEGORIES, UNKNOWN),
        "rfm_score": (1, 2, 3, 4),
        "decision_source": ("mapping", "llm", "model", "rule"),
        "trending_type": TRENDING_TYPES,
    }


@dataclass(frozen=True)
class TableSpec:
    """The contract of one table: what a sink needs to create it well and what the checks hold
    its rows to."""

    name: str
    description: str
    #: The grain: columns that identify a row (each table's primary key check).
    primary_key: tuple[str, ...] = ()
    indexes: tuple[tuple[str, ...], ...] = ()
    layer: str = "gold"
    #: Which part of a run produces it: "content", "search" (with --search) or "run" (always).
    source: str = "content"
    #: What it is made from: other tables, or lake layers such as ``bronze/content``.
    inputs: tuple[str, ...] = ()
    #: Foreign keys: column → (table, column) whose values it must be among.
    references: Mapping[str, tuple[str, str]] = field(default_factory=dict, hash=False)
    #: Column → the domain of its allowed values (null is allowed where the rules produce it).
    domains: Mapping[str, Domain] = field(default_factory=dict, hash=False)
    #: Columns that must not be negative.
    non_negative: tuple[str, ...] = ()
    #: The column whose every value is one partition of the stored table (None: one file).
    partition_by: str | None = None
    #: Whether its rows grow with the window's length (row drift is then measured per day).
    per_window_day: bool = False
    #: The group of tables it is handled with, if any.
    group: Group | None = None
    #: A table whose rows are this table's rows one for one, with these columns among its own
    #: (built from this table's file in the same run). A warehouse publishing both may expose
    #: this one as a view of that one instead of storing its rows twice (D103).
    projected_by: str | None = None

    def allowed_values(self, config: C360Config) -> dict[str, tuple[object, ...]]:
        """Column → its allowed values under ``config``, for the columns with a domain."""
        if not self.domains:
            return {}
        values = domain_values(config)
        return {column: values[domain] for column, domain in self.domains.items()}


TABLES: dict[str, TableSpec] = {
    spec.name: spec
    for spec in (
        TableSpec(
            "customer_content_stats",
            "One row per contract: seconds per category, activeness, taste, RFM and segment.",
            primary_key=("contract",),
            inputs=("bronze/content",),
            domains={
                "activeness": "activeness",
                "level_activeness": "level",
                "customer_type": "customer_type",
                "most_watch": "content_category",
                "recency_score": "rfm_score",
                "frequency_score": "rfm_score",
                "monetary_score": "rfm_score",
            },
            non_negative=("total_duration", "active_days", "recency_days", "devices"),
            projected_by="customer_360",
        ),
        TableSpec(
            "fact_usage",
            "Viewing facts, grain date x contract x device x app: seconds and records.",
            indexes=(("date_key",), ("contract_key",)),
            inputs=("bronze/content",),
            references={
                "contract_key": ("dim_contract", "contract_key"),
                "device_key": ("dim_device", "device_key"),
                "app_key": ("dim_app", "app_key"),
                "date_key": ("dim_date", "date_key"),
            },
            non_negative=("total_duration", "records"),
            partition_by="date_key",
            per_window_day=True,
        ),
        TableSpec(
            "dim_contract",
            "Contracts: province prefix, first/last seen, known devices.",
            primary_key=("contract_key",),
            indexes=(("contract",),),
            inputs=("bronze/content",),
        ),
        TableSpec(
            "dim_device",
            "Devices by normalised MAC.",
            primary_key=("device_key",),
            inputs=("bronze/content",),
        ),
        TableSpec(
            "dim_app",
            "Apps and their content category.",
            primary_key=("app_key",),
            inputs=("bronze/content",),
            domains={"category": "app_category"},
        ),
        TableSpec(
            "dim_date",
            "Calendar of the window.",
            primary_key=("date_key",),
            inputs=("bronze/content",),
            per_window_day=True,
        ),
        TableSpec(
            "daily_category_usage",
            "Per day and category: seconds, records, active contracts.",
            primary_key=("date", "category"),
            inputs=("bronze/content",),
            domains={"category": "app_category"},
            per_window_day=True,
            group="daily_summary",
        ),
        TableSpec(
            "daily_app_usage",
            "Per day and app: seconds, records, active contracts.",
            primary_key=("date", "app_name"),
            inputs=("bronze/content",),
            per_window_day=True,
            group="daily_summary",
        ),
        TableSpec(
            "daily_active_contracts",
            "Per day: active contracts and contracts counted in the profile.",
            primary_key=("date",),
            inputs=("bronze/content",),
            per_window_day=True,
            group="daily_summary",
        ),
        TableSpec(
            "top_apps",
            "Apps ranked by seconds watched in the window.",
            primary_key=("app_name",),
            inputs=("bronze/content",),
        ),
        TableSpec(
            "quarantine_content",
            "Invalid content rows of the window: file, line, reason and raw text.",
            indexes=(("reason",), ("file_date",)),
            layer="quality",
            inputs=("bronze/content",),
            per_window_day=True,
        ),
        TableSpec(
            "customer_360",
            "Per contract: the content profile and, through the bridge, the search profile.",
            primary_key=("contract",),
            indexes=(("user_id",),),
            inputs=("customer_content_stats", "customer_search_stats", "reference/bridge"),
            references={"contract": ("customer_content_stats", "contract")},
        ),
        TableSpec(
            "search_monthly_top",
            "Per user and month (YYYY-MM): the most searched keyword, its count and category.",
            primary_key=("user_id", "month"),
            source="search",
            inputs=("bronze/search", "keyword_category"),
            references={"most_search": ("keyword_category", "keyword_norm")},
            domains={"category": "keyword_genre"},
            non_negative=("search_count",),
            group="categorised",
        ),
        TableSpec(
            "keyword_category",
            "Per normalised keyword: its genre, the source that decided it, confidence, version.",
            primary_key=("keyword_norm",),
            source="search",
            inputs=("bronze/search", "reference/mapping", "state/keyword_answers"),
            domains={"category": "keyword_genre", "source": "decision_source"},
            group="categorised",
        ),
        TableSpec(
            "customer_search_stats",
            "Per user seen in the previous or current month: top keywords, categories, change.",
            primary_key=("user_id",),
            source="search",
            inputs=("search_monthly_top",),
            domains={
                "category_prev": "keyword_genre",
                "category_curr": "keyword_genre",
                "trending_type": "trending_type",
            },
            group="categorised",
        ),
        TableSpec(
            "search_quality",
            "Per folder date: search rows by reason they are not counted, and clock skews.",
            primary_key=("file_date", "reason"),
            layer="quality",
            source="search",
            inputs=("bronze/search",),
            per_window_day=True,
        ),
        TableSpec(
            "quarantine_search",
            "Junk search rows of the window: file, row, reason and the raw values.",
            indexes=(("reason",), ("file_date",)),
            layer="quality",
            source="search",
            inputs=("bronze/search",),
            per_window_day=True,
        ),
        TableSpec(
            "ingested_files",
            "Input files ingested into the lake: size, checksum, rows accepted/rejected, run id.",
            primary_key=("source", "name"),
            layer="state",
            source="run",
        ),
        TableSpec(
            "pipeline_runs",
            "One row per run: window, inputs, rows in and out, timings, status.",
            primary_key=("run_id",),
            layer="state",
            source="run",
            group="records",
        ),
        TableSpec(
            "dq_results",
            "Data quality checks of every run: observed value, threshold, severity, status.",
            indexes=(("run_id",), ("status",)),
            layer="state",
            source="run",
            group="records",
        ),
        TableSpec(
            "table_lineage",
            "Per run: each table and lake layer with the inputs it was made from.",
            indexes=(("run_id",), ("table_name",)),
            layer="state",
            source="run",
            group="records",
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
    "month": "Month: its number in dim_date; YYYY-MM of the effective date in search tables.",
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
    "user_id": "Search user id (digits, leading zeros kept).",
    "most_search": "Most searched normalised keyword (ties: latest search, then keyword).",
    "search_count": "Searches of that keyword by the user in the month.",
    "keyword_norm": "Keyword: NFC, whitespace collapsed, trimmed, lower-cased.",
    "source": "Who decided the category: mapping, llm, model or rule (null: nobody yet).",
    "confidence": "Confidence of the decision, 0-1.",
    "version": "Model or prompt version that decided it.",
    "decided_at": "When it was decided (UTC, ISO 8601).",
    "previous_month": "The earlier month compared (YYYY-MM).",
    "current_month": "The later month compared (YYYY-MM).",
    "most_search_prev": "Top keyword in the previous month.",
    "category_prev": "Its category.",
    "most_search_curr": "Top keyword in the current month.",
    "category_curr": "Its category.",
    "trending_type": "Unchanged, Changed, New (current month only) or Lapsed (previous only).",
    "category_change": "Unchanged, or '<previous> -> <current>' (None for a missing month).",
    "event_id": "eventID of the search event.",
    "keyword": "Keyword as logged.",
    "datetime": "Event time as logged.",
    "run_id": "Run id (UTC start time and a random suffix).",
    "stage": "Pipeline stage after which the check ran.",
    "check_name": "Data quality check.",
    "table_name": "Table, input or lake layer concerned.",
    "subject": "Column, key, file or day the value is about.",
    "observed": "Measured value (shares as fractions: 0.05 = 5 %).",
    "threshold": "Largest value that passes.",
    "severity": "fail (stops the run before publishing) or warn.",
    "status": "Outcome: pass, warn, fail or skipped; for a run: succeeded, failed, interrupted.",
    "message": "The check's result in one line.",
    "checked_at": "When the check ran (UTC).",
    "input_kind": "file, folder, layer or table.",
    "input_name": "Path of the input file or folder, or name of the table or layer.",
}


def tables_of(source: str) -> list[str]:
    """Names of the tables a part of a run produces (``content``, ``search`` or ``run``)."""
    return [name for name, spec in TABLES.items() if spec.source == source]


def tables_in(group: Group) -> tuple[str, ...]:
    """Names of the tables of a group, in catalog order.

    >>> tables_in("daily_summary")
    ('daily_category_usage', 'daily_app_usage', 'daily_active_contracts')
    """
    return tuple(name for name, spec in TABLES.items() if spec.group == group)


#: The run's own records (published with every run, even one stopped by a check).
RECORD_TABLES = tables_in("records")
#: The tables that carry a keyword's category: recomputed after a keyword classification.
CATEGORISED_TABLES = tables_in("categorised")
#: The daily summaries, built per date of the window beside the fact's partitions.
DAILY_SUMMARY_TABLES = tables_in("daily_summary")
