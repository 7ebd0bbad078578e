"""Checks in real runs: fail-closed, allowed failures, run records, lineage and the commands
that show them (``c360 quality``, ``runs``, ``quarantine``)."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from _support import REAL_DATA, content_line, write_day
from c360.app import C360
from c360.config import load_config
from c360.errors import OutputError, QualityError
from c360.shells.cli import app
from c360.sinks.duckdb import DuckDBSink

WIDE = {"COLUMNS": "300", "NO_COLOR": "1"}


def _good(n: int, prefix: str = "HNH", day: int = 1) -> list[str]:
    return [content_line(f"{prefix}{i:06d}", record_id=f"{prefix}{day}-{i}") for i in range(n)]


def _facade(**env: str) -> C360:
    return C360(config=load_config(env={f"C360__{k}": v for k, v in env.items()}))


def test_a_failed_check_stops_before_publishing_and_says_why(tmp_path: Path) -> None:
    content = tmp_path / "in"
    write_day(content, date(2022, 4, 1), [*_good(18), "junk", content_line("0", record_id="z")])
    warehouse = str(tmp_path / "w.duckdb")
    with pytest.raises(QualityError) as caught:
        _facade().run(content, warehouse=warehouse, lake=tmp_path / "lake")
    assert str(caught.value).startswith(
        "data quality check failed: content_reject_rate on content 20220401.json: 10.0 % > 5.0 %"
    )
    sink = DuckDBSink(warehouse)
    # Nothing of the run's results was published; its record and checks were.
    assert sorted(sink.tables()) == ["dq_results", "pipeline_runs", "table_lineage"]
    (run,) = sink.read("pipeline_runs").to_pylist()
    assert (run["status"], run["checks_failed"], run["rows_read"]) == ("failed", 1, 20)
    assert run["error"] == str(caught.value)
    checks = _facade().quality(warehouse=warehouse)
    first = checks.to_pylist()[0]
    assert (first["check_name"], first["status"], first["observed"]) == (
        "content_reject_rate", "fail", 0.1,
    )  # fmt: skip
    with pytest.raises(OutputError):
        sink.read("customer_content_stats")


def test_allowed_failures_publish_and_the_record_says_so(tmp_path: Path) -> None:
    content = tmp_path / "in"
    write_day(content, date(2022, 4, 1), [*_good(9), "junk"])
    warehouse = str(tmp_path / "w.duckdb")
    report = _facade(QUALITY__ALLOW_FAILURES="true").run(
        content, warehouse=warehouse, lake=tmp_path / "lake"
    )
    assert report.status == "succeeded"
    assert [c.check for c in report.checks if c.status == "fail"] == ["content_reject_rate"]
    (run,) = DuckDBSink(warehouse).read("pipeline_runs").to_pylist()
    assert (run["status"], run["checks_failed"], run["dq_failures_allowed"]) == (
        "succeeded", 1, True,
    )  # fmt: skip
    assert DuckDBSink(warehouse).read("customer_content_stats").num_rows == 9


def test_a_clean_run_passes_every_check_and_records_inputs_rows_and_lineage(
    tmp_path: Path,
) -> None:
    content = tmp_path / "in"
    write_day(content, date(2022, 4, 1), _good(5))
    write_day(content, date(2022, 4, 3), _good(5, day=3))  # 2 April is missing: a warning
    warehouse = str(tmp_path / "w.duckdb")
    report = _facade().run(content, warehouse=warehouse, lake=tmp_path / "lake")
    statuses = {(c.check, c.status) for c in report.checks}
    assert ("content_missing_days", "warn") in statuses
    assert {s for c, s in statuses if c != "content_missing_days"} <= {"pass", "skipped"}
    checks = {c.check for c in report.checks}
    assert {"primary_key", "foreign_key", "value_domain", "unknown_device_rate"} <= checks
    (run,) = DuckDBSink(warehouse).read("pipeline_runs").to_pylist()
    assert json.loads(run["input_files"]) == ["20220401.json", "20220403.json"]
    rows_out = json.loads(run["rows_out"])
    assert rows_out["customer_content_stats"] == 5 and rows_out["fact_usage"] == 10
    lineage = DuckDBSink(warehouse).read("table_lineage").to_pylist()
    edges = {(r["table_name"], r["input_kind"], r["input_name"]) for r in lineage}
    assert ("bronze/content", "file", str((content / "20220401.json").resolve())) in edges
    assert ("customer_content_stats", "layer", "bronze/content") in edges
    assert ("customer_360", "table", "customer_content_stats") in edges
    assert not any(t == "customer_360" and n == "customer_search_stats" for t, _, n in edges)


def test_row_drift_warns_against_earlier_runs(tmp_path: Path) -> None:
    content, other = tmp_path / "in", tmp_path / "other"
    write_day(content, date(2022, 4, 1), _good(10))
    write_day(other, date(2022, 4, 1), _good(30, prefix="SGJ"))
    warehouse, lake = str(tmp_path / "w.duckdb"), tmp_path / "lake"
    first = _facade().run(content, warehouse=warehouse, lake=lake)
    assert {c.status for c in first.checks if c.check == "row_drift"} == {"skipped"}
    same = _facade().run(content, warehouse=warehouse, lake=lake)
    assert {c.status for c in same.checks if c.check == "row_drift"} == {"pass"}
    grown = _facade().run(other, warehouse=warehouse, lake=lake)
    drift = {c.table_name: (c.observed, c.status) for c in grown.checks if c.check == "row_drift"}
    assert drift["customer_content_stats"] == (2.0, "warn")  # 30 against a median of 10
    assert drift["dim_app"] == (0.0, "pass")


def test_real_samples_pass_the_default_thresholds(tmp_path: Path) -> None:
    """The defaults are the real data's levels: the real samples do not fail any check."""
    search = tmp_path / "search"
    shutil.copytree(REAL_DATA / "log_search" / "20220701", search / "20220701")
    report = _facade().run(
        REAL_DATA / "log_content_sample",
        warehouse=str(tmp_path / "w.duckdb"),
        lake=tmp_path / "lake",
        search=search,
    )
    assert [c.message for c in report.checks if c.status == "fail"] == []
    rates = {c.check: c.observed for c in report.checks if c.check == "search_reject_rate"}
    assert rates["search_reject_rate"] == pytest.approx(0.3, abs=0.02)
    history = pq.read_table(tmp_path / "lake" / "_state" / "dq_results.parquet")
    assert history.num_rows == len(report.checks)


