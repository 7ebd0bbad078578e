"""Daily search logs (``YYYYMMDD/part-*.snappy.parquet``) as Spark writes them, with real quirks.

Rates and value sets were measured on the real day 2022-07-01 (SPEC 1.2): ~25 % guest rows, ~6 %
null keywords, 14 ``datetime`` shapes, a few repeated ``eventID``s. Users keep stable traits across
days (how much they search, platform, ISP, plans, a base genre) and a favourite genre and title per
month, so monthly top keywords and taste changes are meaningful. Keywords come from a hand-written
vocabulary with known genres (:func:`search_vocabulary`), typed the ways people type them.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable
from datetime import date
from functools import cache
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from c360.config import SEARCH_CATEGORIES
from c360.generate.population import Population
from c360.generate.search_values import (
    DECORATIONS,
    EMOJIS,
    EPISODIC,
    GENRE_WEIGHTS,
    ISPS,
    JUNK_KEYWORDS,
    JUNK_USER_IDS,
    NETWORKS,
    PLAN_NAMES,
    PLAN_SOURCES,
    PLATFORMS,
    TITLES,
    VOCABULARY,
    VOICE_PLACEHOLDER,
)
from c360.generate.spark_folder import write_spark_folder

ROWS_PER_DAY_SF1 = 80_000
#: Share of 24-hour clock searches per hour of the day (real day, 00..23).
HOUR_WEIGHTS = (1557, 866, 486, 377, 444, 535, 1074, 1963, 2870, 3744, 4142, 4647, 4735, 4019,
                3899, 3867, 3748, 3872, 4239, 5013, 5668, 5280, 4183, 2827)  # fmt: skip
COLUMNS = ("eventID", "datetime", "user_id", "keyword", "category", "proxy_isp", "platform",
           "networkType", "action")  # fmt: skip
_SPARK_META = json.dumps(
    {"type": "struct", "fields": [
        *({"name": c, "type": "string", "nullable": True, "metadata": {}} for c in COLUMNS),
        {"name": "userPlansMap", "type": {"type": "array", "elementType": "string",
                                          "containsNull": True}, "nullable": True, "metadata": {}},
    ]},
    separators=(",", ":"),
)  # fmt: skip
SCHEMA = pa.schema(
    [pa.field(c, pa.string()) for c in COLUMNS]
    + [pa.field("userPlansMap", pa.list_(pa.field("element", pa.string())))],
    metadata={"org.apache.spark.sql.parquet.row.metadata": _SPARK_META},
)
#: Per-row rates; rare families still occur at least once on a day of >= MIN_ROWS_RARE rows.
RATES = {
    "guest": 0.249, "junk_user": 0.0005, "null_kw": 0.058, "voice": 0.0034, "junk_kw": 0.0004,
    "dup": 0.0003, "prev_day": 0.0028, "next_day": 0.0012, "thai": 0.00086, "y0004": 0.00006,
    "y1970": 0.00002, "y2018": 0.00003, "other_date": 0.0004, "frac2": 0.117, "frac1": 0.0019,
    "frac4": 0.00002, "h12": 0.0035, "nopad": 0.00004, "persian": 0.00004, "arabic": 0.00002,
    "bengali": 0.00002,
}  # fmt: skip
MIN_ROWS_RARE = 1_000
_DIGITS = {"persian": "۰۱۲۳۴۵۶۷۸۹", "arabic": "٠١٢٣٤٥٦٧٨٩", "bengali": "০১২৩৪৫৬৭৮৯"}
_MERIDIEM = (("CH", "SA"), ("CH", "SA"), ("CH", "SA"), ("PM", "AM"), ("pm", "am"))


def search_vocabulary() -> list[tuple[str, str]]:
    """The keyword → genre truth the generator draws from.

    >>> ("Running Man", "Reality Show") in search_vocabulary()
    True
    """
    return list(VOCABULARY)


def write_search_day(
    out_dir: Path, day: date, population: Population, *, rows: int, seed: int,
    parts: int | None = None,
) -> Path:  # fmt: skip
    """Write ``out_dir/YYYYMMDD/`` as Spark does (part files, ``_SUCCESS``, ``.crc``); return it.

    Deterministic in (seed, day): the same inputs give byte-identical files.
    """
    rng = np.random.default_rng([seed, day.toordinal()])
    n_dup = _count(rng, rows, RATES["dup"]) if rows > 1 else 0
    n = rows - n_dup
    bridged = np.flatnonzero(population.user_ids != "")
    user_idx = _pick_users(rng, population, bridged, n, seed)  # -1 = guest
    has_user = user_idx >= 0

    genre, title = _user_taste(seed, day, user_idx)
    spelling = _user_choice(rng, seed, user_idx, 6, list(_FORM_WEIGHTS))  # habits: no diacritics...
    keywords, kw_null = _keywords(rng, user_idx, genre, title, spelling)
    quit_p = np.where(kw_null, 0.67, 0.112)
    category = np.where(rng.random(n) < quit_p, "quit", "enter")

    platform_i = _user_choice(rng, seed, user_idx, 3, [w for _, w, _ in PLATFORMS])
    isp_i = _user_choice(rng, seed, user_idx, 4, [w for _, w in ISPS])
    platform = np.array([p for p, _, _ in PLATFORMS], dtype=object)[platform_i]
    platform[rng.random(n) < 0.00012] = None
    network = np.full(n, None, dtype=object)
    profiles = np.array([p for _, _, p in PLATFORMS])[platform_i]
    for k, choices in enumerate(NETWORKS):
        sel = np.flatnonzero(profiles == k)
        values = np.array([v for v, _ in choices], dtype=object)
        probs = np.array([w for _, w in choices])
        network[sel] = values[rng.choice(len(values), size=sel.size, p=probs / probs.sum())]

    user_id = np.full(n, None, dtype=object)
    user_id[has_user] = population.user_ids[user_idx[has_user]]
    junk = np.flatnonzero(has_user & (rng.random(n) < RATES["junk_user"]))
    user_id[junk] = np.array(JUNK_USER_IDS, dtype=object)[
        rng.integers(0, len(JUNK_USER_IDS), junk.size)
    ]

    table = pa.table(
        {
            "eventID": _uuids(rng, n),
            "datetime": pa.array(_datetimes(rng, day, n), type=pa.string()),
            "user_id": pa.array(user_id, type=pa.string()),
            "keyword": pa.array(keywords, type=pa.string()),
            "category": pa.array(category),
            "proxy_isp": pa.array(np.array([i for i, _ in ISPS])[isp_i]),
            "platform": pa.array(platform, type=pa.string()),
            "networkType": pa.array(network, type=pa.string()),
            "action": pa.array(np.full(n, "search")),
            "userPlansMap": _plans(seed, user_idx),
        },
        schema=SCHEMA,
    )
    # The same event logged twice; a third of the repeats were re-sent with another clock value.
    src = rng.integers(0, max(n, 1), size=n_dup)
    take = np.concatenate([np.arange(n), src])
    dt_take = take.copy()
    resent = np.flatnonzero(rng.random(n_dup) < 1 / 3)
    dt_take[n + resent] = rng.integers(0, n, size=resent.size)
    perm = rng.permutation(rows)
    table = table.take(take[perm]).set_column(1, "datetime", table["datetime"].take(dt_take[perm]))
    return write_spark_folder(
        out_dir / day.strftime("%Y%m%d"), table, parts=parts, job=_uuids(rng, 1)[0].as_py()
    )


def _count(rng: np.random.Generator, n: int, rate: float) -> int:
    k = int(rng.binomial(n, rate))
    return max(k, 1) if n >= MIN_ROWS_RARE else k


def _families(
    rng: np.random.Generator, pool: npt.NDArray[np.int64], names: tuple[str, ...]
) -> dict[str, npt.NDArray[np.int64]]:
    """Disjoint random subsets of ``pool``, sized by RATES, one per family name."""
    order = rng.permutation(pool)
    out: dict[str, npt.NDArray[np.int64]] = {}
    start = 0
    for name in names:
        k = _count(rng, pool.size, RATES[name])
        out[name] = np.sort(order[start : start + k])
        start += k
    return out


def _hash_uniform(seed: int, idx: npt.NDArray[np.int64], salt: int) -> npt.NDArray[np.float64]:
    """A uniform in [0, 1) per index, stable across days (splitmix64 of seed, salt and index)."""
    key = np.uint64((seed * 0x100000001B3 + salt * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF)
    x = idx.astype(np.uint64) * np.uint64(0xD1B54A32D192ED03) + key
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return (x >> np.uint64(11)).astype(np.float64) / float(2**53)


def _pick_users(
    rng: np.random.Generator, pop: Population, bridged: npt.NDArray[np.int64], n: int, seed: int
) -> npt.NDArray[np.int64]:
    """Contract index per row (-1 for guests): sessions of 1 + geometric searches by users drawn
    with a lasting heavy-tailed weight, so heavy searchers stay heavy every day."""
    guest = rng.random(n) < RATES["guest"]
    out = np.full(n, -1, dtype=np.int64)
    m = int((~guest).sum())
    if bridged.size == 0 or m == 0:
        return out
    weight = pop.activity[bridged] * (1.0 - _hash_uniform(seed, bridged, 1)) ** -0.6
    sessions = rng.geometric(0.6, size=m)
    users = rng.choice(bridged.size, size=m, p=weight / weight.sum())
    out[~guest] = bridged[np.repeat(users, sessions)[:m]]
    return out


def _user_choice(
    rng: np.random.Generator, seed: int, user_idx: npt.NDArray[np.int64], salt: int,
    weights: list[float],
) -> npt.NDArray[np.int64]:  # fmt: skip
    """A user's usual value 85 % of the time, else (and for guests) a fresh draw."""
    cum = np.cumsum(weights) / np.sum(weights)
    usual = np.searchsorted(cum, _hash_uniform(seed, user_idx, salt), side="right")
    fresh = np.searchsorted(cum, rng.random(user_idx.size), side="right")
    return np.minimum(np.where((user_idx >= 0) & (rng.random(user_idx.size) < 0.85), usual, fresh),
                      len(weights) - 1)  # fmt: skip


