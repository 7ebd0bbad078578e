"""Daily content logs (``YYYYMMDD.json``) in the Elasticsearch export format, with real quirks.

Lines are built column-wise with Arrow compute and written straight from the Arrow string buffer,
so a full-scale day (1.6 M lines, ~280 MB) takes about a second instead of a Python loop per line.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from c360.generate.population import Population

LINES_PER_DAY_SF1 = 1_600_000
#: Lines a contract emits on an active day: 1 + Poisson(mean).
EXTRA_LINES_MEAN = 1.2
#: App mix of the real logs, CHANNEL dominating; APP is outside the category mapping.
APPS = ("CHANNEL", "VOD", "KPLUS", "CHILD", "RELAX", "SPORT", "FIMS", "BHD", "APP", "DSHD")
APP_WEIGHTS = (0.58, 0.17, 0.08, 0.05, 0.035, 0.025, 0.02, 0.015, 0.015, 0.01)
ID_ALPHABET = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"))


@dataclass(frozen=True)
class QuirkRates:
    """Share of lines carrying each real-data defect."""

    contract_zero: float = 0.004
    contract_ip: float = 0.001
    contract_empty: float = 0.0005
    contract_lower: float = 0.0005
    mac_colon_lower: float = 0.005
    mac_unusable: float = 0.002
    duplicate_id: float = 0.0005
    zero_duration: float = 0.003
    malformed: float = 0.00005


def contracts_per_sf1(lines_per_day: int) -> int:
    """Population size that yields ``lines_per_day`` lines on an average day."""
    from c360.generate.population import ACTIVITY_SEGMENTS

    mean_activity = sum(share * (low + high) / 2 for share, low, high in ACTIVITY_SEGMENTS)
    return max(20, round(lines_per_day / (mean_activity * (1 + EXTRA_LINES_MEAN))))


def write_content_day(
    out_dir: Path,
    day: date,
    population: Population,
    *,
    lines: int,
    seed: int,
    quirks: QuirkRates | None = None,
    gzip_output: bool = False,
) -> Path:
    """Write one day's file and return its path. Deterministic in (seed, day)."""
    rates = quirks or QuirkRates()
    rng = np.random.default_rng([seed, day.toordinal()])
    n_pop = population.size

    # Who is active today, and how many lines each active contract emits.
    active = np.flatnonzero(rng.random(n_pop) < population.activity)
    per_contract = 1 + rng.poisson(EXTRA_LINES_MEAN, size=active.size)
    who = np.repeat(active, per_contract)
    if who.size > lines:
        who = np.sort(rng.choice(who, size=lines, replace=False))
    n = who.size

    weights = np.array(APP_WEIGHTS) / sum(APP_WEIGHTS)
    favourite = np.searchsorted(np.cumsum(weights), population.favourite_app[who] / 1_000_000)
    favourite = np.minimum(favourite, len(APPS) - 1)
    random_app = rng.choice(len(APPS), size=n, p=weights)
    app_idx = np.where(rng.random(n) < 0.7, favourite, random_app)
    apps = np.array(APPS)[app_idx]

    device = (rng.random(n) * population.device_count[who]).astype(np.int64)
    macs = population.macs[who, device]
    contracts = population.contracts[who].astype(object)

    durations = np.minimum(np.exp(rng.normal(7.0, 1.6, size=n)), 86_400).astype(np.int64)
    durations[rng.random(n) < rates.zero_duration] = 0

    ids = _random_ids(rng, n)
    _apply_contract_junk(rng, contracts, rates)
    mac_text = _apply_mac_quirks(rng, macs.astype(object), rates)
    dup = np.flatnonzero(rng.random(n) < rates.duplicate_id)
    if dup.size:
        ids[dup] = ids[rng.integers(0, n, size=dup.size)]

    order = np.argsort(app_idx, kind="stable")  # real files are sorted by app
    table = pa.table(
        {
            "id": pa.array(ids[order]),
            "contract": pa.array(contracts[order], type=pa.string()),
            "mac": pa.array(mac_text[order], type=pa.string()),
            "duration": pc.cast(pa.array(durations[order]), pa.string()),
            "app": pa.array(apps[order]),
        }
    )
    text = pc.binary_join_element_wise(
        '{"_index":"history","_type":"kplus","_id":"',
        table["id"],
        '","_score":0,"_source":{"Contract":"',
        table["contract"],
        '","Mac":"',
        table["mac"],
        '","TotalDuration":',
        table["duration"],
        ',"AppName":"',
        table["app"],
        '"}}\n',
        "",
    ).combine_chunks()
    text = _apply_malformed(rng, text, rates)

    out_dir.mkdir(parents=True, exist_ok=True)
    name = day.strftime("%Y%m%d") + (".json.gz" if gzip_output else ".json")
    path = out_dir / name
    tmp = path.with_name(path.name + ".tmp")
    payload = _string_buffer(text)
    if gzip_output:
        with gzip.open(tmp, "wb", compresslevel=1) as fh:
            fh.write(payload)
    else:
        with tmp.open("wb") as fh:
            fh.write(payload)
    tmp.replace(path)
    return path


