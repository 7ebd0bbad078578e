"""``c360 simulate``: the streaming simulator on uvicorn (SPEC 8.2)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from c360.console import RichReporter, console
from c360.shells.cli.common import ConfigOpt, VerboseOpt, fail, guard, open_facade

#: The fault rates ``--faults`` turns on (error, duplicate, late, junk).
FAULTS_PRESET = (0.05, 0.02, 0.02, 0.02)


def simulate(
    seed: Annotated[int, typer.Option(help="The same seed serves the same events.")] = 7,
    rate: Annotated[
        float, typer.Option(help="Events a second per stream (0: no limit).", min=0.0)
    ] = 5000.0,
    port: Annotated[int, typer.Option(help="Port.", min=1, max=65535)] = 8361,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    total: Annotated[
        int | None, typer.Option(help="Events per stream, then done (default: no end).", min=0)
    ] = None,
    dump: Annotated[
        Path | None,
        typer.Option(
            help="Append every event served, one JSON line each (ground truth).", dir_okay=False
        ),
    ] = None,
    error_rate: Annotated[
        float | None,
        typer.Option(help="Share of requests answered 500 or 503 (default: 0).", min=0.0, max=1.0),
    ] = None,
    duplicate_rate: Annotated[
        float | None,
        typer.Option(
            help="Share of events repeating an earlier one (default: 0).", min=0.0, max=1.0
        ),
    ] = None,
    late_rate: Annotated[
        float | None,
        typer.Option(
            help="Share of events stamped 90 s to 15 min early (default: 0).", min=0.0, max=1.0
        ),
    ] = None,
    junk_rate: Annotated[
        float | None,
        typer.Option(help="Share of events with one thing wrong (default: 0).", min=0.0, max=1.0),
    ] = None,
    faults: Annotated[
        bool,
        typer.Option(
            "--faults",
            help="Inject every fault: error 0.05, duplicate 0.02, late 0.02, junk 0.02 (a "
            "--*-rate given wins).",
        ),
    ] = False,
    start: Annotated[
        str | None,
        typer.Option(
            help="Event time of the first event, ISO 8601 (default: now; UTC unless "
            "it says otherwise)."
        ),
    ] = None,
    config: ConfigOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Serve song votes (GET /votes) and viewing events (GET /events) at http://HOST:PORT.

    Events are a pure function of the seed and their position in the stream: ?from=K serves
    positions K… again, exactly as before. See README "Streaming simulator".
    """
    import uvicorn

    from c360.app import FaultRates

    preset = FAULTS_PRESET if faults else (0.0, 0.0, 0.0, 0.0)
    given = (error_rate, duplicate_rate, late_rate, junk_rate)
    error, duplicate, late, junk = (
        preset[i] if value is None else value for i, value in enumerate(given)
    )
    first_time = _moment(start)
    with RichReporter(verbose=verbose) as reporter, guard(verbose):
        app = open_facade(config, {}, reporter).simulator(
            seed=seed, rate=rate, total=total, dump=dump, start=first_time,
            faults=FaultRates(error=error, duplicate=duplicate, late=late, junk=junk),
        )  # fmt: skip
        speed = f"{rate:.10g} events/s" if rate > 0 else "no rate limit"
        console.print(
            f"simulating votes and viewing events on http://{host}:{port} (seed {seed}, {speed})",
            highlight=False,
            soft_wrap=True,
        )
        uvicorn.Server(
            uvicorn.Config(app, host=host, port=port, log_level="warning", server_header=False)
        ).run()


def _moment(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        fail(f"--start {text!r} is not a time; use ISO 8601, e.g. 2026-12-02T18:00:00Z", code=2)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
