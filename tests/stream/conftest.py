"""Shared helpers of the streaming tests: a real simulator on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import httpx

from _support import serving_in_thread
from c360.app import C360

START = datetime(2026, 12, 2, 18, tzinfo=UTC)


@contextmanager
def running_simulator(*, port: int | None = None, **options: Any) -> Iterator[httpx.Client]:
    """A simulator from the façade, served by uvicorn in a thread; a client bound to it."""
    options = {"rate": 0.0, "start": START, **options}
    with (
        serving_in_thread(C360().simulator(**options), port=port) as base,
        httpx.Client(base_url=base, timeout=20) as client,
    ):
        yield client
