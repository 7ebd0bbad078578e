"""The streaming simulator over real HTTP (uvicorn on loopback, httpx): positions, the cursor,
replay with ``from``, availability at the rate, ``total``, injected errors, the dump and
one-line JSON errors."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from c360.app import C360, FaultRates
from c360.generate.stream_events import EventSource
from stream.conftest import START
from stream.conftest import running_simulator as _running


def _data(answer: httpx.Response) -> dict[str, Any]:
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == "success"
    data: dict[str, Any] = body["data"]
    return data


def _dumped(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_the_cursor_hands_out_positions_until_total_then_done() -> None:
    with _running(total=250) as client:
        pages = [_data(client.get("/votes", params={"count": 100})) for _ in range(4)]
        assert [(p["from"], p["next"], p["count"], p["done"]) for p in pages] == [
            (0, 100, 100, False), (100, 200, 100, False), (200, 250, 50, True), (250, 250, 0, True)
        ]  # fmt: skip
        assert [len(p["votes"]) for p in pages] == [100, 100, 50, 0]
        # Each stream has its own cursor, and 100 is the default count.
        events = _data(client.get("/events"))
        assert (events["from"], events["count"], len(events["events"])) == (0, 100, 100)
        assert set(events["events"][0]) >= {"id", "timestamp", "Contract", "AppName"}


def test_from_replays_the_same_events_and_leaves_the_cursor() -> None:
    with _running(seed=11, faults=FaultRates(duplicate=0.1, late=0.1, junk=0.1)) as client:
        first = _data(client.get("/votes", params={"count": 300}))
        again = _data(client.get("/votes", params={"count": 50, "from": 120}))
        assert (again["from"], again["next"]) == (120, 170)
        assert again["votes"] == first["votes"][120:170]
        assert _data(client.get("/votes", params={"count": 5}))["from"] == 300
        # Past the cursor too, and a fresh simulator serves the same.
        ahead = _data(client.get("/votes", params={"count": 5, "from": 1000}))["votes"]
    with _running(seed=11, faults=FaultRates(duplicate=0.1, late=0.1, junk=0.1)) as client:
        assert _data(client.get("/votes", params={"count": 300}))["votes"] == first["votes"]
        assert _data(client.get("/votes", params={"count": 5, "from": 1000}))["votes"] == ahead


def test_the_server_serves_the_pure_events_with_their_faults(tmp_path: Path) -> None:
    faults = FaultRates(duplicate=0.05, late=0.05, junk=0.1)
    dump = tmp_path / "truth.jsonl"
    with _running(seed=3, faults=faults, dump=dump) as client:
        events = _data(client.get("/events", params={"count": 2000}))["events"]
    source = EventSource("events", seed=3, rate=0.0, start=START, faults=faults)
    expected = [source.at(p) for p in range(2000)]
    assert events == [s.event for s in expected]
    lines = _dumped(dump)
    assert [(d["position"], d["fault"], d["event"]) for d in lines] == [
        (s.position, s.fault, s.event) for s in expected
    ]
    assert {d["fault"].split(":")[0] for d in lines if d["fault"]} == {"junk", "duplicate", "late"}


def test_positions_become_available_at_the_rate() -> None:
    rate = 200.0
    began = time.monotonic()
    with _running(rate=rate) as client:
        first = _data(client.get("/votes", params={"count": 10_000}))
        assert first["count"] <= (time.monotonic() - began) * rate + 1
        time.sleep(0.3)
        second = _data(client.get("/votes", params={"count": 10_000}))
        elapsed = time.monotonic() - began
        assert second["from"] == first["next"]
        assert 0.3 * rate * 0.8 <= second["count"] and second["next"] <= elapsed * rate + 1
        # Positions not made yet are not served by `from` either.
        assert _data(client.get("/votes", params={"from": 10**6}))["count"] == 0
        assert second["done"] is False


def test_the_event_time_follows_the_position() -> None:
    with _running(rate=0.0, start=datetime(2026, 12, 2, 18, 0, 5)) as client:
        votes = _data(client.get("/votes", params={"count": 3, "from": 2500}))["votes"]
    assert [v["timestamp"] for v in votes] == [
        "2026-12-02T18:00:07.500000Z", "2026-12-02T18:00:07.501000Z", "2026-12-02T18:00:07.502000Z"
    ]  # fmt: skip


def test_injected_errors_serve_nothing_and_leave_the_cursor(tmp_path: Path) -> None:
    dump = tmp_path / "truth.jsonl"
    with _running(seed=5, faults=FaultRates(error=0.5), dump=dump) as client:
        answers = [client.get("/votes", params={"count": 10}) for _ in range(30)]
    statuses = {a.status_code for a in answers}
    assert statuses == {200, 500, 503}
    errors = [a for a in answers if a.status_code != 200]
    assert all(a.json() == {"status": "error", "message": "injected fault"} for a in errors)
    served = [_data(a) for a in answers if a.status_code == 200]
    assert [p["from"] for p in served] == [10 * i for i in range(len(served))]
    assert [d["position"] for d in _dumped(dump)] == list(range(10 * len(served)))


def test_every_request_fails_at_an_error_rate_of_one(tmp_path: Path) -> None:
    dump = tmp_path / "truth.jsonl"
    with _running(faults=FaultRates(error=1.0), dump=dump) as client:
        assert {client.get("/events").status_code for _ in range(10)} <= {500, 503}
        assert client.get("/healthz").json() == {"status": "ok"}
    assert dump.read_text() == ""


def test_the_dump_has_one_line_per_position_served(tmp_path: Path) -> None:
    dump = tmp_path / "truth.jsonl"
    before = time.time()
    with _running(dump=dump, faults=FaultRates(junk=0.2)) as client:
        client.get("/votes", params={"count": 20, "from": 30})  # ahead of the cursor
        votes = _data(client.get("/votes", params={"count": 60}))["votes"]  # 0..59
        client.get("/votes", params={"count": 40, "from": 10})  # all served before
        client.get("/events", params={"count": 5})
    lines = _dumped(dump)
    votes_dumped = [d for d in lines if d["stream"] == "votes"]
    assert sorted(d["position"] for d in votes_dumped) == list(range(60))
    assert [d["position"] for d in votes_dumped] == [*range(30, 50), *range(30), *range(50, 60)]
    by_position = {d["position"]: d["event"] for d in votes_dumped}
    assert [by_position[p] for p in range(60)] == votes
    assert [d["position"] for d in lines if d["stream"] == "events"] == list(range(5))
    assert all(before <= d["served_at"] <= time.time() for d in lines)
    assert set(lines[0]) == {"stream", "position", "served_at", "fault", "event"}


def test_concurrent_polls_share_the_cursor_without_overlap(tmp_path: Path) -> None:
    dump = tmp_path / "truth.jsonl"
    with _running(dump=dump) as client, ThreadPoolExecutor(4) as pool:
        pages = list(pool.map(lambda _: _data(client.get("/events?count=250")), range(8)))
    spans = sorted((p["from"], p["next"]) for p in pages)
    assert spans == [(250 * i, 250 * (i + 1)) for i in range(8)]
    assert [d["position"] for d in _dumped(dump)] == list(range(2000))


def test_delay_waits_before_answering() -> None:
    with _running() as client:
        began = time.monotonic()
        assert _data(client.get("/votes", params={"count": 1, "delay": 0.3}))["count"] == 1
        assert time.monotonic() - began >= 0.3


#: Queries a client may get wrong, and the parameter each error must name.
BAD_QUERIES = [
    ("count=0", "count"), ("count=x", "count"), ("count=10001", "count"), ("count=1.5", "count"),
    ("delay=99", "delay"), ("delay=soon", "delay"), ("delay=nan", "delay"), ("from=-1", "from"),
    ("from=", "from"),
]  # fmt: skip


def test_bad_parameters_are_a_one_line_422() -> None:
    with _running() as client:
        for query, word in BAD_QUERIES:
            answer = client.get(f"/votes?{query}")
            assert answer.status_code == 422, query
            body = answer.json()
            assert body["status"] == "error" and word in body["message"], query
            assert "\n" not in body["message"] and "Traceback" not in answer.text
        # Nothing was served: the cursor is where it was.
        assert _data(client.get("/votes", params={"count": 1}))["from"] == 0


def test_other_paths_and_methods_answer_json() -> None:
    with _running() as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        missing = client.get("/leaderboard")
        assert missing.status_code == 404 and missing.json()["status"] == "error"
        posted = client.post("/votes")
        assert posted.status_code == 405 and posted.json()["status"] == "error"


def test_a_dump_that_cannot_be_written_is_one_line(tmp_path: Path) -> None:
    from c360.errors import OutputError

    with pytest.raises(OutputError, match="cannot write the dump"):
        C360().simulator(dump=tmp_path / "missing" / "truth.jsonl")
