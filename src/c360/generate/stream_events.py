"""The events ``c360 simulate`` serves (SPEC 8.2): song votes and viewing events, with faults.

An event is a pure function of ``(seed, stream, position)``: position ``p`` of a stream is the
same event on every call and in every process, so a client that lost what it fetched asks for
the same positions again. Each position draws from one keyed BLAKE2b digest of its number (no
random generator to seed, so :meth:`EventSource.at` makes ~100,000 events a second); its
fault and its fields come from separate bytes of it, so raising a fault rate changes which
positions are faulty, never what the healthy ones hold.

Faults, at most one a position, are tried in order: *junk* (exactly one thing wrong), then
*duplicate* (an exact copy of the nearest earlier position, within :data:`DUPLICATE_WINDOW`, that
is neither junk nor a duplicate; with none, the position has no fault), then *late* (the
timestamp 90 s to 15 min before the nominal one).

>>> source = EventSource("votes", seed=7, rate=10.0, start=datetime(2026, 12, 2, 18, tzinfo=UTC),
...                      faults=FaultRates())
>>> served = source.at(25)
>>> served.fault is None, served.event["timestamp"], served.event["vote"]
(True, '2026-12-02T18:00:02.500000Z', True)
>>> source.at(25) == served
True
"""

from __future__ import annotations

import math
import struct
from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from hashlib import blake2b
from itertools import accumulate
from statistics import NormalDist
from typing import Any

from c360.config import DEFAULT_APP_CATEGORIES
from c360.errors import ConfigError

STREAMS = ("votes", "events")
#: How far back (in positions) a duplicate looks for the event it repeats.
DUPLICATE_WINDOW = 50
#: How much earlier than its nominal time a late event is stamped, in seconds.
LATE_SECONDS = (90.0, 15 * 60.0)
#: How much later a ``future_timestamp`` junk event is stamped, in seconds.
FUTURE_SECONDS = (86_400.0, 3 * 86_400.0)
#: Event-time spacing of positions when the rate is unlimited (0): one a millisecond.
UNLIMITED_SPACING_S = 0.001
#: The one thing wrong in a junk event, per stream.
JUNK_KINDS: dict[str, tuple[str, ...]] = {
    "votes": (
        "not_object", "missing_id", "missing_song", "vote_not_true", "bad_timestamp",
        "future_timestamp", "past_timestamp", "empty_song", "song_not_text",
    ),
    "events": (
        "not_object", "missing_id", "bad_contract", "negative_duration", "missing_app",
        "bad_timestamp", "future_timestamp", "past_timestamp",
    ),
}  # fmt: skip

USERS = 20_000
CONTRACTS = 50_000
DEVICES_PER_CONTRACT = 3
#: Province-like prefixes of the content logs' contracts (``HNH579912``).
CONTRACT_PREFIXES = ("HNH", "SGH", "DNH", "HPH", "CTH", "NTH", "BDH", "QNH", "HUH", "VTH")
#: The apps of the default mapping, about as often as in the content logs (CHANNEL dominating).
APP_WEIGHTS = {"CHANNEL": 0.55, "VOD": 0.16, "KPLUS": 0.08, "CHILD": 0.05, "RELAX": 0.035,
               "SPORT": 0.025, "FIMS": 0.02, "BHD": 0.015, "DSHD": 0.01}  # fmt: skip
OTHER_APP_WEIGHT = 0.005
#: Popularity of the song ranked ``k`` (from 1) is ``1 / k ** SONG_SKEW`` (Zipf-like).
SONG_SKEW = 1.1
MAX_SONGS = 10_000
_TITLE_WORDS = (
    ("Midnight", "Golden", "Silver", "Electric", "Paper", "Neon", "Broken", "Summer", "Velvet",
     "Wild", "Crystal", "Secret", "Empty", "Burning", "Lonely", "Endless", "Hollow", "Falling",
     "Distant", "Sweet"),
    ("Rain", "Hearts", "Skies", "Highway", "Dreams", "Lights", "River", "Echoes", "Fire", "Ocean",
     "Letters", "Shadows", "Roses", "Thunder", "Streets", "Horizon", "Memories", "Stars", "Waves",
     "Garden"),
)  # fmt: skip

