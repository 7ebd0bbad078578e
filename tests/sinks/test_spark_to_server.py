"""The Spark engine publishes into MariaDB and PostgreSQL through the same bulk sinks."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from _support import TOLERANT, write_known_days
from c360.app import C360
from c360.config import load_config

pytestmark = [pytest.mark.spark, pytest.mark.slow]


def test_spark_engine_tables_land_in_the_server_as_duckdb_computes_them(
    server: object, tmp_path: Path
) -> None:
    content = tmp_path / "in"
    write_known_days(content)
    spark = C360(config=load_config(env={}, overrides={"engine.name": "spark", **TOLERANT}))
    report = spark.run(content, warehouse=server.url, lake=tmp_path / "spark-lake")  # type: ignore[attr-defined]
    assert report.status == "succeeded"
    C360(config=load_config(env={}, overrides=TOLERANT)).run(
        content, warehouse=str(tmp_path / "duck.duckdb"), lake=tmp_path / "duck-lake"
    )
    con = duckdb.connect(str(tmp_path / "duck.duckdb"), read_only=True)
    try:
        for table, columns in (
            ("customer_content_stats", "contract, total_duration, active_days, most_watch, "
                                       "taste, recency_score, customer_type"),
            ("fact_usage", "date_key, contract_key, device_key, app_key, total_duration, records"),
            ("quarantine_content", "source_file, line_no, reason"),
        ):  # fmt: skip
            expected = sorted(con.sql(f"SELECT {columns} FROM {table}").fetchall())
            actual = server.rows(f"SELECT {columns} FROM {table}")  # type: ignore[attr-defined]
            assert sorted(tuple(r) for r in actual) == expected, table
            assert expected, table
    finally:
        con.close()
