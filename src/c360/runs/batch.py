"""A batch run: ingest → transform → check → publish, each stage a unit that takes the run's
context; :func:`run_stages` runs any leading part of that sequence, in one process or one stage
per process (the run in progress is kept in the lake between them, :mod:`c360.runs.state`).

    ingest     the content files and search days of the window → bronze and the ledger; their
               reject rates and missing days checked
    transform  content silver by date → content gold → search gold → customer_360
    check      keys, references and domains of every output; row drift (fail-closed)
    publish    every table and the run's records into the warehouse, in one transaction
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from c360.build.content_gold import build_content_gold
from c360.build.customer_360 import build_customer_360
from c360.build.search_gold import build_search_gold
from c360.context import SEARCH, STAGES, RunContext, RunRequest
from c360.errors import InputError, QualityError, is_interrupt
from c360.lake.layout import LakeLayout
from c360.lake.ledger import Ledger, write_atomic
from c360.quality.outputs import check_outputs
from c360.quality.runner import QualityRunner
from c360.reports import PASS, RunReport
from c360.runs.records import new_run_id, write_records
from c360.runs.stage import stage
from c360.runs.state import (
    end_run_state,
    load_run_state,
    restore,
    save_run_state,
    saved_report,
    saved_request,
)
from c360.sources.content_files import ContentFiles
from c360.sources.search_days import SearchDays

if TYPE_CHECKING:
    from c360.config import C360Config
    from c360.console import Reporter
    from c360.sinks.base import Sink, TableFiles


def ingest(ctx: RunContext) -> None:
    """The window's inputs into bronze and the ledger, checked."""
    ContentFiles(ctx).ingest()
    if ctx.request.search is not None:
        SearchDays(ctx).ingest()


def transform(ctx: RunContext) -> None:
    """Every output table of the window, from bronze, into gold."""
    build_content_gold(ctx)
    if SEARCH in ctx.windows:
        build_search_gold(ctx)
    else:
        ctx.lake.search_months.unlink(missing_ok=True)  # nothing to reclassify later
    build_customer_360(ctx)


def check(ctx: RunContext) -> None:
    """The output tables' checks (fail-closed)."""
    check_outputs(ctx)


def publish(ctx: RunContext) -> None:
    """Every output table, the ledger and the run's records into the warehouse at once.

    The warehouse copy of the run record says "succeeded": it is published in the same
    transaction as the tables, so it exists only if they do.
    """
    if ctx.sink is None:
        raise InputError("no warehouse to publish into")
    ctx.report.status = "succeeded"
    tables: dict[str, TableFiles] = dict(ctx.outputs)
    tables["ingested_files"] = write_atomic(ctx.ledger.table(), ctx.lake.gold("ingested_files"))
    tables.update(write_records(ctx, history=False))
    # Keys the check stage found unique in these files need no second look in the warehouse.
    results = [r for r, _ in ctx.quality.results]
    unique = {r.table_name for r in results if r.check == "primary_key" and r.status == PASS}
    ctx.reporter.stage("publish", total=1)
    ctx.report.tables = ctx.sink.publish(tables, unique=unique)
    ctx.reporter.advance(ctx.sink.describe())


STAGE_UNITS: dict[str, Callable[[RunContext], None]] = {
    "ingest": ingest,
    "transform": transform,
    "check": check,
    "publish": publish,
}


def run_stages(ctx: RunContext, names: Sequence[str] = STAGES) -> RunReport:
    """Run the stages ``names`` (in the order of :data:`STAGES`) of ``ctx``'s run.

    Each stage needs the one before it done in this run. After each stage but the last the run
    is saved in the lake; after publish it is recorded and ended. A failure records the run as
    failed (or interrupted) with its stage, and a failed check publishes the records alone, so
    the warehouse shows why; the run stays in the lake so that the stage can be called again.
    """
    _check_order(ctx, names)
    try:
        for name in names:
            with stage(ctx, name):
                if name == names[0] and "publish" in names and ctx.sink is not None:
                    ctx.sink.check()  # an unreachable warehouse stops the run before any work
                STAGE_UNITS[name](ctx)
            if name == "publish":
                write_records(ctx, history=True)
                end_run_state(ctx.lake)
            else:
                save_run_state(ctx)
    except BaseException as exc:
        _record_failure(ctx, exc)
        raise
    finally:
        ctx.report.checks = [r for r, _ in ctx.quality.results]
    return ctx.report


def _check_order(ctx: RunContext, names: Sequence[str]) -> None:
    """Refuse (before any work, recording nothing) stages whose predecessor is not done."""
    done = list(ctx.done)
    for name in names:
        position = STAGES.index(name)
        before = STAGES[position - 1] if position else None
        if before is not None and before not in done:
            raise InputError(
                f"the {name} stage needs the {before} stage of the run first; the run in the "
                f"lake {ctx.lake.root} has done {', '.join(done) or 'nothing'} "
                "(`c360 run`, or the stages in order)"
            )
        done = [*done[:position], name]


def _record_failure(ctx: RunContext, exc: BaseException) -> None:
    ctx.report.status = "interrupted" if is_interrupt(exc) else "failed"
    ctx.report.error = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    try:
        records = write_records(ctx, history=True)
        if isinstance(exc, QualityError) and ctx.sink is not None:
            # Nothing else is published, but the warehouse shows why (`c360 quality`).
            ctx.sink.publish(records)
    except Exception as record_exc:  # never hide the original error
        ctx.reporter.warn(f"could not record the failed run: {record_exc}")


@contextmanager
def open_run(
    request: RunRequest | None,
    *,
    lake: LakeLayout,
    config: C360Config,
    reporter: Reporter,
    command: str,
    sink: Sink | None = None,
) -> Iterator[RunContext]:
    """The context of a new run (``request`` given) or of the run in progress in ``lake``,
    with the lake locked (by ``command``) and an engine open for as long as the block runs."""
    from c360.engines import create_engine
    from c360.lake.lock import lake_lock

    with lake_lock(lake.root, command=command) as stale:
        if stale:
            reporter.warn(
                f"the previous run on this lake stopped without finishing ({stale}); "
                "this run completes its work"
            )
        saved = {} if request is not None else load_run_state(lake)
        if request is None:
            if not saved:
                raise InputError(
                    f"no run in progress in the lake {lake.root}; start one with `c360 run` "
                    "(or the ingest stage)"
                )
            request, report = saved_request(saved), saved_report(saved)
        else:
            now = datetime.now(UTC)
            report = RunReport(run_id=new_run_id(now), started_at=now, lake=lake.root)
        if sink is not None:
            report.warehouse = sink.describe()
        with create_engine(config.engine, scratch=str(lake.scratch)) as engine:
            ctx = RunContext(
                request=request, config=config, lake=lake, engine=engine, reporter=reporter,
                report=report, ledger=Ledger(lake.ledger), sink=sink,
                quality=QualityRunner(
                    engine, config.quality, run_id=report.run_id, reporter=reporter
                ),
            )  # fmt: skip
            if saved:
                restore(ctx, saved)
            yield ctx
