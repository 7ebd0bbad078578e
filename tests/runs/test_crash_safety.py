"""A run killed at any point (SIGKILL) and run again gives the same tables as a run that was
never interrupted; readers never see half a table; a second run on the same lake is refused."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from c360.catalog import RECORD_TABLES
from c360.sinks.duckdb import DuckDBSink

pytestmark = pytest.mark.slow

SCRIPT = Path(sys.executable).with_name("c360")
#: Columns of the ingestion state that name the run that ingested a file, when, and where in
#: the lake (each test has its own lake).
RUN_COLUMNS = ("run_id", "ingested_at", "bronze_path")
#: Where to kill: the first line of the run's verbose output that starts with this.
KILL_POINTS = [
    "20220402.json:",  # between two files of the ingest
    "· build",  # every file ingested, no date built
    "dim_contract:",  # half of the gold tables written
    "search 20220629:",  # in the middle of the search days
    "· checks",  # every table written, nothing checked
    "· publish",  # in the warehouse transaction
]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("crash")
    subprocess.run(
        [SCRIPT, "generate", "--scale", "0.002", "--days", "4", "--out", root / "raw"],
        check=True,
        capture_output=True,
    )
    search = root / "raw" / "log_search"
    for folder in search.iterdir():
        if folder.name < "20220627":
            shutil.rmtree(folder)
    return {
        "content": root / "raw" / "log_content",
        "search": search,
        "bridge": root / "raw" / "contract_user.csv",
    }


def _args(inputs: dict[str, Path], out: Path) -> list[str]:
    return [
        str(SCRIPT), "run", "--verbose", "--allow-dq-failures",
        "--content", str(inputs["content"]), "--search", str(inputs["search"]),
        "--bridge", str(inputs["bridge"]),
        "--lake", str(out / "lake"), "--warehouse", str(out / "w.duckdb"),
    ]  # fmt: skip


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("C360__")}
    return {**env, "COLUMNS": "300", "NO_COLOR": "1"}


def _run(inputs: dict[str, Path], out: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(_args(inputs, out), capture_output=True, text=True, env=_env())
    assert done.returncode == 0, done.stderr
    return done


def _kill_at(inputs: dict[str, Path], out: Path, marker: str) -> list[str]:
    """Start a run, SIGKILL it when its output reaches ``marker``; return the lines seen."""
    proc = subprocess.Popen(
        _args(inputs, out), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env=_env(),
    )  # fmt: skip
    seen = []
    assert proc.stderr is not None
    for line in proc.stderr:
        seen.append(line.rstrip())
        if line.startswith(marker):
            proc.send_signal(signal.SIGKILL)
            break
    proc.stderr.close()
    proc.wait()
    assert any(s.startswith(marker) for s in seen), seen
    return seen


def _tables(out: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every warehouse table and gold file as sorted rows, without the run records."""
    sink = DuckDBSink(str(out / "w.duckdb"))
    tables = {name: sink.read(name) for name in sink.tables() if name not in RECORD_TABLES}
    gold = out / "lake" / "gold"
    for path in sorted(gold.glob("*.parquet")):
        if path.stem not in RECORD_TABLES:
            tables[f"gold/{path.stem}"] = pq.read_table(path)
    facts = sorted(gold.glob("fact_usage/date=*/part.parquet"))
    tables["gold/fact_usage"] = pa.concat_tables([pq.read_table(p) for p in facts])
    return {name: _rows(table) for name, table in tables.items()}


def _rows(table: pa.Table) -> list[tuple[Any, ...]]:
    table = table.drop_columns([c for c in RUN_COLUMNS if c in table.column_names])
    rows = [tuple(r.values()) for r in table.to_pylist()]
    return sorted(rows, key=lambda r: tuple((v is None, str(v)) for v in r))


@pytest.fixture(scope="module")
def uninterrupted(inputs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Any:
    out = tmp_path_factory.mktemp("reference")
    _run(inputs, out)
    return _tables(out)


@pytest.mark.parametrize("marker", KILL_POINTS)
def test_killed_then_rerun_gives_the_same_tables(
    marker: str, inputs: dict[str, Path], uninterrupted: Any, tmp_path: Path
) -> None:
    _kill_at(inputs, tmp_path, marker)
    warehouse = tmp_path / "w.duckdb"
    if warehouse.exists():  # readers see the previous complete state or nothing
        names = DuckDBSink(str(warehouse)).tables()
        assert names == [] or "customer_360" in names, names
    again = _run(inputs, tmp_path)
    assert "the previous run on this lake stopped without finishing" in again.stderr
    tables = _tables(tmp_path)
    assert sorted(tables) == sorted(uninterrupted)
    for name, rows in uninterrupted.items():
        assert tables[name] == rows, name
    runs = DuckDBSink(str(warehouse)).read("pipeline_runs").to_pylist()
    assert [r["status"] for r in sorted(runs, key=lambda r: r["started_at"])][-1] == "succeeded"


def test_a_second_run_on_the_same_lake_is_refused(inputs: dict[str, Path], tmp_path: Path) -> None:
    proc = subprocess.Popen(
        _args(inputs, tmp_path), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env=_env(),
    )  # fmt: skip
    assert proc.stderr is not None
    try:
        for line in proc.stderr:
            if line.startswith("· ingest"):
                break
        second = subprocess.run(_args(inputs, tmp_path), capture_output=True, text=True, env=_env())
    finally:
        proc.kill()
        proc.wait()
        proc.stderr.close()
    assert second.returncode == 1
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: another c360 run"), lines