_M64 = (1 << 64) - 1
_U32 = 1.0 / (1 << 32)
_UNIX = datetime(1970, 1, 1, tzinfo=UTC)
_NAIVE_UNIX = datetime(1970, 1, 1)
#: A position's 64 random bytes: 16 for its id, then twelve 32-bit draws. The first six decide
#: the fault (see the ``_JUNK`` … ``_VARIANT`` indices); the rest fill the event's fields.
_DRAWS = struct.Struct("<16s12I")
_JUNK, _DUPLICATE, _LATE, _PICK, _AMOUNT, _VARIANT, _FIELDS = 1, 2, 3, 4, 5, 6, 7
#: Seconds watched: quantiles of a log-normal (median ~7 min) cut to 1..3600, short zaps and
#: long sittings; a table look-up is a tenth of the cost of drawing one.
_DURATION_BITS = 12
_NORMAL = NormalDist(mu=6.0, sigma=1.3)
_DURATIONS = tuple(
    min(3600, max(1, int(math.exp(_NORMAL.inv_cdf((i + 0.5) / 2**_DURATION_BITS)))))
    for i in range(2**_DURATION_BITS)
)
_NOT_A_TIME = ("soon", "yesterday evening", "2026-13-45T25:61:00Z", "not a time")


@dataclass(frozen=True)
class FaultRates:
    """How often each fault is tried: per request for ``error``, per position for the rest."""

    error: float = 0.0
    duplicate: float = 0.0
    late: float = 0.0
    junk: float = 0.0

    def __post_init__(self) -> None:
        for name in ("error", "duplicate", "late", "junk"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
                raise ConfigError(
                    f"the {name} fault rate is {value!r}; use a share from 0 to 1 (--{name}-rate)"
                )


@dataclass(frozen=True)
class Served:
    """What a position serves: the JSON value, and the fault injected (``None``, ``"late"``,
    ``"duplicate"`` or ``"junk:<kind>"``)."""

    position: int
    fault: str | None
    event: Any


class EventSource:
    """Positions ``0, 1, 2, …`` of one stream, each a pure function of the arguments.

    Args:
        stream: ``"votes"`` or ``"events"`` (:data:`STREAMS`).
        seed: Any integer; the same seed gives the same events.
        rate: Events a second of event time (``0``: one a millisecond).
        start: Event time of position 0 (a naive time is taken as UTC).
        faults: The share of positions made junk, duplicate or late.
        songs: How many songs votes go to (1 to 10,000).
    """

    def __init__(
        self,
        stream: str,
        *,
        seed: int,
        rate: float,
        start: datetime,
        faults: FaultRates,
        songs: int = 200,
    ) -> None:
        if stream not in STREAMS:
            raise ConfigError(f"unknown stream {stream!r}; use one of {', '.join(STREAMS)}")
        if not (math.isfinite(rate) and rate >= 0):
            raise ConfigError(f"the rate is {rate!r} events/s; use 0 (unlimited) or more (--rate)")
        if not 1 <= songs <= MAX_SONGS:
            raise ConfigError(f"songs is {songs}; use 1 to {MAX_SONGS}")
        self.stream = stream
        self.seed = seed
        self.rate = rate
        self.faults = faults
        aware = start if start.tzinfo else start.replace(tzinfo=UTC)
        since = aware - _UNIX
        self._start_us = (since.days * 86_400 + since.seconds) * 1_000_000 + since.microseconds
        self._spacing_us = 1e6 / rate if rate > 0 else UNLIMITED_SPACING_S * 1e6
        key = blake2b(f"{seed}:{stream}".encode(), digest_size=32, person=b"c360-stream").digest()
        self._hash = blake2b(digest_size=64, key=key)
        self._contract_salt = _mix(seed & _M64)
        self._songs = song_titles(songs)
        self._song_weights = list(accumulate(1.0 / (k + 1) ** SONG_SKEW for k in range(songs)))
        self._apps = tuple(DEFAULT_APP_CATEGORIES)
        self._app_weights = list(
            accumulate(APP_WEIGHTS.get(a, OTHER_APP_WEIGHT) for a in self._apps)
        )

    def event_time(self, position: int) -> datetime:
        """The nominal event time of ``position`` (UTC): ``start + position / rate``."""
        return _UNIX + timedelta(microseconds=self._nominal_us(position))

    def at(self, position: int) -> Served:
        """The event at ``position`` as served, with its fault."""
        if position < 0:
            raise ValueError(f"position {position} is negative")
        draws = self._draws(position)
        rates = self.faults
        if draws[_JUNK] * _U32 < rates.junk:
            kinds = JUNK_KINDS[self.stream]
            kind = kinds[int(draws[_PICK] * _U32 * len(kinds))]
            return Served(position, f"junk:{kind}", self._junk(position, draws, kind))
        if draws[_DUPLICATE] * _U32 < rates.duplicate:
            source = self._duplicate_source(position)
            if source is None:
                return Served(position, None, self._event(position, draws))
            return Served(position, "duplicate", self._healthy(source, self._draws(source)).event)
        return self._healthy(position, draws)

    # -- events --------------------------------------------------------------------------------

    def _draws(self, position: int) -> tuple[Any, ...]:
        """The position's random bytes: ``(id bytes, draw, draw, …)`` (see ``_DRAWS``)."""
        digest = self._hash.copy()
        digest.update(position.to_bytes(8, "little"))
        return _DRAWS.unpack(digest.digest())

    def _healthy(self, position: int, draws: tuple[Any, ...]) -> Served:
        """A position that is neither junk nor a duplicate: on time, or late."""
        event = self._event(position, draws)
        rates = self.faults
        if (
            draws[_LATE] * _U32 < rates.late
            and draws[_JUNK] * _U32 >= rates.junk
            and draws[_DUPLICATE] * _U32 >= rates.duplicate
        ):
            low, high = LATE_SECONDS
            early = low + draws[_AMOUNT] * _U32 * (high - low)
            event["timestamp"] = _text(self._nominal_us(position) - round(early * 1e6))
            return Served(position, "late", event)
        return Served(position, None, event)

    def _event(self, position: int, draws: tuple[Any, ...]) -> dict[str, Any]:
        hexed = draws[0].hex()
        event_id = f"{hexed[:8]}-{hexed[8:12]}-4{hexed[13:16]}-{hexed[16:20]}-{hexed[20:]}"
        timestamp = _text(self._nominal_us(position))
        first, second, third, fourth = draws[_FIELDS : _FIELDS + 4]
        if self.stream == "votes":
            song = bisect_right(self._song_weights, first * _U32 * self._song_weights[-1])
            return {
                "id": event_id,
                "user_id": f"u{int(second * _U32 * USERS):05d}",
                "song": self._songs[min(song, len(self._songs) - 1)],
                "vote": True,
                "timestamp": timestamp,
            }
        contract, devices = _customer(self._contract_salt, int(first * _U32 * CONTRACTS))
        app = bisect_right(self._app_weights, third * _U32 * self._app_weights[-1])
        return {
            "id": event_id,
            "timestamp": timestamp,
            "Contract": contract,
            "Mac": devices[int(second * _U32 * DEVICES_PER_CONTRACT)],
            "AppName": self._apps[min(app, len(self._apps) - 1)],
            "TotalDuration": _DURATIONS[fourth >> (32 - _DURATION_BITS)],
        }

    def _nominal_us(self, position: int) -> int:
        """Microseconds since 1970 of the position's nominal event time."""
        return self._start_us + round(position * self._spacing_us)

    # -- faults --------------------------------------------------------------------------------

    def _duplicate_source(self, position: int) -> int | None:
        """The nearest earlier position within the window that is neither junk nor a duplicate.

        A position drawn neither junk nor duplicate qualifies outright. One drawn duplicate
        qualifies only when it found nothing to repeat, which depends on the positions before
        it; so walk back to the nearest outright one and replay forward from there, keeping the
        last position that qualifies. Walks are short unless the duplicate rate is near 1.
        """
        rates = self.faults
        drawn: list[bool] = []  # walking back: was each position drawn duplicate (else junk)?
        anchor = position - 1
        while anchor >= 0:
            draws = self._draws(anchor)
            if draws[_JUNK] * _U32 < rates.junk:
                drawn.append(False)
            elif draws[_DUPLICATE] * _U32 < rates.duplicate:
                drawn.append(True)
            else:
                break
            anchor -= 1
        last = anchor if anchor >= 0 else None
        for offset, duplicate in enumerate(reversed(drawn), start=anchor + 1):
            if duplicate and (last is None or offset - last > DUPLICATE_WINDOW):
                last = offset  # a duplicate with nothing to repeat is a plain event
        return last if last is not None and position - last <= DUPLICATE_WINDOW else None

    def _junk(self, position: int, draws: tuple[Any, ...], kind: str) -> Any:
        event = self._event(position, draws)
        variant = draws[_VARIANT]
        amount = draws[_AMOUNT] * _U32
        if kind == "not_object":
            shapes = (event.get("song", event.get("Contract")), position, list(event.values()))
            return shapes[variant % len(shapes)]
        if kind == "missing_id":
            del event["id"]
        elif kind == "missing_song":
            del event["song"]
        elif kind == "vote_not_true":
            event["vote"] = (False, "yes", 1)[variant % 3]
        elif kind == "bad_timestamp":
            text = _NOT_A_TIME[variant % len(_NOT_A_TIME)]
            event["timestamp"] = text if variant % 5 else self._nominal_us(position) / 1e6
        elif kind == "future_timestamp":
            low, high = FUTURE_SECONDS
            later = low + amount * (high - low)
            event["timestamp"] = _text(self._nominal_us(position) + round(later * 1e6))
        elif kind == "past_timestamp":  # some time in 1970
            event["timestamp"] = _text(round(amount * 365 * 86_400 * 1e6))
        elif kind == "empty_song":
            event["song"] = ""
        elif kind == "song_not_text":
            event["song"] = 1 + variant % 500
        elif kind == "bad_contract":
            contract = event["Contract"]
            event["Contract"] = ("0", "", contract.lower(), f"10.{variant % 256}.3.7")[variant % 4]
        elif kind == "negative_duration":
            event["TotalDuration"] = -event["TotalDuration"]
        elif kind == "missing_app":
            del event["AppName"]
        return event


def song_titles(count: int) -> tuple[str, ...]:
    """``count`` plausible song titles, the most voted first (the same list for every seed).

    >>> song_titles(3)
    ('Midnight Rain', 'Golden Skies', 'Silver Dreams')
    """
    first, second = _TITLE_WORDS
    pairs = len(first) * len(second)
    titles = []
    for i in range(count):
        a, b = i % len(first), (i // len(first) + 2 * (i % len(first))) % len(second)
        suffix = f" Pt. {i // pairs + 1}" if i >= pairs else ""
        titles.append(f"{first[a]} {second[b]}{suffix}")
    return tuple(titles)


@lru_cache(maxsize=1 << 16)
def _customer(salt: int, index: int) -> tuple[str, tuple[str, ...]]:
    """The contract numbered ``index`` among a seed's, and its devices' MACs (cached: a run
    meets the same few thousand contracts over and over)."""
    number = _mix(salt ^ index)
    contract = f"{CONTRACT_PREFIXES[number % len(CONTRACT_PREFIXES)]}{(number >> 8) % 10**6:06d}"
    macs = (f"{_mix(number + d + 1) & 0xFFFFFFFFFFFF:012X}" for d in range(DEVICES_PER_CONTRACT))
    return contract, tuple(macs)


def _mix(value: int) -> int:
    """SplitMix64's finaliser: a well-spread 64-bit integer from any integer."""
    z = (value + 0x9E3779B97F4A7C15) & _M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M64
    return z ^ (z >> 31)


def _text(unix_us: int) -> str:
    """ISO-8601 UTC with microseconds and ``Z``, from microseconds since 1970."""
    seconds, micros = divmod(unix_us, 1_000_000)
    return f"{_second_text(seconds)}.{micros:06d}Z"


@lru_cache(maxsize=4096)
def _second_text(seconds: int) -> str:
    # Thousands of events share a second at the default rate: format it once.
    return (_NAIVE_UNIX + timedelta(seconds=seconds)).isoformat()
