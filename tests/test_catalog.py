"""Each table's contract in the catalog names real tables and columns, and the checks follow it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args

import duckdb
import ibis
import pytest

from c360.app import C360
from c360.catalog import (
    CATEGORISED_TABLES,
    DAILY_SUMMARY_TABLES,
    RECORD_TABLES,
    TABLES,
    Domain,
    TableSpec,
    domain_values,
    tables_in,
    tables_of,
)
from c360.config import C360Config, load_config
from c360.quality.checks import foreign_key_probes, table_probes

CONFIG = C360Config()


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The warehouse of one tiny generated run with search and the bridge: every table built."""
    root = tmp_path_factory.mktemp("catalog")
    generated = C360(config=load_config(env={})).generate(root / "raw", scale=0.002, days=2)
    # A few hundred rows a day: rates vary too much for the quality thresholds.
    C360(config=load_config(env={}, overrides={"quality.allow_failures": True})).run(
        generated.content_dir,
        warehouse=str(root / "w.duckdb"),
        lake=root / "lake",
        search=generated.search_dir,
        bridge=generated.bridge,
    )
    return root / "w.duckdb"


def _rows(path: Path, sql: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.sql(sql).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def columns(warehouse: Path) -> dict[str, list[str]]:
    """Column names of every built table."""
    sql = (
        "SELECT table_name, list(column_name ORDER BY ordinal_position) "
        "FROM information_schema.columns GROUP BY table_name"
    )
    return dict(_rows(warehouse, sql))


@pytest.fixture(scope="module")
def tables(warehouse: Path) -> Iterator[dict[str, ibis.Table]]:
    """The built catalog tables, as Ibis tables."""
    con = ibis.duckdb.connect(database=str(warehouse), read_only=True)
    yield {name: con.table(name) for name in TABLES}
    con.disconnect()


def _contract_columns(spec: TableSpec) -> set[str]:
    """Every column the spec names in its own table."""
    named = {*spec.primary_key, *spec.references, *spec.domains, *spec.non_negative}
    named |= {column for index in spec.indexes for column in index}
    return named | ({spec.partition_by} if spec.partition_by else set())


# -- the contract names real tables and columns ---------------------------------------------


@pytest.mark.slow
def test_every_catalog_table_is_built(columns: dict[str, list[str]]) -> None:
    assert set(TABLES) <= set(columns)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(TABLES))
def test_every_column_of_a_contract_is_a_column_of_its_table(
    name: str, columns: dict[str, list[str]]
) -> None:
    assert _contract_columns(TABLES[name]) <= set(columns[name])


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "column"), [(s.name, c) for s in TABLES.values() for c in s.references]
)
def test_every_reference_points_to_the_key_of_a_catalog_table(
    name: str, column: str, columns: dict[str, list[str]]
) -> None:
    parent, parent_column = TABLES[name].references[column]
    assert parent in TABLES and parent != name
    assert TABLES[parent].primary_key == (parent_column,)
    assert parent_column in columns[parent]


def test_contracts_declare_what_the_checks_held_tables_to() -> None:
    """The references, ranges, partitioning and per-day tables the checks used to list."""
    references = {
        (s.name, column): parent for s in TABLES.values() for column, parent in s.references.items()
    }
    assert references == {
        ("fact_usage", "contract_key"): ("dim_contract", "contract_key"),
        ("fact_usage", "device_key"): ("dim_device", "device_key"),
        ("fact_usage", "app_key"): ("dim_app", "app_key"),
        ("fact_usage", "date_key"): ("dim_date", "date_key"),
        ("customer_360", "contract"): ("customer_content_stats", "contract"),
        ("search_monthly_top", "most_search"): ("keyword_category", "keyword_norm"),
    }
    assert {s.name: s.non_negative for s in TABLES.values() if s.non_negative} == {
        "customer_content_stats": ("total_duration", "active_days", "recency_days", "devices"),
        "fact_usage": ("total_duration", "records"),
        "search_monthly_top": ("search_count",),
    }
    assert {s.name: s.partition_by for s in TABLES.values() if s.partition_by} == {
        "fact_usage": "date_key"
    }
    assert {s.name for s in TABLES.values() if s.per_window_day} == {
        "fact_usage", "daily_category_usage", "daily_app_usage", "daily_active_contracts",
        "dim_date", "quarantine_content", "search_quality", "quarantine_search",
    }  # fmt: skip


# -- value domains --------------------------------------------------------------------------


