"""Shared fixtures. Plain helpers live in ``_support.py`` (``from _support import ...``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from _fake_llm import FakeLLM, serve_fake_llm
from _support import REAL_DATA
from c360.engines.duckdb import connect


@pytest.fixture(scope="session")
def duck() -> Any:
    """An in-memory DuckDB Ibis backend for running pure rules."""
    return connect()


@pytest.fixture
def execute(duck: Any) -> Callable[..., list[dict[str, Any]]]:
    """Run an expression and return its rows as dicts, sorted by the given columns."""

    def run(expr: Any, *, order_by: Iterable[str] = ()) -> list[dict[str, Any]]:
        keys = list(order_by)
        table = duck.to_pyarrow(expr.order_by(keys) if keys else expr)
        return table.to_pylist()

    return run


@pytest.fixture(scope="session")
def real_content_dir() -> Path:
    folder = REAL_DATA / "log_content_sample"
    if not folder.is_dir():
        pytest.fail(f"the real samples are missing: {folder}")
    return folder


@pytest.fixture
def fake_llm() -> Iterator[tuple[FakeLLM, str]]:
    """A local OpenAI-compatible server (faults scripted per test) and its base URL."""
    with serve_fake_llm() as served:
        yield served
