"""All user-facing output: one rich console, and progress reporting for long work.

The pipeline reports progress through the small :class:`Reporter` protocol, so the same code runs
silently from a notebook (:class:`NullReporter`) and with progress bars from the CLI.
"""

from __future__ import annotations

from typing import Protocol

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


class Reporter(Protocol):
    """Receives progress from long-running work."""

    def stage(self, name: str, total: int | None = None) -> None:
        """A new stage starts; ``total`` steps when known."""

    def advance(self, detail: str = "") -> None:
        """One step of the current stage is done."""

    def info(self, message: str) -> None:
        """A line worth showing (``--verbose`` shows more of them)."""

    def warn(self, message: str) -> None:
        """Something the user should know; the run goes on."""


class NullReporter:
    """Discards progress; warnings are kept for the caller to inspect."""

    def __init__(self) -> None:
        self.warnings: list[str] = []

    def stage(self, name: str, total: int | None = None) -> None:
        return None

    def advance(self, detail: str = "") -> None:
        return None

    def info(self, message: str) -> None:
        return None

    def warn(self, message: str) -> None:
        self.warnings.append(message)


class RichReporter:
    """Progress bars on stderr; ``verbose`` also prints info lines."""

    def __init__(self, *, verbose: bool = False) -> None:
        self.verbose = verbose
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[detail]}"),
            console=err_console,
            transient=True,
            disable=not err_console.is_terminal,
        )
        self.task: TaskID | None = None

    def __enter__(self) -> RichReporter:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def stage(self, name: str, total: int | None = None) -> None:
        if self.task is not None:
            self.progress.update(self.task, visible=False)
        self.task = self.progress.add_task(name, total=total, detail="")
        if self.verbose:
            err_console.print(f"[dim]· {name}[/dim]")

    def advance(self, detail: str = "") -> None:
        if self.task is not None:
            self.progress.update(self.task, advance=1, detail=detail)

    def info(self, message: str) -> None:
        if self.verbose:
            err_console.print(f"[dim]{message}[/dim]")

    def warn(self, message: str) -> None:
        err_console.print(f"[yellow]warning:[/yellow] {message}")