def test_every_domain_has_values_and_every_domain_is_used() -> None:
    values = domain_values(CONFIG)
    assert set(values) == set(get_args(Domain))
    assert all(values.values())
    used = {domain for spec in TABLES.values() for domain in spec.domains.values()}
    assert used == set(get_args(Domain))


def test_domains_come_from_the_rules_and_the_config() -> None:
    labels = ("none", "rare", "some", "often", "always")
    config = load_config(env={}, overrides={"profile.activeness_labels": labels})
    stats = TABLES["customer_content_stats"].allowed_values(config)
    assert stats["activeness"] == labels
    assert stats["level_activeness"] == ("Low", "Medium", "High")
    assert stats["most_watch"] == (
        "Truyen Hinh", "Phim Truyen", "Giai Tri", "Thieu Nhi", "The Thao",
    )  # fmt: skip
    assert TABLES["dim_app"].allowed_values(CONFIG)["category"] == (*stats["most_watch"], "Other")
    assert "Unknown" in TABLES["keyword_category"].allowed_values(CONFIG)["category"]
    assert TABLES["customer_search_stats"].allowed_values(CONFIG)["trending_type"] == (
        "Unchanged", "Changed", "New", "Lapsed",
    )  # fmt: skip
    assert TABLES["fact_usage"].allowed_values(CONFIG) == {}


# -- groups ---------------------------------------------------------------------------------


def test_groups_name_the_tables_runs_handle_together() -> None:
    assert RECORD_TABLES == ("pipeline_runs", "dq_results", "table_lineage")
    assert set(CATEGORISED_TABLES) == {
        "keyword_category", "search_monthly_top", "customer_search_stats",
    }  # fmt: skip
    assert DAILY_SUMMARY_TABLES == (
        "daily_category_usage", "daily_app_usage", "daily_active_contracts",
    )  # fmt: skip
    assert set(RECORD_TABLES) <= set(tables_of("run"))
    assert set(CATEGORISED_TABLES) <= set(tables_of("search"))
    assert set(DAILY_SUMMARY_TABLES) <= set(tables_of("content"))
    grouped = {spec.name for spec in TABLES.values() if spec.group}
    assert grouped == {*RECORD_TABLES, *CATEGORISED_TABLES, *DAILY_SUMMARY_TABLES}
    assert tables_in("records") == RECORD_TABLES


# -- checks derived from the contracts ------------------------------------------------------


@pytest.mark.slow
def test_one_foreign_key_probe_per_reference(tables: dict[str, ibis.Table]) -> None:
    probes = foreign_key_probes(tables)
    assert Counter(p.table_name for p in probes) == {
        s.name: len(s.references) for s in TABLES.values() if s.references
    }
    assert {(p.check, p.table_name, p.subject) for p in probes} == {
        ("foreign_key", s.name, f"{column} → {parent}")
        for s in TABLES.values()
        for column, (parent, _) in s.references.items()
    }
    # A reference whose parent is not at hand is not probed.
    assert foreign_key_probes({"fact_usage": tables["fact_usage"]}) == []


@pytest.mark.slow
@pytest.mark.parametrize("name", list(TABLES))
def test_one_probe_per_key_domain_and_range(name: str, tables: dict[str, ibis.Table]) -> None:
    spec = TABLES[name]
    probes = table_probes(name, tables[name], CONFIG)
    expected = [("primary_key", ", ".join(spec.primary_key))] if spec.primary_key else []
    expected += [("value_domain", column) for column in spec.domains]
    expected += [("value_domain", f"{column} >= 0") for column in spec.non_negative]
    # The one check that is not part of a contract: fact_usage's share of unknown devices.
    assert [(p.check, p.subject) for p in probes if p.check != "unknown_device_rate"] == expected


@pytest.mark.slow
def test_the_run_recorded_every_derived_check_and_each_passed(warehouse: Path) -> None:
    rows = _rows(
        warehouse,
        "SELECT check_name, table_name, subject, status FROM dq_results "
        "WHERE check_name IN ('foreign_key', 'value_domain')",
    )
    declared = {
        ("foreign_key", s.name, f"{column} → {parent}")
        for s in TABLES.values()
        for column, (parent, _) in s.references.items()
    }
    declared |= {
        ("value_domain", s.name, subject)
        for s in TABLES.values()
        for subject in (*s.domains, *(f"{column} >= 0" for column in s.non_negative))
    }
    assert {(check, name, subject) for check, name, subject, _ in rows} == declared
    assert len(rows) == len(declared)
    assert {status for *_, status in rows} == {"pass"}
