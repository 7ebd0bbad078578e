"""The bad-input corpus (tests/fixtures/bad): every case completes, with every row accounted
for, or stops with a one-line reason; nothing crashes and nothing disappears."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from _support import TOLERANT
from c360.app import C360
from c360.config import load_config
from c360.console import NullReporter
from c360.errors import C360Error
from c360.sinks.duckdb import DuckDBSink

CORPUS = Path(__file__).resolve().parent / "fixtures" / "bad"
CASES: dict[str, dict[str, Any]] = tomllib.loads((CORPUS / "cases.toml").read_text())


def test_every_case_folder_has_an_expectation() -> None:
    folders = {p.name for p in CORPUS.iterdir() if p.is_dir() and not p.name.startswith("_")}
    assert folders == set(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input(name: str, tmp_path: Path) -> None:
    case, folder = CASES[name], CORPUS / name
    reporter = NullReporter()
    facade = C360(config=load_config(env={}, overrides=TOLERANT), reporter=reporter)
    search = folder / "search" if (folder / "search").exists() else None
    warehouse, lake = str(tmp_path / "w.duckdb"), tmp_path / "lake"
    if case["outcome"] == "stops":
        with pytest.raises(C360Error) as caught:
            facade.run(folder / "content", warehouse=warehouse, lake=lake, search=search)
        message = str(caught.value)
        assert "\n" not in message
        assert re.search(case["error"], message), message
        (record,) = pq.read_table(lake / "_state" / "pipeline_runs.parquet").to_pylist()
        assert (record["status"], record["error"]) == ("failed", message)
        return

    report = facade.run(folder / "content", warehouse=warehouse, lake=lake, search=search)
    read, accepted, quarantined = case["rows"]
    assert (report.rows_read, report.rows_accepted, report.rows_quarantined) == tuple(case["rows"])
    assert read == accepted + quarantined
    assert report.quarantine_reasons == case.get("reasons", {})
    assert report.duplicates == case.get("duplicates", 0)
    sink = DuckDBSink(warehouse)
    assert sink.read("quarantine_content").num_rows == quarantined
    profiled = sink.read("customer_content_stats").num_rows
    assert profiled == report.contracts_profiled == accepted - report.duplicates
    if "search" in case:
        assert report.search is not None
        assert [report.search.rows_read, report.search.searches_counted] == case["search"]
        reasons = {k: v for k, v in report.search.skipped.items() if k != "clock_skew"}
        assert sum(reasons.values()) == report.search.rows_read  # clock_skew is a flag
    failed = sorted({c.check for c in report.checks if c.status == "fail"})
    warned = sorted({c.check for c in report.checks if c.status == "warn"})
    assert (failed, warned) == (case.get("failed", []), case.get("warned", []))
    for pattern in case.get("warnings", []):
        assert any(re.search(pattern, w) for w in reporter.warnings), (pattern, reporter.warnings)
