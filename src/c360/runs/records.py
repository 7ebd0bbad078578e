"""Run records: the history of runs, check results and table lineage, kept in the lake.

Each history is one Parquet file in the lake's state with one or more rows per run; a run's rows
replace any earlier rows of the same run id (a stage called again, a failed run completed), and
the file is replaced atomically. The gold copies that the warehouse publishes are written from
the same tables.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from c360.catalog import RECORD_TABLES, TABLES
from c360.lake.ledger import write_atomic

if TYPE_CHECKING:
    from c360.context import RunContext
    from c360.sinks.base import TableFiles

RUNS_SCHEMA = pa.schema(
    [
        ("run_id", pa.string()),
        ("command", pa.string()),
        ("engine", pa.string()),
        ("config_hash", pa.string()),
        ("window_start", pa.date32()),
        ("window_end", pa.date32()),
        ("files_found", pa.int64()),
        ("files_ingested", pa.int64()),
        ("input_files", pa.string()),
        ("rows_read", pa.int64()),
        ("rows_accepted", pa.int64()),
        ("rows_quarantined", pa.int64()),
        ("duplicates", pa.int64()),
        ("contracts_profiled", pa.int64()),
        ("rows_out", pa.string()),
        ("timings", pa.string()),
        ("step_timings", pa.string()),
        ("failed_stage", pa.string()),
        ("checks_failed", pa.int64()),
        ("checks_warned", pa.int64()),
        ("dq_failures_allowed", pa.bool_()),
        ("status", pa.string()),
        ("error", pa.string()),
        ("started_at", pa.timestamp("us", tz="UTC")),
        ("finished_at", pa.timestamp("us", tz="UTC")),
    ]
)
LINEAGE_SCHEMA = pa.schema(
    [
        ("run_id", pa.string()),
        ("table_name", pa.string()),
        ("input_kind", pa.string()),
        ("input_name", pa.string()),
    ]
)


def append_history(path: Path, rows: pa.Table, run_id: str) -> pa.Table:
    """The history at ``path`` with ``rows`` replacing those of ``run_id`` (columns added since
    an older history was written read as null). Returns the new history, not yet written."""
    schema = rows.schema
    if not path.exists():
        return rows
    old = pq.read_table(path)
    columns = [
        old[f.name].cast(f.type) if f.name in old.column_names else pa.nulls(len(old), f.type)
        for f in schema
    ]
    old = pa.Table.from_arrays(columns, schema=schema)
    old = old.filter(pc.not_equal(old["run_id"], run_id))
    return pa.concat_tables([old, rows])


def write_history(path: Path, rows: pa.Table, run_id: str) -> pa.Table:
    """Append ``rows`` to the history at ``path`` (see :func:`append_history`) and write it."""
    history = append_history(path, rows, run_id)
    write_atomic(history, path)
    return history


def lineage(
    run_id: str,
    outputs: Iterable[str],
    *,
    inputs: Mapping[str, Iterable[tuple[str, str]]],
) -> pa.Table:
    """``table_lineage`` rows of a run: each output table with what it was made from.

    ``inputs`` gives the run's own inputs per lake layer, e.g. ``{"bronze/content": [("file",
    "/data/20220401.json"), ...]}``; each output's upstream tables and layers come from the
    catalog (:attr:`c360.catalog.TableSpec.inputs`). Layers that the run used appear too.
    """
    rows = []
    produced = set(outputs)
    for layer, items in inputs.items():
        rows += [(layer, kind, name) for kind, name in items]
    for name in outputs:
        spec = TABLES.get(name)
        for upstream in spec.inputs if spec is not None else ():
            if upstream in produced or upstream in inputs:
                kind = "layer" if "/" in upstream else "table"
                rows.append((name, kind, upstream))
    return pa.Table.from_pylist(
        [{"run_id": run_id, "table_name": t, "input_kind": k, "input_name": n} for t, k, n in rows],
        schema=LINEAGE_SCHEMA,
    )


def new_run_id(now: datetime) -> str:
    """Sortable and unique: ``20220430T101500Z-1a2b3c``."""
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def write_records(ctx: RunContext, *, history: bool) -> dict[str, TableFiles]:
    """The run's record, check results and lineage, appended to the lake's histories when
    ``history``, and always written as the gold copies that the warehouse publishes."""
    outputs = [n for n in ctx.outputs if n not in RECORD_TABLES and n != "ingested_files"]
    rows = {
        "pipeline_runs": pa.Table.from_pylist([run_row(ctx)], RUNS_SCHEMA),
        "dq_results": ctx.quality.table(),
        "table_lineage": lineage(ctx.run_id, outputs, inputs=ctx.inputs),
    }
    out: dict[str, TableFiles] = {}
    for name, new in rows.items():
        path = ctx.lake.history(name)
        full = (
            write_history(path, new, ctx.run_id)
            if history
            else append_history(path, new, ctx.run_id)
        )
        out[name] = write_atomic(full, ctx.lake.gold(name))
    return out


def run_row(ctx: RunContext) -> dict[str, object]:
    """The run's ``pipeline_runs`` row."""
    report, quality = ctx.report, ctx.quality
    return {
        "run_id": report.run_id,
        "command": ctx.command,
        "engine": ctx.engine.name,
        "config_hash": config_hash(ctx.config.model_dump(mode="json")),
        "window_start": report.window_start,
        "window_end": report.window_end,
        "files_found": report.files_found,
        "files_ingested": report.files_ingested,
        "input_files": json.dumps(report.input_files),
        "rows_read": report.rows_read,
        "rows_accepted": report.rows_accepted,
        "rows_quarantined": report.rows_quarantined,
        "duplicates": report.duplicates,
        "contracts_profiled": report.contracts_profiled,
        "rows_out": json.dumps(report.rows_out, sort_keys=True) if report.rows_out else None,
        "timings": json.dumps({k: round(v, 3) for k, v in report.stages.items()}),
        "step_timings": json.dumps({k: round(v, 3) for k, v in report.steps.items()}),
        "failed_stage": report.failed_stage,
        "checks_failed": len(quality.failures),
        "checks_warned": len(quality.warnings),
        "dq_failures_allowed": bool(quality.failures) and ctx.config.quality.allow_failures,
        "status": report.status,
        "error": report.error,
        "started_at": report.started_at,
        "finished_at": datetime.now(UTC),
    }


def config_hash(settings: Mapping[str, object]) -> str:
    """Fingerprint of the settings a run used."""
    payload = json.dumps(settings, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]