@cache
def _genre_tables() -> tuple[
    npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.int64]
]:
    """Cumulative genre weights, and per genre the Zipf cumulative weights and vocabulary rows."""
    width = max(len(t.split("|")) for t in TITLES.values())
    cum = np.ones((len(SEARCH_CATEGORIES), width))
    members = np.zeros((len(SEARCH_CATEGORIES), width), dtype=np.int64)
    start = 0
    for g, name in enumerate(SEARCH_CATEGORIES):
        k = len(TITLES[name].split("|"))
        w = 1.0 / np.arange(1, k + 1)
        cum[g, :k] = np.cumsum(w) / w.sum()
        members[g, :k] = np.arange(start, start + k)
        start += k
    return np.cumsum(GENRE_WEIGHTS) / sum(GENRE_WEIGHTS), cum, members


def _zipf_title(genre: npt.NDArray[np.int64], u: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    _, cum, members = _genre_tables()
    pos = (cum[genre] <= u[:, None]).sum(axis=1)
    picked: npt.NDArray[np.int64] = members[genre, np.minimum(pos, members.shape[1] - 1)]
    return picked


def _user_taste(
    seed: int, day: date, user_idx: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Each user's favourite genre and title this month (60 % keep their lasting base genre)."""
    gcum = _genre_tables()[0]
    month = (day.year * 12 + day.month) * 8
    base = np.searchsorted(gcum, _hash_uniform(seed, user_idx, 5), side="right")
    shifted = np.searchsorted(gcum, _hash_uniform(seed, user_idx, month + 1), side="right")
    genre = np.minimum(np.where(_hash_uniform(seed, user_idx, month + 2) < 0.6, base, shifted), 13)
    return genre, _zipf_title(genre, _hash_uniform(seed, user_idx, month + 3))


def _strip_marks(text: str) -> str:
    bare = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", bare.replace("đ", "d").replace("Đ", "D"))


_FORMS: tuple[Callable[[str], str], ...] = (
    str.lower, lambda s: _strip_marks(s).lower(), str, str.upper,
    lambda s: _strip_marks(s).upper(), _strip_marks,
)  # fmt: skip
_FORM_WEIGHTS = (0.55, 0.24, 0.07, 0.08, 0.03, 0.03)


@cache
def _form_table() -> npt.NDArray[np.object_]:
    return np.array([[f(t) for f in _FORMS] for t, _ in VOCABULARY], dtype=object)


def _keywords(
    rng: np.random.Generator, user_idx: npt.NDArray[np.int64], fav_genre: npt.NDArray[np.int64],
    fav_title: npt.NDArray[np.int64], form: npt.NDArray[np.int64],
) -> tuple[npt.NDArray[np.object_], npt.NDArray[np.bool_]]:  # fmt: skip
    """Keyword per row (None where null) and the null mask."""
    n = user_idx.size
    gcum = _genre_tables()[0]
    any_genre = np.minimum(np.searchsorted(gcum, rng.random(n), side="right"), 13)
    roll = rng.random(n)
    genre = np.where((user_idx >= 0) & (roll < 0.75), fav_genre, any_genre)
    vocab = np.where((user_idx >= 0) & (roll < 0.4), fav_title, _zipf_title(genre, rng.random(n)))
    kw = _form_table()[vocab, form]
    fam = _families(rng, np.arange(n), ("null_kw", "voice", "junk_kw"))
    extra = rng.random((n, 3))
    for i in np.flatnonzero(rng.random(n) < 0.06):  # long tail: "phim X", "X tập 12", ...
        title, gname = VOCABULARY[vocab[i]]
        if gname in EPISODIC and extra[i, 0] < 0.6:
            text = f"{title} tập {1 + int(extra[i, 1] * 40)}"
        else:
            text = DECORATIONS.get(gname, "phim {}").format(title)
        kw[i] = _FORMS[form[i]](text)
    for i in np.flatnonzero(rng.random(n) < 0.03):  # a typo: drop or swap a letter
        s, p = kw[i], int(extra[i, 2] * max(len(kw[i]) - 1, 1))
        kw[i] = (
            s[:p] + s[p + 1 :]
            if extra[i, 0] < 0.5
            else s[:p] + s[p + 1 : p + 2] + s[p] + s[p + 2 :]
        )
    spaces = np.flatnonzero(rng.random(n) < 0.06)
    kw[spaces] = [
        (" {}", "{} ", "{}  ", " {} ")[int(extra[i, 1] * 4)].format(kw[i]) for i in spaces
    ]
    for i in np.flatnonzero(rng.random(n) < 0.002):
        kw[i] = kw[i].replace(" ", "  ", 1) if extra[i, 0] < 0.5 else f"{kw[i]} {EMOJIS[i % 6]}"
    nfd = np.flatnonzero(rng.random(n) < 0.004)
    kw[nfd] = [unicodedata.normalize("NFD", kw[i]) for i in nfd]
    kw[fam["voice"]] = VOICE_PLACEHOLDER
    kw[fam["junk_kw"]] = [JUNK_KEYWORDS[i % len(JUNK_KEYWORDS)] for i in fam["junk_kw"]]
    kw[fam["null_kw"]] = None
    null = np.zeros(n, dtype=bool)
    null[fam["null_kw"]] = True
    return kw, null


def _plans(seed: int, user_idx: npt.NDArray[np.int64]) -> pa.Array:
    """userPlansMap: null for guests, mostly empty, else the user's lasting subscriptions."""
    users, inverse = np.unique(user_idx, return_inverse=True)
    count = np.searchsorted(np.cumsum([0.88, 0.072, 0.028, 0.007, 0.006, 0.004]),
                            _hash_uniform(seed, users, 7), side="right")  # fmt: skip
    keys = (users[:, None] * 16 + np.arange(12)).ravel()
    picks = (_hash_uniform(seed, keys, 9).reshape(-1, 12) * len(PLAN_NAMES)).astype(np.int64)
    lists: list[list[str] | None] = [None if u < 0 else [] for u in users.tolist()]
    for i in np.flatnonzero((count > 0) & (users >= 0)).tolist():
        names = dict.fromkeys(PLAN_NAMES[p] for p in picks[i, : count[i]])
        sources = picks[i, 6:] % len(PLAN_SOURCES)
        lists[i] = [f"{m}:{PLAN_SOURCES[j]}" for m, j in zip(names, sources, strict=False)]
    return pa.array(lists, type=SCHEMA.field("userPlansMap").type).take(pa.array(inverse.ravel()))


def _uuids(rng: np.random.Generator, n: int) -> pa.Array:
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    hexed = np.frombuffer(raw.tobytes().hex().encode(), dtype=np.uint8).reshape(n, 32)
    out = np.full((n, 36), ord("-"), dtype=np.uint8)
    for src, dst, width in ((0, 0, 8), (8, 9, 4), (12, 14, 4), (16, 19, 4), (20, 24, 12)):
        out[:, dst : dst + width] = hexed[:, src : src + width]
    offsets = np.arange(0, 36 * (n + 1), 36, dtype=np.int32)
    return pa.Array.from_buffers(
        pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(out.tobytes())]
    )


def _datetimes(rng: np.random.Generator, day: date, n: int) -> npt.NDArray[np.object_]:
    """Timestamps of the day in the 14 real shapes (wrong clocks, scripts, 12-hour clocks)."""
    hours = rng.choice(24, size=n, p=np.array(HOUR_WEIGHTS) / sum(HOUR_WEIGHTS))
    secs = hours * 3600 + rng.integers(0, 3600, size=n)
    dayno = np.full(n, (day - date(1970, 1, 1)).days, dtype=np.int64)
    shift = _families(rng, np.arange(n), ("prev_day", "next_day", "y1970", "y2018", "other_date"))
    near = np.minimum(rng.exponential(5400, size=n), 86_399).astype(np.int64)
    dayno[shift["prev_day"]] -= 1
    secs[shift["prev_day"]] = 86_399 - near[shift["prev_day"]]
    dayno[shift["next_day"]] += 1
    secs[shift["next_day"]] = near[shift["next_day"]]
    dayno[shift["y1970"]] = 0
    dayno[shift["y2018"]] = (date(2018, 1, 1) - date(1970, 1, 1)).days
    off = rng.integers(2, 200, size=n) * np.where(rng.random(n) < 0.8, -1, 1)
    dayno[shift["other_date"]] += off[shift["other_date"]]
    millis = (dayno * 86_400 + secs) * 1000 + rng.integers(0, 1000, size=n)
    stamps = pa.array(millis, type=pa.timestamp("ms"))
    out = np.array(pc.strftime(stamps, format="%Y-%m-%d %H:%M:%S").to_pylist(), dtype=object)
    plain = np.setdiff1d(np.arange(n), np.concatenate(list(shift.values())))
    year = _families(rng, plain, ("thai", "y0004"))
    out[year["thai"]] = [str(int(s[:4]) + 543) + s[4:] for s in out[year["thai"]]]
    out[year["y0004"]] = ["0004" + s[4:] for s in out[year["y0004"]]]
    fmt = _families(rng, np.arange(n), ("frac2", "frac1", "frac4", "h12"))
    out[fmt["frac2"]] = [s[:-1] for s in out[fmt["frac2"]]]
    out[fmt["frac1"]] = [s[:-2] for s in out[fmt["frac1"]]]
    out[fmt["frac4"]] = [out[i] + str(i % 10) for i in fmt["frac4"]]
    marks = rng.integers(0, len(_MERIDIEM), size=n)
    out[fmt["h12"]] = [_twelve_hour(out[i], _MERIDIEM[marks[i]]) for i in fmt["h12"]]
    early = np.setdiff1d(np.flatnonzero(hours < 10), np.concatenate(list(fmt.values())))
    nopad = _families(rng, early, ("nopad",))["nopad"]
    out[nopad] = [s[:11] + s[12:] if s[11] == "0" else s for s in out[nopad]]
    script = _families(rng, np.arange(n), ("persian", "arabic", "bengali"))
    for name, idx in script.items():
        table = str.maketrans("0123456789", _DIGITS[name])
        out[idx] = [s.translate(table) for s in out[idx]]
    return out


def _twelve_hour(text: str, marks: tuple[str, str]) -> str:
    """``2022-07-01 20:13:18.400`` -> ``2022-07-01 8:13:18.400 CH`` (hour not zero-padded)."""
    hour = int(text[11:13])
    return f"{text[:11]}{(hour + 11) % 12 + 1}{text[13:]} {marks[0] if hour >= 12 else marks[1]}"