def _random_ids(rng: np.random.Generator, n: int) -> npt.NDArray[np.object_]:
    chars = np.ascontiguousarray(rng.choice(ID_ALPHABET, size=(n, 18)))
    tails = chars.view("<U18").reshape(n)
    return np.char.add("AX", tails).astype(object)


def _apply_contract_junk(
    rng: np.random.Generator, contracts: npt.NDArray[np.object_], rates: QuirkRates
) -> None:
    n = contracts.size
    roll = rng.random(n)
    edges = np.cumsum(
        [rates.contract_zero, rates.contract_ip, rates.contract_empty, rates.contract_lower]
    )
    zero = roll < edges[0]
    contracts[zero] = "0"
    ip = (roll >= edges[0]) & (roll < edges[1])
    octets = rng.integers(1, 255, size=(int(ip.sum()), 4)).astype(str)
    contracts[ip] = [".".join(row) for row in octets]
    contracts[(roll >= edges[1]) & (roll < edges[2])] = ""
    lower = np.flatnonzero((roll >= edges[2]) & (roll < edges[3]))
    contracts[lower] = [str(c).lower() for c in contracts[lower]]


def _apply_mac_quirks(
    rng: np.random.Generator, macs: npt.NDArray[np.object_], rates: QuirkRates
) -> npt.NDArray[np.object_]:
    roll = rng.random(macs.size)
    colon = np.flatnonzero(roll < rates.mac_colon_lower)
    macs[colon] = [":".join(m[i : i + 2] for i in range(0, 12, 2)).lower() for m in macs[colon]]
    bad = np.flatnonzero(
        (roll >= rates.mac_colon_lower) & (roll < rates.mac_colon_lower + rates.mac_unusable)
    )
    macs[bad] = np.where(rng.random(bad.size) < 0.5, "", "UNKNOWN")
    return macs


_SOURCE_HEAD = '{"_index":"history","_type":"kplus","_id":"@ID@","_score":0,"_source":'
#: Defective lines of the kinds met in real exports; ``@ID@`` becomes a unique ``_id``.
MALFORMED_TEMPLATES = (
    _SOURCE_HEAD + '{"Contract":"HNH0',  # truncated line
    _SOURCE_HEAD + '{"Contract":"HNH579912","Mac":"0C96E62FC55C","TotalDuration":"125",'
    '"AppName":"KPLUS"}}',  # duration as a string
    _SOURCE_HEAD + '{"Contract":"HNH579912","Mac":"0C96E62FC55C","TotalDuration":12.5,'
    '"AppName":"KPLUS"}}',  # fractional duration
    _SOURCE_HEAD + '{"Contract":"HNH579912","Mac":"0C96E62FC55C","TotalDuration":-30,'
    '"AppName":"KPLUS"}}',  # negative duration
    _SOURCE_HEAD + '{"Contract":"HNH579912","Mac":"0C96E62FC55C","TotalDuration":90000,'
    '"AppName":"KPLUS"}}',  # longer than a day
    '{"_index":"history","_type":"kplus","_id":"@ID@","_score":0}',  # no _source
    _SOURCE_HEAD + '{"Contract":"HNH579912","TotalDuration":60,"AppName":""}}',  # empty app
)


def _apply_malformed(rng: np.random.Generator, text: pa.Array, rates: QuirkRates) -> pa.Array:
    n = len(text)
    picks = np.flatnonzero(rng.random(n) < rates.malformed)
    if picks.size == 0:
        return text
    mask = np.zeros(n, dtype=bool)
    mask[picks] = True
    choice = rng.integers(0, len(MALFORMED_TEMPLATES), size=picks.size)
    lines = [
        MALFORMED_TEMPLATES[c].replace("@ID@", f"AXbad{i:015d}") + "\n"
        for c, i in zip(choice, picks, strict=True)
    ]
    return pc.replace_with_mask(text, pa.array(mask), pa.array(lines, type=pa.string()))


def _string_buffer(text: pa.Array) -> memoryview:
    """The concatenated bytes of an Arrow string array (each value already ends with a newline)."""
    offsets = np.frombuffer(
        text.buffers()[1], dtype=np.int32, count=len(text) + 1, offset=text.offset * 4
    )
    data = text.buffers()[2]
    return memoryview(data)[int(offsets[0]) : int(offsets[-1])]
