"""The one wrapper every stage of a run goes through: it times the stage and names it when the
stage fails (in the error and in the run record)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from c360.context import RunContext
from c360.errors import C360Error, is_interrupt


@contextmanager
def stage(ctx: RunContext, name: str) -> Iterator[None]:
    """Run the block as the stage ``name`` of ``ctx``'s run.

    Its wall time goes to ``report.stages[name]``; on an error the run's ``failed_stage`` is
    ``name``, a c360 error carries it (``error.stage``), any other error a note naming it; an
    error raised because of Ctrl-C is Ctrl-C (``KeyboardInterrupt``).
    """
    ctx.stage = name
    ctx.reporter.info(f"stage {name}")
    start = time.perf_counter()
    try:
        yield
    except BaseException as exc:
        ctx.report.failed_stage = ctx.report.failed_stage or name
        if is_interrupt(exc) and not isinstance(exc, KeyboardInterrupt):
            raise KeyboardInterrupt from exc  # Ctrl-C seen by a driver (DuckDB mid-query)
        if isinstance(exc, C360Error):
            exc.stage = exc.stage or name
        elif not isinstance(exc, KeyboardInterrupt):
            exc.add_note(f"(in the {name} stage of run {ctx.run_id})")
        raise
    else:
        if name in ctx.done:
            ctx.done = ctx.done[: ctx.done.index(name)]
        ctx.done.append(name)
    finally:
        ctx.report.stages[name] = time.perf_counter() - start
        ctx.stage = ""
