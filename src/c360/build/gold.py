"""Writing a gold table: the one way every build puts a table in the lake."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from c360.context import RunContext


def write_gold(ctx: RunContext, name: str, expr: ir.Table, *, quiet: bool = False) -> int:
    """Write the gold table ``name`` and name it in the run's outputs; returns its rows."""
    start = time.perf_counter()
    path = ctx.lake.gold(name)
    rows = ctx.engine.write_parquet(expr, path)
    ctx.outputs[name] = path
    if not quiet:
        ctx.reporter.info(f"{name}: {rows:,} rows in {time.perf_counter() - start:.1f} s")
        ctx.reporter.advance(name)
    return rows
