"""What every ``c360`` command shares: the common options, one-line errors, the façade."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.markup import escape

from c360.console import RichReporter, console, err_console
from c360.errors import C360Error, is_interrupt

if TYPE_CHECKING:
    from c360.app import C360

ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config", help="TOML config file (default: ./c360.toml when present).", dir_okay=False
    ),
]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="More detail, and tracebacks.")]


def fail(message: str, *, code: int = 1) -> NoReturn:
    err_console.print(f"[bold red]error:[/bold red] {escape(message)}", soft_wrap=True)
    raise typer.Exit(code)


def day(value: str | None, flag: str) -> date | None:
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        fail(f"{flag} {value!r} is not a date; use YYYY-MM-DD", code=2)


def open_facade(config: Path | None, overrides: dict[str, Any], reporter: RichReporter) -> C360:
    from c360.app import C360

    return C360(config_file=config, overrides=overrides, reporter=reporter)


@contextmanager
def guard(verbose: bool) -> Iterator[None]:
    """Turn c360 errors into one line (and the traceback with --verbose)."""
    try:
        yield
    except (typer.Exit, KeyboardInterrupt):
        raise
    except Exception as exc:
        if is_interrupt(exc):  # Ctrl-C seen by a driver (DuckDB mid-query): ends as Ctrl-C
            raise KeyboardInterrupt from exc
        if not isinstance(exc, C360Error | OSError):
            raise
        if verbose:
            console.print_exception()
        if isinstance(exc, C360Error):
            fail(f"{exc} (in the {exc.stage} stage)" if exc.stage else str(exc))
        fail(f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc))
