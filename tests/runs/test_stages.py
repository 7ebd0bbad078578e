"""The stages of a run called one at a time (``c360.runs.batch``, through the façade): each works
alone on a lake, in order, and together they give what ``run()`` gives."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest

from _support import TOLERANT, content_line, write_day, write_search_day
from c360.app import C360
from c360.catalog import TABLES
from c360.config import load_config
from c360.console import NullReporter
from c360.context import RunRequest
from c360.errors import InputError, QualityError
from c360.generate.dataset import GenerateReport
from c360.lake.layout import LakeLayout
from c360.runs.batch import open_run, run_stages
from c360.sinks.base import TableFiles
from c360.sinks.duckdb import DuckDBSink

D1, D2, D3 = date(2022, 4, 1), date(2022, 4, 2), date(2022, 4, 3)
#: Columns that differ between two runs of the same data by design.
RECORDS = {"pipeline_runs", "dq_results", "table_lineage", "ingested_files"}
PER_RUN = {"run_id", "started_at", "finished_at", "published_at", "ingested_at", "mtime_ns"}


def _app(**overrides: Any) -> C360:
    """A façade with the defaults; generated days this small reject more search rows than
    real ones, so checks are recorded without stopping the run unless a test says otherwise."""
    return C360(config=load_config(env={}, overrides={**TOLERANT, **overrides}))


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> GenerateReport:
    raw = tmp_path_factory.mktemp("raw")
    return _app().generate(raw, scale=0.002, days=3)


def _tables(warehouse: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every table of a DuckDB warehouse but the run records, as sorted rows without the
    columns that name the run."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        listed = con.sql("SELECT table_name FROM information_schema.tables").fetchall()
        names = [row[0] for row in listed]
        out = {}
        for name in names:
            if name in RECORDS or name.startswith("_c360"):  # records, partition bookkeeping
                continue
            columns = [c for c in con.table(name).columns if c not in PER_RUN]
            select = ", ".join(f'"{c}"' for c in columns)
            out[name] = con.sql(f'SELECT {select} FROM "{name}" ORDER BY ALL').fetchall()
        return out
    finally:
        con.close()


def test_stages_called_apart_give_the_tables_of_one_run(
    generated: GenerateReport, tmp_path: Path
) -> None:
    inputs = {"search": generated.search_dir, "bridge": generated.bridge}
    whole = tmp_path / "whole.duckdb"
    _app().run(generated.content_dir, warehouse=str(whole), lake=tmp_path / "a", **inputs)

    lake, staged = tmp_path / "b", tmp_path / "staged.duckdb"
    # Each stage in a façade of its own, as separate orchestrator tasks would call them.
    ingested = _app().ingest(generated.content_dir, lake=lake, **inputs)
    assert list(ingested.stages) == ["ingest"] and ingested.status == "running"
    assert LakeLayout(lake).run_state.exists()
    transformed = _app().transform(lake=lake)
    assert transformed.run_id == ingested.run_id
    assert list(transformed.stages) == ["ingest", "transform"]
    _app().check(lake=lake)
    published = _app().publish(lake=lake, warehouse=str(staged))
    assert published.status == "succeeded" and published.run_id == ingested.run_id
    assert not LakeLayout(lake).run_state.exists()  # the run is over

    expected, got = _tables(whole), _tables(staged)
    assert "customer_360" in got and "search_monthly_top" in got
    assert got.keys() == expected.keys()
    for name in expected:
        assert got[name] == expected[name], name
    runs = duckdb.connect(str(staged), read_only=True)
    try:
        (row,) = runs.sql("SELECT run_id, status, timings FROM pipeline_runs").fetchall()
    finally:
        runs.close()
    assert row[:2] == (ingested.run_id, "succeeded")
    # The warehouse's record is published with the tables, so within the publish stage.
    assert set(json.loads(row[2])) == {"ingest", "transform", "check"}
    (recorded,) = _history(lake)
    assert set(json.loads(recorded["timings"])) == {"ingest", "transform", "check", "publish"}


def test_a_stage_needs_the_stage_before_it(generated: GenerateReport, tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    with pytest.raises(InputError, match="no run in progress in the lake"):
        _app().transform(lake=lake)
    _app().ingest(generated.content_dir, lake=lake)
    with pytest.raises(InputError, match="the check stage needs the transform stage"):
        _app().check(lake=lake)
    _app().transform(lake=lake)
    with pytest.raises(InputError, match="the publish stage needs the check stage"):
        _app().publish(lake=lake, warehouse=str(tmp_path / "w.duckdb"))
    assert not (tmp_path / "w.duckdb").exists()
    # The refusals did not spoil the run: it goes on from where it stood.
    _app().check(lake=lake)
    report = _app().publish(lake=lake, warehouse=str(tmp_path / "w.duckdb"))
    assert report.status == "succeeded"


def test_a_stage_called_again_redoes_its_work(generated: GenerateReport, tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    _app().ingest(generated.content_dir, lake=lake)
    first = _app().transform(lake=lake)
    again = _app().transform(lake=lake)  # e.g. an orchestrator retrying the task
    assert again.run_id == first.run_id
    assert again.dates_built == 0  # every date was built by the first call
    _app().check(lake=lake)
    assert _app().publish(lake=lake, warehouse=str(tmp_path / "w.duckdb")).status == "succeeded"


# -- the failing stage is named --------------------------------------------------------------


def _history(lake: Path) -> list[dict[str, Any]]:
    return pq.read_table(LakeLayout(lake).history("pipeline_runs")).to_pylist()


def test_a_failed_check_names_the_ingest_stage(tmp_path: Path) -> None:
    content = tmp_path / "in"
    lines = [content_line(f"HNH{n:06d}", record_id=str(n)) for n in range(9)]
    write_day(content, D1, [*lines, content_line("0", record_id="junk")])  # 10 % rejected
    with pytest.raises(QualityError) as caught:
        _app(**{"quality.allow_failures": False}).run(
            content, warehouse=str(tmp_path / "w.duckdb"), lake=tmp_path / "lake"
        )
    assert caught.value.stage == "ingest"
    (run,) = _history(tmp_path / "lake")
    assert (run["status"], run["failed_stage"]) == ("failed", "ingest")
    assert set(json.loads(run["timings"])) == {"ingest"}


def test_an_error_in_the_transform_names_it(tmp_path: Path) -> None:
    content, search = tmp_path / "in", tmp_path / "search"
    write_day(content, D1, [content_line(record_id="1")])
    write_search_day(search, D1, [("1", "2022-04-01 10:00:00.000", "1", "naruto")])
    mapping = tmp_path / "m.csv"
    mapping.write_text("naruto,Cartoons\n", encoding="utf-8")
    with pytest.raises(InputError, match="category 'Cartoons'") as caught:
        _app().run(
            content, warehouse=str(tmp_path / "w.duckdb"), lake=tmp_path / "lake",
            search=search, mapping=mapping,
        )  # fmt: skip
    assert caught.value.stage == "transform"
    (run,) = _history(tmp_path / "lake")
    assert (run["status"], run["failed_stage"]) == ("failed", "transform")
    assert set(json.loads(run["timings"])) == {"ingest", "transform"}
    # Steps are recorded apart from stages, named after theirs.
    steps = json.loads(run["step_timings"])
    assert steps and {name.split(".")[0] for name in steps} <= {"ingest", "transform"}


# -- one window for content and search --------------------------------------------------------


def test_search_days_missing_at_the_edges_of_the_window_are_reported(tmp_path: Path) -> None:
    content, search = tmp_path / "in", tmp_path / "search"
    for day in (D1, D2, D3):
        write_day(content, day, [content_line(record_id=str(day))])
    # Search has only the middle day: both edges of the window are missing.
    write_search_day(search, D2, [("1", "2022-04-02 10:00:00.000", "1", "naruto")])
    report = _app().run(
        content, warehouse=str(tmp_path / "w.duckdb"), lake=tmp_path / "lake",
        search=search, start=D1, end=D3,
    )  # fmt: skip
    missing = {r.check: r for r in report.checks if r.check.endswith("_missing_days")}
    assert missing["content_missing_days"].observed == 0.0
    assert missing["search_missing_days"].observed == 2.0
    assert missing["search_missing_days"].subject == "20220401, 20220403"
    assert missing["search_missing_days"].stage == "ingest"


class _RecordingSink(DuckDBSink):
    """The DuckDB warehouse, remembering which keys a publish was told were checked."""

    unique: set[str] | None = None

    def publish(self, tables: Mapping[str, TableFiles], *, unique: Collection[str] = ()) -> Any:
        self.unique = set(unique)
        return super().publish(tables, unique=unique)


def test_publish_skips_only_the_keys_the_check_stage_found_unique(
    generated: GenerateReport, tmp_path: Path
) -> None:
    """The warehouse does not group again the keys the check stage checked in the same files;
    the run's records (not checked by it) keep their key check in the sink."""
    config = load_config(env={}, overrides=TOLERANT)
    request = RunRequest(lake=tmp_path / "lake", content=generated.content_dir)
    sink = _RecordingSink(str(tmp_path / "w.duckdb"))
    lake = LakeLayout(tmp_path / "lake")
    with open_run(
        request, lake=lake, config=config, reporter=NullReporter(), command="test", sink=sink
    ) as ctx:
        report = run_stages(ctx)
        checked = {
            r.table_name
            for r, _ in ctx.quality.results
            if r.check == "primary_key" and r.status == "pass"
        }
    assert report.status == "succeeded"
    keyed = {name for name in report.tables if TABLES.get(name) and TABLES[name].primary_key}
    assert sink.unique == checked
    assert {"customer_content_stats", "dim_contract", "dim_device"} <= checked
    assert "pipeline_runs" in keyed - checked, "run records are still checked by the sink"
