"""``customer_360``: the content profile, with the search profile through the contract ↔ user
bridge (SPEC 2.8). The run's bridge is kept in the lake, so that a reclassification rebuilds the
same view."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import ibis
import pyarrow as pa
import pyarrow.parquet as pq

from c360.errors import InputError
from c360.lake.ledger import write_atomic
from c360.rules import unified

if TYPE_CHECKING:
    from c360.context import RunContext
    from c360.engines.base import Engine
    from c360.lake.layout import LakeLayout


def build_customer_360(ctx: RunContext) -> None:
    """``customer_360`` of the run, with the request's bridge (kept in the lake for later
    reclassifications; none removes the kept one)."""
    request, lake = ctx.request, ctx.lake
    if request.bridge is None:
        lake.bridge.unlink(missing_ok=True)
        bridge = None
    else:
        if request.search is None:
            ctx.reporter.warn("--bridge is used with --search only; customer_360 has no search")
        bridge = read_bridge(request.bridge)
        write_atomic(bridge, lake.bridge)
        ctx.inputs["reference/bridge"] = [("file", str(request.bridge.resolve()))]
    with_search = "customer_search_stats" in ctx.outputs
    ctx.outputs["customer_360"] = write_customer_360(
        ctx.engine, lake, bridge, with_search=with_search
    )


def rebuild_customer_360(engine: Engine, lake: LakeLayout) -> Path:
    """``customer_360`` again from the lake's gold tables and the last run's bridge."""
    bridge = pq.read_table(lake.bridge) if lake.bridge.exists() else None
    return write_customer_360(engine, lake, bridge, with_search=True)


def write_customer_360(
    engine: Engine, lake: LakeLayout, bridge: pa.Table | None, *, with_search: bool
) -> Path:
    """Write ``customer_360`` from the profile and (``with_search``) the search profile."""
    profile = engine.read_parquet([lake.gold("customer_content_stats")])
    stats = engine.read_parquet([lake.gold("customer_search_stats")]) if with_search else None
    path = lake.gold("customer_360")
    bridged = ibis.memtable(bridge) if bridge is not None else None
    engine.write_parquet(unified.customer_360(profile, stats, bridged), path)
    return path


def read_bridge(path: Path) -> pa.Table:
    """The ``contract,user_id`` CSV as text columns; rows missing either value are an error."""
    import pyarrow.csv as pcsv

    if not path.is_file():
        raise InputError(f"bridge {path} does not exist")
    try:
        table = pcsv.read_csv(
            path,
            convert_options=pcsv.ConvertOptions(
                column_types={"contract": pa.string(), "user_id": pa.string()},
                include_columns=["contract", "user_id"],
                strings_can_be_null=True,
            ),
        )
    except (pa.ArrowInvalid, KeyError) as exc:
        raise InputError(
            f"bridge {path}: expected a CSV with columns contract,user_id ({exc})"
        ) from exc
    table = table.set_column(0, "contract", pa.compute.utf8_trim_whitespace(table["contract"]))
    table = table.set_column(1, "user_id", pa.compute.utf8_trim_whitespace(table["user_id"]))
    missing = table["contract"].null_count + table["user_id"].null_count
    if missing:
        raise InputError(f"bridge {path}: {missing} rows lack a contract or a user_id")
    return table
