"""The online store (``c360.serving.online``, real Redis): profiles of one publish under its own
prefix, switched to at once, the same JSON as the warehouse's; the warehouse stands in when Redis
is down."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient

from c360.app import C360
from c360.config import load_config
from c360.shells.api.routes import create_app
from c360.shells.api.security import ApiKeys

#: A Redis database of this test worker's own (xdist runs workers side by side).
DB = 1 + int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
URL = f"redis://127.0.0.1:6379/{DB}"


@pytest.fixture
def store() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(URL, decode_responses=True)
    client.flushdb()
    yield client
    client.flushdb()


def _client(warehouse: Path, online: str | None) -> Any:
    return C360(config=load_config(env={})).serving(warehouse=str(warehouse), online=online)


def _contracts(sql: Any) -> list[str]:
    rows = sql("SELECT contract FROM customer_360 ORDER BY user_id NULLS LAST, contract LIMIT 3")
    return [r["contract"] for r in rows]


def test_online_profiles_are_the_warehouses_json(
    warehouse: Path, sql: Any, store: redis.Redis
) -> None:
    done = C360(config=load_config(env={})).publish_online(online=URL, warehouse=str(warehouse))
    (count,) = sql("SELECT count(*) AS n FROM customer_360")
    assert done.customers == count["n"] and done.users > 0
    assert store.get("c360:current") == done.publish_id
    assert store.hlen(f"c360:{done.publish_id}:customers") == count["n"]
    with _client(warehouse, None) as plain, _client(warehouse, URL) as online:
        direct = TestClient(create_app(plain, keys=ApiKeys(frozenset())))
        fast = TestClient(create_app(online, keys=ApiKeys(frozenset())))
        for contract in _contracts(sql):
            a = direct.get(f"/api/v1/customers/{contract}")
            b = fast.get(f"/api/v1/customers/{contract}")
            assert a.status_code == b.status_code == 200
            assert a.content == b.content  # byte for byte, served publish included
        missing = fast.get("/api/v1/customers/XX0000000")
        assert missing.status_code == 404 and "no customer" in missing.json()["error"]
        assert f"publish {done.publish_id}" in fast.get("/readyz").json()["online"]


def test_a_new_publish_switches_at_once_and_the_old_one_expires(
    warehouse: Path, sql: Any, store: redis.Redis
) -> None:
    app = C360(config=load_config(env={}))
    first = app.publish_online(online=URL, warehouse=str(warehouse))
    store.set("c360:current", "older")  # as if an earlier publish were being served
    store.hset("c360:older:customers", "HN0000001", "{}")
    second = app.publish_online(online=URL, warehouse=str(warehouse))
    assert second.publish_id == first.publish_id == store.get("c360:current")
    assert 0 < store.ttl("c360:older:customers") <= 300
    assert store.ttl(f"c360:{second.publish_id}:customers") == -1  # the served one stays


def test_redis_down_falls_back_to_the_warehouse_and_says_so(warehouse: Path, sql: Any) -> None:
    with _client(warehouse, "redis://127.0.0.1:1/0") as service:
        client = TestClient(create_app(service, keys=ApiKeys(frozenset())))
        contract = _contracts(sql)[0]
        answer = client.get(f"/api/v1/customers/{contract}")
        assert answer.status_code == 200 and answer.json()["customer"]["contract"] == contract
        ready = client.get("/readyz").json()
        assert ready["ready"] is True
        assert ready["online"].startswith("unavailable, answering from the warehouse")


def test_publish_online_needs_a_redis_url(warehouse: Path) -> None:
    from c360.errors import ConfigError

    with pytest.raises(ConfigError, match="give a redis:// URL"):
        C360(config=load_config(env={})).publish_online(
            online="127.0.0.1:6379", warehouse=str(warehouse)
        )


def test_a_switch_is_seen_within_the_pointer_ttl_and_answers_name_their_publish(
    warehouse: Path, sql: Any, store: redis.Redis
) -> None:
    from c360.serving.online import POINTER_TTL

    done = C360(config=load_config(env={})).publish_online(online=URL, warehouse=str(warehouse))
    contract = _contracts(sql)[0]
    with _client(warehouse, URL) as service:
        assert service.customer_json(contract).publish_id == done.publish_id
        store.hset("c360:next:customers", contract, '{"contract": "switched"}')
        store.hset("c360:next:meta", mapping={"publish_id": "next", "run_id": "run-next"})
        store.set("c360:current", "next")
        held = service.customer_json(contract)  # the held pointer: the old publish, whole
        assert (held.publish_id, held.data) == (
            done.publish_id, store.hget(f"c360:{done.publish_id}:customers", contract)
        )  # fmt: skip
        time.sleep(POINTER_TTL + 0.1)
        moved = service.customer_json(contract)
        assert (moved.publish_id, moved.run_id, moved.data) == (
            "next", "run-next", '{"contract": "switched"}'
        )  # fmt: skip
