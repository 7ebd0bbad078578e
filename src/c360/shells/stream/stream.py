"""``c360 stream``: ingest what the simulator serves, process it into the live tables, watch.

c360 stream ingest  --source http://127.0.0.1:8361 --landing data/landing
c360 stream process --landing data/landing --warehouse c360.duckdb --trigger 2s [--engine spark]
c360 stream process --broker nats://127.0.0.1:4222 --landing data/landing   # from JetStream
c360 stream status  --landing data/landing [--broker nats://127.0.0.1:4222]
c360 stream top     --warehouse c360.duckdb
"""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.live import Live
from rich.table import Table

from c360.console import RichReporter, console
from c360.shells.cli.common import ConfigOpt, VerboseOpt, guard, open_facade

stream_app = typer.Typer(
    help="Stream events into a live leaderboard: ingest, process, status, top.",
    no_args_is_help=True,
)

LandingOpt = Annotated[
    Path, typer.Option(help="Landing zone folder (one file per poll).", file_okay=False)
]
BrokerOpt = Annotated[
    str | None,
    typer.Option(
        help="Read from NATS JetStream (nats://HOST:4222); --landing then holds only the "
        "processor's checkpoint."
    ),
]
WarehouseOpt = Annotated[
    str | None,
    typer.Option(help="Warehouse: a .duckdb path or a mysql:// / postgresql:// URL."),
]


def _seconds(value: str, flag: str) -> float:
    """``2s``, ``500ms``, ``1.5`` (seconds) → seconds."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*", value)
    if not match:
        raise typer.BadParameter(
            f"{value!r}: use seconds such as 2s, 500ms or 1.5", param_hint=flag
        )
    number = float(match[1])
    scale = {"ms": 0.001, "s": 1.0, "m": 60.0}[match[2] or "s"]
    seconds = number * scale
    if not 0.01 <= seconds <= 3600:
        raise typer.BadParameter(f"{value!r}: between 10ms and 1 hour", param_hint=flag)
    return seconds


@stream_app.command()
def ingest(
    source: Annotated[str, typer.Option(help="The event source: http://HOST:PORT.")],
    landing: Annotated[
        Path | None,
        typer.Option(help="Landing zone folder (default: data/landing).", file_okay=False),
    ] = None,
    broker: Annotated[
        str | None,
        typer.Option(help="Land in NATS JetStream instead: nats://HOST:4222."),
    ] = None,
    stream: Annotated[
        list[str] | None, typer.Option(help="Streams to poll (repeatable): votes, events.")
    ] = None,
    follow: Annotated[
        bool, typer.Option(help="Keep polling after the source says it is done.")
    ] = False,
    max_seconds: Annotated[
        float | None, typer.Option(help="Stop after this many seconds.", min=0)
    ] = None,
    config: ConfigOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Poll the source and land every answer durably before the next poll (resumable)."""
    with RichReporter(verbose=verbose) as reporter, guard(verbose):
        app = open_facade(config, {}, reporter)
        if broker is None and landing is None:
            landing = Path("data/landing")
        console.print(
            f"ingesting {source} into {broker or landing} (Ctrl-C stops)", highlight=False
        )
        stop = threading.Event()
        try:
            report = app.stream_ingest(
                source, landing=landing, broker=broker, streams=stream, follow=follow,
                max_seconds=max_seconds, stop=stop,
            )  # fmt: skip
        except KeyboardInterrupt:
            stop.set()
            raise
    landed = ", ".join(f"{name} {count:,}" for name, count in report.events.items())
    errors = ", ".join(f"{kind} {count}" for kind, count in sorted(report.errors.items()))
    console.print(
        f"landed {landed} in {report.files:,} files ({report.seconds:.1f} s)"
        + (f"; {report.retries} retries ({errors})" if report.retries else ""),
        highlight=False,
    )


