"""Fixtures of the engine tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from c360.config import EngineConfig
from c360.engines.duckdb import DuckDBEngine


@pytest.fixture(scope="module")
def engine() -> Iterator[DuckDBEngine]:
    """A two-thread DuckDB engine, one per test module."""
    with DuckDBEngine(EngineConfig(threads=2)) as eng:
        yield eng  # type: ignore[misc]
