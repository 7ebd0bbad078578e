"""The synthetic customer base shared by the content and search generators.

Contracts look like the real ones (``HNH579912``: a two-letter province prefix, a letter, six
digits), carry an activity propensity with a realistic skew (a loyal core watching every day, a
long tail active on one to three days), one to three devices, and a favourite app. A share of
contracts also have a search ``user_id`` (a digit string with leading zeros); that pairing is the
contract↔user bridge.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

PROVINCES = (
    "HN", "SG", "DN", "HP", "CT", "AG", "BD", "BN", "BT", "DL",
    "GL", "HD", "HU", "KG", "KH", "LA", "ND", "NA", "QN", "TH",
)  # fmt: skip
#: Daily activity propensity per segment: (share of contracts, low, high).
ACTIVITY_SEGMENTS = ((0.12, 0.85, 1.0), (0.18, 0.4, 0.85), (0.20, 0.12, 0.4), (0.50, 0.02, 0.1))
BRIDGED_SHARE = 0.7


@dataclass(frozen=True)
class Population:
    """Arrays indexed by contract number."""

    contracts: npt.NDArray[np.str_]
    activity: npt.NDArray[np.float64]
    macs: npt.NDArray[np.str_]  # shape (n, 3): up to three devices per contract
    device_count: npt.NDArray[np.int64]
    favourite_app: npt.NDArray[np.int64]
    user_ids: npt.NDArray[np.str_]  # "" where the contract has no search account

    @property
    def size(self) -> int:
        return int(self.contracts.shape[0])


def make_population(size: int, *, seed: int) -> Population:
    """Draw ``size`` distinct contracts deterministically from ``seed``.

    >>> pop = make_population(5, seed=1)
    >>> pop.size, len(set(pop.contracts.tolist()))
    (5, 5)
    """
    rng = np.random.default_rng([seed, 0xC0])
    provinces = rng.choice(np.array(PROVINCES), size=size)
    letters = rng.choice(np.array(list("ABCDEFGHJKLMNPQRSTUVWXYZ")), size=size)
    # Distinct numbers so contract ids never collide.
    numbers = rng.choice(max(size, 1_000_000), size=size, replace=False)
    contracts = np.char.add(np.char.add(provinces, letters), np.char.zfill(numbers.astype(str), 6))

    segment = rng.choice(len(ACTIVITY_SEGMENTS), size=size, p=[s[0] for s in ACTIVITY_SEGMENTS])
    lows = np.array([s[1] for s in ACTIVITY_SEGMENTS])[segment]
    highs = np.array([s[2] for s in ACTIVITY_SEGMENTS])[segment]
    activity = lows + (highs - lows) * rng.random(size)

    hexdigits = np.array(list("0123456789ABCDEF"))
    mac_chars = np.ascontiguousarray(rng.choice(hexdigits, size=(size, 3, 12)))
    macs = mac_chars.view("<U12").reshape(size, 3)
    device_count = rng.choice([1, 2, 3], size=size, p=[0.6, 0.3, 0.1]).astype(np.int64)
    favourite_app = rng.integers(0, 1_000_000, size=size).astype(np.int64)

    bridged = rng.random(size) < BRIDGED_SHARE
    user_numbers = rng.choice(max(size * 2, 10_000_000), size=size, replace=False)
    user_ids = np.where(bridged, np.char.zfill(user_numbers.astype(str), 7), "")
    return Population(
        contracts=contracts,
        activity=activity,
        macs=macs,
        device_count=device_count,
        favourite_app=favourite_app,
        user_ids=user_ids,
    )