@stream_app.command()
def process(
    landing: LandingOpt = Path("data/landing"),
    warehouse: WarehouseOpt = None,
    lake: Annotated[Path | None, typer.Option(help="Parquet lake folder.")] = None,
    trigger: Annotated[str, typer.Option(help="Time between micro-batches: 2s, 500ms.")] = "2s",
    once: Annotated[bool, typer.Option(help="Process what is landed now, then stop.")] = False,
    max_seconds: Annotated[
        float | None, typer.Option(help="Stop after this many seconds.", min=0)
    ] = None,
    engine: Annotated[
        str, typer.Option(help="Compute engine: duckdb, or spark (Structured Streaming).")
    ] = "duckdb",
    broker: BrokerOpt = None,
    config: ConfigOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Process landed events every trigger into live_leaderboard and live_usage, each event
    counted exactly once (a killed processor resumes where its last commit ended)."""
    trigger_s = _seconds(trigger, "--trigger")
    if engine not in ("duckdb", "spark"):
        raise typer.BadParameter(
            f"{engine!r}: the stream processor runs on duckdb or spark", param_hint="--engine"
        )
    with RichReporter(verbose=verbose) as reporter, guard(verbose):
        app = open_facade(config, {}, reporter)
        if not once:
            console.print(
                f"processing {broker or landing} every {trigger_s:g} s on {engine} (Ctrl-C stops)",
                highlight=False,
            )
        report = app.stream_process(
            landing=landing, warehouse=warehouse, lake=lake, trigger_s=trigger_s, once=once,
            max_seconds=max_seconds, engine=engine, broker=broker,
        )  # fmt: skip
    rate = report.lines / report.seconds if report.seconds else 0.0
    console.print(
        f"{len(report.batches)} batches, {report.lines:,} events, {report.counted:,} counted "
        f"({rate:,.0f} events/s)",
        highlight=False,
    )


@stream_app.command()
def status(
    landing: LandingOpt = Path("data/landing"),
    broker: BrokerOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    config: ConfigOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Landed and processed positions per stream, lag, batches, events/s and quarantine."""
    import json

    with RichReporter(verbose=verbose) as reporter, guard(verbose):
        state = open_facade(config, {}, reporter).stream_status(landing=landing, broker=broker)
    if as_json:
        console.print_json(json.dumps(state, default=str))
        return
    title = f"JetStream {broker}" if broker else f"landing zone {landing}"
    table = Table(box=box.SIMPLE, title=title, title_justify="left")
    for column in ("stream", "landed", "processed", "lag", "files"):
        table.add_column(column, justify="left" if column == "stream" else "right")
    for name, row in state["streams"].items():
        table.add_row(name, *(f"{row[k]:,}" for k in ("landed", "processed", "lag", "files")))
    console.print(table)
    processor = state["processor"]
    if not processor:
        console.print("no batch processed yet (`c360 stream process`)")
        return
    recent = processor["recent"]
    console.print(
        f"{processor['batches']:,} batches, {processor['events']:,} events: "
        f"{processor['counted']:,} counted, {processor['duplicates']:,} repeats, "
        f"{processor['quarantined']:,} quarantined, {processor['late']:,} late; "
        f"last commit {processor['last_commit']}; {_recent_rate(recent)}",
        highlight=False,
    )
    if processor["quarantine_reasons"]:
        reasons = ", ".join(f"{k} {v:,}" for k, v in processor["quarantine_reasons"].items())
        console.print(f"quarantined by reason: {reasons}", highlight=False)


def _recent_rate(recent: dict[str, Any]) -> str:
    """Events/s over the last batches, from their commit times."""
    from datetime import datetime

    first, last = recent.get("first_commit"), recent.get("last_commit")
    if not first or not last or recent.get("batches", 0) < 2:
        return "events/s: not enough batches yet"
    span = (datetime.fromisoformat(last) - datetime.fromisoformat(first)).total_seconds()
    return (
        f"{recent['events'] / span:,.0f} events/s over the last {recent['batches']} batches"
        if span > 0
        else ""
    )


@stream_app.command()
def top(
    warehouse: WarehouseOpt = None,
    limit: Annotated[int, typer.Option(help="Songs shown.", min=1, max=1000)] = 10,
    refresh: Annotated[str, typer.Option(help="Time between refreshes.")] = "1s",
    once: Annotated[bool, typer.Option(help="Print once and stop.")] = False,
    config: ConfigOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """The live leaderboard in the terminal, refreshed until Ctrl-C."""
    every = _seconds(refresh, "--refresh")
    with RichReporter(verbose=verbose) as reporter, guard(verbose):
        app = open_facade(config, {}, reporter)
        if once:
            console.print(_board(app.stream_leaderboard(warehouse=warehouse, limit=limit)))
            return
        with Live(console=console, auto_refresh=False) as view:
            while True:
                board = app.stream_leaderboard(warehouse=warehouse, limit=limit)
                view.update(_board(board), refresh=True)
                time.sleep(every)


def _board(board: Any) -> Table:
    table = Table(box=box.SIMPLE, title="live leaderboard", title_justify="left")
    for column in ("rank", "song", "total votes", "last 1 min", "last 10 min"):
        table.add_column(column, justify="left" if column == "song" else "right")
    for row in board.to_pylist():
        table.add_row(
            str(row["rank"]), row["song"], f"{row['total_votes']:,}", f"{row['votes_1m']:,}",
            f"{row['votes_10m']:,}",
        )  # fmt: skip
    return table
