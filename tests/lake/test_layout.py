"""The lake's layout (``c360.lake.layout``): every path a run writes is one the layout names."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from _support import write_known_days
from c360.app import C360
from c360.config import load_config
from c360.lake.layout import LakeLayout

D1 = date(2022, 4, 1)


def test_paths_by_what_they_hold(tmp_path: Path) -> None:
    lake = LakeLayout(tmp_path)
    assert lake.bronze("content", D1, "20220401.json") == (
        tmp_path / "bronze/content/date=2022-04-01/20220401.json.parquet"
    )
    assert lake.bronze("search", D1) == tmp_path / "bronze/search/date=2022-04-01/part.parquet"
    assert lake.silver("ids", D1) == tmp_path / "silver/content/ids/date=2022-04-01/part.parquet"
    assert lake.gold("customer_360") == tmp_path / "gold/customer_360.parquet"
    assert lake.partition("fact_usage", D1) == (
        tmp_path / "gold/fact_usage/date=2022-04-01/part.parquet"
    )
    assert lake.history("pipeline_runs") == tmp_path / "_state/pipeline_runs.parquet"
    assert lake.ledger.parent == lake.run_state.parent == lake.lock.parent == tmp_path / "_state"
    assert lake.relative(lake.gold("x")) == "gold/x.parquet"


def test_a_run_writes_only_where_the_layout_says(tmp_path: Path) -> None:
    content = tmp_path / "in"
    write_known_days(content)
    root = tmp_path / "lake"
    C360(config=load_config(env={}, overrides={"quality.allow_failures": True})).run(
        content, warehouse=str(tmp_path / "w.duckdb"), lake=root
    )
    lake = LakeLayout(root)
    named = {
        *lake.bronze_files("content"),
        *(p for kind in lake.silver_kinds() for p in kind.rglob("*.parquet")),
        *lake.partitions("fact_usage"),
        *lake.totals(),
        lake.ledger,
        lake.lock,
        lake.content_days,
        lake.repeated_ids,
        *(lake.history(t) for t in ("pipeline_runs", "dq_results", "table_lineage")),
    }
    gold = set((root / LakeLayout.GOLD).glob("*.parquet"))
    written = {p for p in root.rglob("*") if p.is_file() and LakeLayout.SCRATCH not in p.parts}
    assert written - named - gold == set()
    assert {lake.gold("customer_content_stats"), lake.gold("dim_contract")} <= gold
    assert not lake.run_state.exists()  # the run ended
