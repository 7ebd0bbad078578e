"""A warehouse built by a real run on generated data (content, search, bridge), served by the API
in process; the tests compare the API's answers with the warehouse's own tables."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from c360.app import C360
from c360.config import load_config
from c360.shells.api.routes import create_app
from c360.shells.api.security import ApiKeys, key_hash

KEY = "k3y-for-tests"


@pytest.fixture(scope="package")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("served")
    app = C360(config=load_config(env={}, overrides={"quality.allow_failures": True}))
    raw = app.generate(root / "raw", scale=0.002, days=3)
    path = root / "c360.duckdb"
    app.run(
        raw.content_dir, warehouse=str(path), lake=root / "lake", search=raw.search_dir,
        bridge=raw.bridge,
    )  # fmt: skip
    app.classify(lake=root / "lake", warehouse=str(path))
    return path


@pytest.fixture(scope="package")
def sql(warehouse: Path) -> Callable[..., list[dict[str, Any]]]:
    """Rows of a query on the warehouse itself, as dicts."""

    def run(query: str, *params: object) -> list[dict[str, Any]]:
        con = duckdb.connect(str(warehouse), read_only=True)
        try:
            result = con.execute(query, list(params)).to_arrow_table()
            rows: list[dict[str, Any]] = result.to_pylist()
            return rows
        finally:
            con.close()

    return run


@pytest.fixture(scope="package")
def service(warehouse: Path) -> Iterator[Any]:
    with C360(config=load_config(env={})).serving(warehouse=str(warehouse)) as served:
        yield served


@pytest.fixture(scope="package")
def client(service: Any) -> TestClient:
    """The API without keys (as on loopback)."""
    return TestClient(create_app(service, keys=ApiKeys(frozenset())))


@pytest.fixture(scope="package")
def keyed_app(service: Any) -> FastAPI:
    """The API with one key required."""
    return create_app(service, keys=ApiKeys(frozenset({key_hash(KEY)})))


@pytest.fixture(scope="package")
def keyed(keyed_app: FastAPI) -> TestClient:
    return TestClient(keyed_app)
