"""One exception tree for c360.

Every error a user can cause or meet derives from :class:`C360Error`. Errors are split into
*terminal* (retrying will not help: fix the input or the configuration) and *transient*
(a retry may succeed: a busy server, a lock held by a live run). Driver errors are translated at
the boundary with ``raise ... from exc`` so the message names the object and the remedy.
"""

from __future__ import annotations


class C360Error(Exception):
    """Base of every c360 error. ``str(err)`` is a one-line message meant for the user."""

    transient: bool = False
    #: The stage of a run that raised it (``ingest``, ``transform``, ``check``, ``publish``),
    #: set by the stage wrapper.
    stage: str | None = None


class TerminalError(C360Error):
    """Retrying the same call will fail again; the input or the configuration must change."""


class TransientError(C360Error):
    """The same call may succeed later (busy resource, network hiccup)."""

    transient = True


class ConfigError(TerminalError):
    """A configuration value is missing or invalid; the message names the key and its source."""


class InputError(TerminalError):
    """An input path is missing, empty or unreadable."""


class OutputError(TerminalError):
    """An output location cannot be written."""


class EngineError(TerminalError):
    """The compute engine failed or is not available."""


class SinkError(TerminalError):
    """A warehouse or lake write failed; the previous version of the table is intact."""


class BusyError(TransientError):
    """Another c360 run holds the lake; retry when it has finished."""


class QualityError(TerminalError):
    """A data quality check failed: the run stopped before publishing its tables."""


class NotFoundError(InputError):
    """What was asked for is not in the served warehouse (an API answers 404)."""


class UnavailableError(TransientError):
    """Nothing can be answered yet: the warehouse is missing, empty or unreachable (503)."""


def is_interrupt(exc: BaseException) -> bool:
    """Whether ``exc`` is Ctrl-C, or an error raised because of it.

    DuckDB answers Ctrl-C during a query with ``RuntimeError: Query interrupted`` raised from the
    ``KeyboardInterrupt``; a driver error wrapped at the boundary keeps it in its chain. Either is
    the user's Ctrl-C, not a failure.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, KeyboardInterrupt):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False
