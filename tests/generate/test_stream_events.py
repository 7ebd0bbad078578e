"""The simulator's events (SPEC 8.2): deterministic per position, shaped as the consumers expect,
and faults at their rates, each exactly what it claims to be."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from c360.config import C360Config
from c360.errors import ConfigError
from c360.generate.stream_events import (
    DUPLICATE_WINDOW,
    JUNK_KINDS,
    EventSource,
    FaultRates,
    Served,
    song_titles,
)

START = datetime(2026, 12, 2, 18, tzinfo=UTC)
RATE = 1000.0
POSITIONS = 20_000
FAULTS = FaultRates(junk=0.1, duplicate=0.05, late=0.05)
CONTENT = C360Config().content
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def _source(stream: str, *, seed: int = 7, faults: FaultRates = FAULTS, **options: Any) -> Any:
    return EventSource(
        stream, seed=seed, rate=options.pop("rate", RATE), start=START, faults=faults, **options
    )


@pytest.fixture(scope="module", params=["votes", "events"])
def stream(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def served(stream: str) -> list[Served]:
    """Twenty thousand positions of the stream, with every fault turned on."""
    source = _source(stream)
    return [source.at(position) for position in range(POSITIONS)]


def _time(text: Any) -> datetime | None:
    if not isinstance(text, str) or not TIMESTAMP.match(text):
        return None
    return datetime.fromisoformat(text)


def _problems(stream: str, event: Any, nominal: datetime) -> list[str]:
    """What a consumer would refuse in an event, named as the junk kinds are."""
    if not isinstance(event, dict):
        return ["not_object"]
    problems = [] if isinstance(event.get("id"), str) and event["id"] else ["missing_id"]
    moment = _time(event.get("timestamp"))
    if moment is None:
        problems.append("bad_timestamp")
    elif moment > nominal + timedelta(hours=12):
        problems.append("future_timestamp")
    elif moment.year < 2000:
        problems.append("past_timestamp")
    if stream == "votes":
        if "song" not in event:
            problems.append("missing_song")
        elif not isinstance(event["song"], str):
            problems.append("song_not_text")
        elif not event["song"]:
            problems.append("empty_song")
        if event.get("vote") is not True:
            problems.append("vote_not_true")
        return problems
    if not re.search(CONTENT.contract_pattern, str(event.get("Contract"))):
        problems.append("bad_contract")
    if not 1 <= event.get("TotalDuration", 0) <= 3600:
        problems.append("negative_duration")
    if "AppName" not in event:
        problems.append("missing_app")
    return problems


# -- determinism ---------------------------------------------------------------------------------


def test_the_same_seed_serves_the_same_events(stream: str, served: list[Served]) -> None:
    again = _source(stream)
    assert [again.at(p) for p in range(0, POSITIONS, 7)] == served[::7]


def test_another_seed_serves_other_events(stream: str, served: list[Served]) -> None:
    other = _source(stream, seed=8)
    ids = {s.event["id"] for s in served[:500] if isinstance(s.event, dict) and "id" in s.event}
    assert not ids & {other.at(p).event.get("id") for p in range(500) if other.at(p).fault is None}


def test_fault_rates_change_which_positions_are_faulty_not_the_healthy_events(
    stream: str, served: list[Served]
) -> None:
    clean = _source(stream, faults=FaultRates())
    healthy = [s for s in served[:3000] if s.fault is None]
    assert [clean.at(s.position) for s in healthy] == healthy


def test_the_streams_differ(served: list[Served], stream: str) -> None:
    other = _source("events" if stream == "votes" else "votes")
    assert served[0].event["id"] != other.at(0).event["id"]


# -- shape ---------------------------------------------------------------------------------------


def test_healthy_votes_are_shaped_as_the_song_vote_api() -> None:
    source = _source("votes", faults=FaultRates())
    titles = set(song_titles(200))
    for position in range(2000):
        vote = source.at(position).event
        assert set(vote) == {"id", "user_id", "song", "vote", "timestamp"}
        assert re.fullmatch(
            r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}", vote["id"]
        )
        assert re.fullmatch(r"u\d{5}", vote["user_id"])
        assert vote["song"] in titles and vote["vote"] is True
        assert vote["timestamp"] == source.event_time(position).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def test_healthy_viewing_events_are_shaped_as_the_content_logs() -> None:
    source = _source("events", faults=FaultRates())
    for position in range(2000):
        event = source.at(position).event
        assert set(event) == {"id", "timestamp", "Contract", "Mac", "AppName", "TotalDuration"}
        assert re.search(CONTENT.contract_pattern, event["Contract"])
        assert re.fullmatch(r"[0-9A-F]{12}", event["Mac"])
        assert event["AppName"] in CONTENT.app_categories
        assert isinstance(event["TotalDuration"], int) and 1 <= event["TotalDuration"] <= 3600
        assert TIMESTAMP.match(event["timestamp"])


def test_song_popularity_is_skewed() -> None:
    source = _source("votes", faults=FaultRates())
    votes = Counter(source.at(p).event["song"] for p in range(POSITIONS))
    ranked = [n for _, n in votes.most_common()]
    assert ranked[0] > 10 * ranked[len(ranked) // 2]
    assert votes.most_common(1)[0][0] == song_titles(1)[0]
    assert len(set(song_titles(1000))) == 1000


def test_event_time_is_start_plus_position_over_rate() -> None:
    assert _source("votes", rate=4.0).event_time(10) == START + timedelta(seconds=2.5)
    unlimited = _source("events", rate=0.0)
    assert unlimited.event_time(1500) == START + timedelta(seconds=1.5)
    naive = EventSource("votes", seed=1, rate=1.0, start=datetime(2026, 1, 1), faults=FaultRates())
    assert naive.event_time(0) == datetime(2026, 1, 1, tzinfo=UTC)


# -- faults --------------------------------------------------------------------------------------


def test_each_fault_rate_is_roughly_honoured(served: list[Served]) -> None:
    faults = Counter((s.fault or "none").split(":")[0] for s in served)
    # Tried in order: a position is only made duplicate when not junk, late when neither.
    expected = {
        "junk": FAULTS.junk,
        "duplicate": (1 - FAULTS.junk) * FAULTS.duplicate,
        "late": (1 - FAULTS.junk) * (1 - FAULTS.duplicate) * FAULTS.late,
    }
    for fault, share in expected.items():
        assert faults[fault] / POSITIONS == pytest.approx(share, rel=0.15), fault


def test_no_faults_without_rates(stream: str) -> None:
    source = _source(stream, faults=FaultRates())
    assert all(source.at(p).fault is None for p in range(3000))


def test_a_duplicate_repeats_the_nearest_earlier_valid_event(served: list[Served]) -> None:
    duplicates = [s for s in served if s.fault == "duplicate"]
    assert duplicates
    for duplicate in duplicates:
        p = duplicate.position
        earlier = served[max(0, p - DUPLICATE_WINDOW) : p]
        valid = [s for s in earlier if not (s.fault or "").startswith(("junk", "duplicate"))]
        assert valid, p
        assert duplicate.event == valid[-1].event, p  # the nearest one, id included


def test_a_duplicate_needs_something_to_repeat(stream: str) -> None:
    every = _source(stream, faults=FaultRates(duplicate=1.0))
    faults = [every.at(p).fault for p in range(2 * DUPLICATE_WINDOW + 3)]
    # Position 0 has nothing before it; 51 has only duplicates within reach.
    assert faults[0] is None and faults[DUPLICATE_WINDOW + 1] is None
    assert faults.count(None) == 3
    assert every.at(DUPLICATE_WINDOW + 2).event == every.at(DUPLICATE_WINDOW + 1).event


def test_late_events_are_stamped_90_seconds_to_15_minutes_early(
    stream: str, served: list[Served]
) -> None:
    source = _source(stream)
    late = [s for s in served if s.fault == "late"]
    assert late
    for event in late:
        early = source.event_time(event.position) - datetime.fromisoformat(event.event["timestamp"])
        assert timedelta(seconds=90) <= early <= timedelta(minutes=15)
        assert _problems(stream, event.event, source.event_time(event.position)) == []


def test_every_junk_kind_is_served_with_exactly_one_thing_wrong(
    stream: str, served: list[Served]
) -> None:
    source = _source(stream)
    clean = _source(stream, faults=FaultRates())
    kinds: Counter[str] = Counter()
    for junk in (s for s in served if (s.fault or "").startswith("junk:")):
        kind = junk.fault.removeprefix("junk:")  # type: ignore[union-attr]
        kinds[kind] += 1
        nominal = source.event_time(junk.position)
        assert _problems(stream, junk.event, nominal) == [kind], junk
        if isinstance(junk.event, dict):  # the rest is the healthy event's
            healthy = clean.at(junk.position).event
            changed = {k for k in healthy.keys() | junk.event.keys()
                       if json.dumps(healthy.get(k)) != json.dumps(junk.event.get(k))}  # fmt: skip
            assert len(changed) == 1, junk
    assert set(kinds) == set(JUNK_KINDS[stream])


def test_healthy_and_duplicate_events_pass_validation(stream: str, served: list[Served]) -> None:
    source = _source(stream)
    for s in served:
        if s.fault is None or s.fault == "duplicate":
            assert _problems(stream, s.event, source.event_time(s.position)) == [], s


def test_ids_are_unique_except_for_duplicates(served: list[Served]) -> None:
    ids = [
        s.event["id"]
        for s in served
        if s.fault != "duplicate" and isinstance(s.event, dict) and "id" in s.event
    ]
    assert len(ids) == len(set(ids)) > POSITIONS * 0.9


@pytest.mark.parametrize("rates", [{"junk": 1.5}, {"late": -0.1}, {"error": float("nan")}])
def test_fault_rates_are_shares(rates: dict[str, float]) -> None:
    with pytest.raises(ConfigError, match="use a share from 0 to 1"):
        FaultRates(**rates)


def test_bad_sources_are_refused() -> None:
    with pytest.raises(ConfigError, match="unknown stream"):
        _source("clicks")
    with pytest.raises(ConfigError, match="--rate"):
        _source("votes", rate=-1.0)
    with pytest.raises(ConfigError, match="songs"):
        _source("votes", songs=0)
    with pytest.raises(ValueError, match="negative"):
        _source("votes").at(-1)