# -- commands ---------------------------------------------------------------------------------


def test_commands_show_checks_runs_and_quarantined_rows(tmp_path: Path) -> None:
    content = tmp_path / "in"
    bad = ['{"_id":"m","_source":{"Contract":"HNH1', content_line("0", record_id="z")]
    write_day(content, date(2022, 4, 1), _good(18) + bad)
    warehouse = str(tmp_path / "w.duckdb")
    cli = CliRunner()
    args = ["--content", str(content), "--warehouse", warehouse, "--lake", str(tmp_path / "l")]
    failed = cli.invoke(app, ["run", *args], env=WIDE)
    assert failed.exit_code == 1
    message = failed.stderr.strip().splitlines()[-1]
    assert message.startswith("error: data quality check failed: content_reject_rate"), message
    assert message.endswith("(in the ingest stage)"), message
    shown = cli.invoke(app, ["quality", "--warehouse", warehouse], env=WIDE)
    assert shown.exit_code == 0, shown.output
    assert "fail" in shown.stdout and "content_reject_rate" in shown.stdout
    assert "10.0 %" in shown.stdout and "5.0 %" in shown.stdout

    published = cli.invoke(app, ["run", *args, "--allow-dq-failures"], env=WIDE)
    assert published.exit_code == 0, published.output
    listed = cli.invoke(app, ["runs", "--warehouse", warehouse], env=WIDE)
    assert listed.exit_code == 0, listed.output
    # The table's layout follows the terminal's width: look for the words, not the lines.
    words = listed.stdout.split()
    assert {"allowed", "succeeded", "failed"} <= set(words), listed.stdout
    history = _facade().runs(warehouse=warehouse).to_pylist()
    assert [(r["status"], r["checks_failed"], r["dq_failures_allowed"]) for r in history] == [
        ("succeeded", 1, True),
        ("failed", 1, False),
    ]

    quarantined = cli.invoke(
        app, ["quarantine", "--warehouse", warehouse, "--reason", "bad_contract"], env=WIDE
    )
    assert quarantined.exit_code == 0, quarantined.output
    assert "bad_contract" in quarantined.stdout and "malformed_json" not in quarantined.stdout
    (junk,) = _facade().quarantine(warehouse=warehouse, reason="bad_contract").to_pylist()
    assert '"Contract":"0"' in junk["raw"]
    rows = _facade().quarantine(warehouse=warehouse, reason="malformed_json")
    assert [(r["line_no"], r["reason"]) for r in rows.to_pylist()] == [(19, "malformed_json")]
    every = cli.invoke(app, ["quality", "--warehouse", warehouse, "--all"], env=WIDE)
    assert "primary_key" in every.stdout


def test_commands_on_an_empty_warehouse_give_one_line(tmp_path: Path) -> None:
    cli = CliRunner()
    warehouse = str(tmp_path / "none.duckdb")
    for command in ("quality", "runs", "quarantine"):
        result = cli.invoke(app, [command, "--warehouse", warehouse], env=WIDE)
        assert result.exit_code == 1, (command, result.output)
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert result.stderr.startswith("error:")
