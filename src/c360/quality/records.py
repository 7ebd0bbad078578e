"""Run records: the history of runs, check results and table lineage, kept in the lake.

Each history is one Parquet file under ``lake/_state`` with one or more rows per run; a run's
rows replace any earlier rows of the same run id, and the file is replaced atomically. The gold
copies that the warehouse publishes are written from the same tables.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from c360.catalog import TABLES
from c360.io.state import write_atomic

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
