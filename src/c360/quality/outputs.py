"""The check stage: keys, references and value domains of every output table (derived from the
table contracts in :mod:`c360.catalog`), then each table's row drift against earlier runs.

Fail-closed: a failed check stops the run before anything is published.
"""

from __future__ import annotations

import json
from datetime import date
from typing import TYPE_CHECKING

import pyarrow.parquet as pq

from c360.context import CONTENT, Window
from c360.quality.checks import RunRows, foreign_key_probes, row_drift, table_probes
from c360.sinks.base import Partitioned, table_paths, table_rows

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from c360.context import RunContext
    from c360.lake.layout import LakeLayout


def check_outputs(ctx: RunContext) -> None:
    """Check the run's output tables on its engine, then their rows against earlier runs."""
    engine, quality = ctx.engine, ctx.quality
    exprs: dict[str, ir.Table] = {}
    new_rows: dict[str, ir.Table] = {}
    for name, files in ctx.outputs.items():
        if paths := table_paths(files):
            exprs[name] = table = engine.read_parquet(paths)
            if isinstance(files, Partitioned) and name in ctx.fresh:
                # References from a partitioned table are checked in the partitions this run
                # wrote; each partition file holds one value, so the others are skipped by
                # their statistics, not read.
                new_rows[name] = table.filter(table[files.column].isin(ctx.fresh[name]))
    probes = [p for name, t in exprs.items() for p in table_probes(name, t, ctx.config)]
    probes += foreign_key_probes(exprs, fresh=new_rows)
    ctx.reporter.stage("checks", total=1)
    quality.probe(ctx.stage or "check", probes, exprs)
    ctx.reporter.advance(f"{len(quality.results)} checks")

    report = ctx.report
    report.rows_out = {name: table_rows(files) for name, files in ctx.outputs.items()}
    window = ctx.windows.get(CONTENT)
    current = RunRows(report.rows_out, window.days if window else 0)
    quality.add(row_drift(current, earlier_runs(ctx.lake), ctx.config.quality))
    quality.enforce()


def earlier_runs(lake: LakeLayout) -> list[RunRows]:
    """Rows per table of the earlier successful runs, oldest first."""
    path = lake.history("pipeline_runs")
    if not path.exists():
        return []
    runs = pq.read_table(path)
    if "rows_out" not in runs.column_names:
        return []
    columns = ["status", "rows_out", "window_start", "window_end"]
    return [
        RunRows(json.loads(r["rows_out"]), _days(r["window_start"], r["window_end"]))
        for r in runs.select(columns).to_pylist()
        if r["status"] == "succeeded" and r["rows_out"]
    ]


def _days(start: date | None, end: date | None) -> int:
    """Days of a recorded window (0 when it was not recorded)."""
    return Window(start, end, ()).days if start and end else 0
