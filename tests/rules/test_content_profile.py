"""The customer content profile (SPEC 2.2–2.3) against hand-computed expected values.

Every expected number below was worked out by hand from the rules in the spec; where quartiles are
involved numpy (``method="linear"``, the same as ``quantile_cont``) is only a cross-check.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pytest

from c360.config import DEFAULT_APP_CATEGORIES, ProfileConfig
from c360.rules.content import (
    STATS_COLUMNS,
    activeness,
    app_category,
    customer_content_stats,
    deduplicate,
    duplicate_losers,
    id_hash_counts,
    level_activeness,
    newly_repeated_hashes,
    repeated_hashes,
)

Execute = Callable[..., list[dict[str, Any]]]
#: (contract, date, mac, category, total_duration)
UsageRow = tuple[str, date, str | None, str, int]

TH, PT, GT, TN, TT = "Truyen Hinh", "Phim Truyen", "Giai Tri", "Thieu Nhi", "The Thao"
OTHER = "Other"
CATEGORY_COLUMNS = ("truyen_hinh", "phim_truyen", "giai_tri", "thieu_nhi", "the_thao")

USAGE_SCHEMA = {
    "contract": "string",
    "date": "date",
    "mac": "string",
    "category": "string",
    "total_duration": "int64",
}
WINDOW_END = date(2022, 4, 30)
D1 = date(2022, 4, 1)
MAC_A, MAC_B, MAC_C = "0C96E62FC55C", "AABBCCDDEEFF", "112233445566"
CONTRACT = "HNH579912"


def usage_table(rows: Iterable[UsageRow]) -> ir.Table:
    """A usage memtable in the layout ``customer_content_stats`` expects."""
    listed = list(rows)
    data = {name: [row[i] for row in listed] for i, name in enumerate(USAGE_SCHEMA)}
    return ibis.memtable(data, schema=USAGE_SCHEMA)


def stats_of(
    duck: Any, rows: Iterable[UsageRow], *, window_end: date = WINDOW_END
) -> dict[str, dict[str, Any]]:
    """Profile the rows on DuckDB and return the output keyed by contract."""
    expr = customer_content_stats(usage_table(rows), window_end=window_end, profile=ProfileConfig())
    return {row["contract"]: row for row in duck.to_pyarrow(expr).to_pylist()}


def one_day_rows(durations: Iterable[tuple[str, int]], contract: str = CONTRACT) -> list[UsageRow]:
    """One row per (category, seconds), all on the same day and device."""
    return [(contract, D1, MAC_A, category, seconds) for category, seconds in durations]


def spread_rows(contract: str, *, days: int, total: int, recency: int) -> list[UsageRow]:
    """``days`` consecutive active days ending ``recency`` days before the window end.

    The last day carries ``total - (days - 1)`` seconds and every other day 1 second.
    """
    last = WINDOW_END - timedelta(days=recency)
    rows: list[UsageRow] = []
    for back in range(days):
        seconds = total - (days - 1) if back == 0 else 1
        rows.append((contract, last - timedelta(days=back), MAC_A, TH, seconds))
    return rows


# ---------------------------------------------------------------------------- single-contract cases
# Each case is one contract of a shared population, profiled in one query (see ``case_stats``):
# totals, most_watch and taste of a contract do not depend on the other contracts.

#: (case id, seconds per category, expected truyen_hinh..the_thao and total_duration)
TOTALS_CASES: list[tuple[str, list[tuple[str, int]], tuple[int, ...]]] = [
    ("one-category", [(TH, 100)], (100, 0, 0, 0, 0, 100)),
    (
        "all-five",
        [(TT, 50_000), (TN, 4_000), (GT, 300), (PT, 20), (TH, 1)],
        (1, 20, 300, 4_000, 50_000, 54_321),
    ),
    ("rows-summed", [(PT, 10), (PT, 15), (TT, 5)], (0, 25, 0, 0, 5, 30)),
    ("other-ignored", [(TH, 60), (OTHER, 1_000), (PT, 40), (OTHER, 7)], (60, 40, 0, 0, 0, 100)),
    ("zero-seconds", [(GT, 0), (TN, 0)], (0, 0, 0, 0, 0, 0)),
]

#: (case id, seconds per category, expected most_watch)
MOST_WATCH_CASES: list[tuple[str, list[tuple[str, int]], str | None]] = [
    ("clear-winner", [(TH, 10), (PT, 50), (GT, 5)], PT),
    ("winner-from-summed-rows", [(TT, 3), (TH, 2), (TT, 2)], TT),
    ("tie-truyen-hinh-phim-truyen", [(PT, 30), (TH, 30)], TH),
    ("tie-phim-truyen-giai-tri", [(TH, 10), (GT, 40), (PT, 40)], PT),
    ("tie-thieu-nhi-the-thao", [(TT, 7), (TN, 7)], TN),
    ("three-way-tie", [(TT, 20), (TN, 20), (GT, 20)], GT),
    ("three-way-tie-with-first", [(TT, 5), (PT, 5), (TH, 5), (GT, 4)], TH),
    ("five-way-tie", [(TT, 9), (TN, 9), (GT, 9), (PT, 9), (TH, 9)], TH),
    ("other-is-not-a-winner", [(OTHER, 900), (GT, 1)], GT),
    ("all-zero", [(TH, 0), (PT, 0)], None),
]

#: (case id, seconds per category, expected taste)
TASTE_CASES: list[tuple[str, list[tuple[str, int]], str | None]] = [
    ("single", [(GT, 9)], "Giai Tri"),
    ("canonical-order", [(PT, 1), (TH, 1)], "Truyen Hinh-Phim Truyen"),
    ("zero-left-out", [(TT, 3), (PT, 0), (TH, 5)], "Truyen Hinh-The Thao"),
    (
        "all-five",
        [(TT, 1), (TN, 1), (GT, 1), (PT, 1), (TH, 1)],
        "Truyen Hinh-Phim Truyen-Giai Tri-Thieu Nhi-The Thao",
    ),
    ("other-left-out", [(PT, 0), (TN, 4), (OTHER, 99)], "Thieu Nhi"),
    ("none", [(TH, 0)], None),
]

CASE_GROUPS: dict[str, list[str]] = {
    "totals": [case_id for case_id, _, _ in TOTALS_CASES],
    "most_watch": [case_id for case_id, _, _ in MOST_WATCH_CASES],
    "taste": [case_id for case_id, _, _ in TASTE_CASES],
}
ONLY_OTHER = "HNOTHER01"
ALL_ZERO = "HNZERO001"


def case_rows() -> list[UsageRow]:
    rows: list[UsageRow] = []
    for prefix, cases in (
        ("totals", TOTALS_CASES),
        ("most_watch", MOST_WATCH_CASES),
        ("taste", TASTE_CASES),
    ):
        for case_id, durations, _ in cases:
            rows += one_day_rows(durations, contract=f"{prefix}/{case_id}")
    rows += [
        (ONLY_OTHER, D1, MAC_B, OTHER, 500),
        (ONLY_OTHER, D1 + timedelta(days=1), MAC_B, OTHER, 20),
        (ALL_ZERO, date(2022, 4, 1), MAC_A, TH, 0),
        (ALL_ZERO, date(2022, 4, 3), MAC_B, PT, 0),
        (ALL_ZERO, date(2022, 4, 3), MAC_A, OTHER, 300),
    ]
    return rows


@pytest.fixture(scope="module")
def case_stats(duck: Any) -> dict[str, dict[str, Any]]:
    return stats_of(duck, case_rows())


@pytest.mark.parametrize(
    ("case_id", "expected"), [pytest.param(c, e, id=c) for c, _, e in TOTALS_CASES]
)
def test_category_totals_and_total_duration(
    case_stats: Mapping[str, Mapping[str, Any]], case_id: str, expected: tuple[int, ...]
) -> None:
    row = case_stats[f"totals/{case_id}"]
    assert tuple(row[column] for column in (*CATEGORY_COLUMNS, "total_duration")) == expected


def test_contract_with_only_other_rows_is_not_profiled(
    case_stats: Mapping[str, Mapping[str, Any]],
) -> None:
    assert ONLY_OTHER not in case_stats
    expected = {f"{p}/{c}" for p, cases in CASE_GROUPS.items() for c in cases} | {ALL_ZERO}
    assert set(case_stats) == expected


def test_only_other_rows_give_an_empty_profile(execute: Execute) -> None:
    usage = usage_table([(ONLY_OTHER, D1, MAC_B, OTHER, 500)])
    expr = customer_content_stats(usage, window_end=WINDOW_END, profile=ProfileConfig())
    assert execute(expr) == []


@pytest.mark.parametrize(
    ("case_id", "expected"), [pytest.param(c, e, id=c) for c, _, e in MOST_WATCH_CASES]
)
def test_most_watch(
    case_stats: Mapping[str, Mapping[str, Any]], case_id: str, expected: str | None
) -> None:
    assert case_stats[f"most_watch/{case_id}"]["most_watch"] == expected


@pytest.mark.parametrize(
    ("case_id", "expected"), [pytest.param(c, e, id=c) for c, _, e in TASTE_CASES]
)
def test_taste(
    case_stats: Mapping[str, Mapping[str, Any]], case_id: str, expected: str | None
) -> None:
    assert case_stats[f"taste/{case_id}"]["taste"] == expected


def test_all_zero_contract_is_still_profiled(case_stats: Mapping[str, Mapping[str, Any]]) -> None:
    row = case_stats[ALL_ZERO]
    assert row["total_duration"] == 0
    assert row["most_watch"] is None
    assert row["taste"] is None
    assert row["active_days"] == 2
    assert row["devices"] == 2
    assert row["activeness"] == "very low"
    assert row["level_activeness"] == "Low"
    assert (row["first_active"], row["last_active"]) == (date(2022, 4, 1), date(2022, 4, 3))
    assert row["recency_days"] == 27


# ---------------------------------------------------------------------------- days, devices, dates

ACTIVITY_ROWS: list[UsageRow] = [
    (CONTRACT, date(2022, 4, 1), MAC_C, OTHER, 100),  # Other: not a counted day or device
    (CONTRACT, date(2022, 4, 3), MAC_A, TH, 10),
    (CONTRACT, date(2022, 4, 3), MAC_A, PT, 5),  # same day, same device
    (CONTRACT, date(2022, 4, 5), MAC_B, TH, 1),
    (CONTRACT, date(2022, 4, 10), None, GT, 2),  # unknown device: not counted
    (CONTRACT, date(2022, 4, 12), MAC_C, OTHER, 100),  # Other: does not move last_active
    ("SGJ048834", date(2022, 4, 7), None, TT, 4),  # only unknown devices
    ("SGJ048834", date(2022, 4, 7), None, TT, 6),
]


@pytest.fixture(scope="module")
def activity_stats(duck: Any) -> dict[str, dict[str, Any]]:
    return stats_of(duck, ACTIVITY_ROWS)


@pytest.mark.parametrize(
    ("contract", "expected"),
    [
        pytest.param(
            CONTRACT,
            {
                "active_days": 3,
                "devices": 2,
                "first_active": date(2022, 4, 3),
                "last_active": date(2022, 4, 10),
                "recency_days": 20,
                "total_duration": 18,
            },
            id="mixed-days-and-devices",
        ),
        pytest.param(
            "SGJ048834",
            {
                "active_days": 1,
                "devices": 0,
                "first_active": date(2022, 4, 7),
                "last_active": date(2022, 4, 7),
                "recency_days": 23,
                "total_duration": 10,
            },
            id="unknown-devices-only",
        ),
    ],
)
def test_active_days_devices_and_dates(
    activity_stats: Mapping[str, Mapping[str, Any]], contract: str, expected: dict[str, Any]
) -> None:
    row = activity_stats[contract]
    assert {key: row[key] for key in expected} == expected


@pytest.mark.parametrize(
    ("window_end", "expected"),
    [
        pytest.param(date(2022, 4, 10), 0, id="last-day-of-window"),
        pytest.param(date(2022, 5, 10), 30, id="across-a-month"),
    ],
)
def test_recency_days_counts_from_the_window_end(
    duck: Any, window_end: date, expected: int
) -> None:
    row = stats_of(duck, ACTIVITY_ROWS, window_end=window_end)[CONTRACT]
    assert row["recency_days"] == expected


# ---------------------------------------------------------------------------- activeness levels


#: active days -> (activeness, level_activeness)
ACTIVENESS_CASES: dict[int, tuple[str, str]] = {
    1: ("very low", "Low"),
    7: ("very low", "Low"),
    8: ("low", "Low"),
    9: ("low", "Low"),
    10: ("low", "Medium"),
    14: ("low", "Medium"),
    15: ("moderate", "Medium"),
    20: ("moderate", "Medium"),
    21: ("moderate", "High"),
    22: ("high", "High"),
    28: ("high", "High"),
    29: ("very high", "High"),
    30: ("very high", "High"),
    31: ("very high", "High"),
}


@pytest.fixture(scope="module")
def activeness_levels(duck: Any) -> dict[int, tuple[str, str]]:
    """Both level functions over one memtable of day counts."""
    t = ibis.memtable({"days": list(ACTIVENESS_CASES)}, schema={"days": "int64"})
    profile = ProfileConfig()
    expr = t.select(
        "days", five=activeness(t.days, profile), three=level_activeness(t.days, profile)
    )
    return {row["days"]: (row["five"], row["three"]) for row in duck.to_pyarrow(expr).to_pylist()}


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        (1, "very low"),
        (7, "very low"),
        (8, "low"),
        (14, "low"),
        (15, "moderate"),
        (21, "moderate"),
        (22, "high"),
        (28, "high"),
        (29, "very high"),
        (30, "very high"),
    ],
)
def test_activeness_boundaries(
    activeness_levels: Mapping[int, tuple[str, str]], days: int, expected: str
) -> None:
    assert activeness_levels[days][0] == expected


@pytest.mark.parametrize(
    ("days", "expected"),
    [(1, "Low"), (9, "Low"), (10, "Medium"), (20, "Medium"), (21, "High"), (31, "High")],
)
def test_level_activeness_boundaries(
    activeness_levels: Mapping[int, tuple[str, str]], days: int, expected: str
) -> None:
    assert activeness_levels[days][1] == expected


def test_activeness_table(activeness_levels: Mapping[int, tuple[str, str]]) -> None:
    assert activeness_levels == ACTIVENESS_CASES


# ---------------------------------------------------------------------------- RFM scores

# contract: (active_days, total_duration, recency_days)
RFM_POPULATION: dict[str, tuple[int, int, int]] = {
    "HNH000001": (2, 600, 5),
    "HNH000002": (4, 100, 0),
    "HNH000003": (4, 5_000, 10),
    "HNH000004": (10, 1_400, 1),
    "HNH000005": (10, 200, 5),
    "HNH000006": (20, 2_400, 3),
    "HNH000007": (20, 1_000, 1),
    "HNH000008": (25, 2_000, 5),
}
# By hand, n = 8: Q1 at position 1.75, Q2 at 3.5, Q3 at 5.25 of the sorted values.
#   active_days    2 4 4 10 10 20 20 25          -> Q1 4, Q2 10, Q3 20 (duplicates: exact)
#   total_duration 100 200 600 1000 1400 2000 2400 5000
#                  -> Q1 200+0.75*400 = 500, Q2 (1000+1400)/2 = 1200, Q3 2000+0.25*400 = 2100
#   recency_days   0 1 1 3 5 5 5 10             -> Q1 1, Q2 (3+5)/2 = 4, Q3 5
RFM_QUARTILES = {
    "active_days": (4.0, 10.0, 20.0),
    "total_duration": (500.0, 1_200.0, 2_100.0),
    "recency_days": (1.0, 4.0, 5.0),
}
# contract: (recency_score, frequency_score, monetary_score, customer_type)
RFM_EXPECTED: dict[str, tuple[int, int, int, str]] = {
    "HNH000001": (2, 1, 2, "anomaly"),  # very low, 600 >= Q1 500
    "HNH000002": (4, 1, 1, "leaving"),  # recency 0 <= Q1; days 4 == Q1; very low and 100 < 500
    "HNH000003": (1, 1, 4, "anomaly"),  # recency 10 > Q3; very low but 5000 >= Q1
    "HNH000004": (4, 2, 3, "anomaly"),  # recency 1 == Q1; days 10 == Q2; low but 1400 >= 1200
    "HNH000005": (2, 2, 1, "need attention"),  # recency 5 == Q3; low and 200 < 1200
    "HNH000006": (3, 3, 4, "potential"),  # days 20 == Q3; moderate and 2400 >= 1200
    "HNH000007": (4, 3, 2, "normal"),  # moderate and 1000 < 1200
    "HNH000008": (2, 4, 3, "loyal"),  # days 25 > Q3; high and 2000 > 500
}


@pytest.fixture(scope="module")
def rfm_stats(duck: Any) -> dict[str, dict[str, Any]]:
    rows = [
        row
        for contract, (days, total, recency) in RFM_POPULATION.items()
        for row in spread_rows(contract, days=days, total=total, recency=recency)
    ]
    return stats_of(duck, rows)


def test_rfm_population_measures(rfm_stats: Mapping[str, Mapping[str, Any]]) -> None:
    measures = {
        contract: (row["active_days"], row["total_duration"], row["recency_days"])
        for contract, row in rfm_stats.items()
    }
    assert measures == RFM_POPULATION


@pytest.mark.parametrize("measure", list(RFM_QUARTILES))
def test_rfm_hand_quartiles_match_numpy_linear(measure: str) -> None:
    position = {"active_days": 0, "total_duration": 1, "recency_days": 2}[measure]
    values = [measures[position] for measures in RFM_POPULATION.values()]
    numpy_quartiles = np.quantile(values, [0.25, 0.5, 0.75], method="linear")
    assert tuple(float(q) for q in numpy_quartiles) == RFM_QUARTILES[measure]


@pytest.mark.parametrize(("contract", "expected"), list(RFM_EXPECTED.items()))
def test_rfm_scores_and_customer_type(
    rfm_stats: Mapping[str, Mapping[str, Any]], contract: str, expected: tuple[int, int, int, str]
) -> None:
    row = rfm_stats[contract]
    got = (row["recency_score"], row["frequency_score"], row["monetary_score"])
    assert (*got, row["customer_type"]) == expected


# ---------------------------------------------------------------------------- customer_type

# contract: (active_days, total_duration, expected customer_type)
SEGMENT_POPULATION: dict[str, tuple[int, int, str]] = {
    "HNA000001": (3, 50, "leaving"),  # very low, 50 < Q1
    "HNA000002": (7, 100, "anomaly"),  # very low, total == Q1: not leaving
    "HNA000003": (1, 700, "anomaly"),  # very low, above Q1
    "HNA000004": (8, 250, "need attention"),  # low, 250 < median
    "HNA000005": (14, 300, "anomaly"),  # low, total == median: not need attention
    "HNA000006": (10, 900, "anomaly"),  # low, above median
    "HNA000007": (15, 100, "normal"),  # moderate, 100 < median
    "HNA000008": (21, 300, "potential"),  # moderate, total == median
    "HNA000009": (18, 600, "potential"),  # moderate, above median
    "HNA000010": (22, 100, "anomaly"),  # high, total == Q1: not loyal
    "HNA000011": (28, 400, "loyal"),  # high, above Q1
    "HNA000012": (22, 800, "loyal"),
    "HNA000013": (29, 500, "vip"),  # very high, above Q1
    "HNA000014": (30, 1_000, "vip"),
    "HNA000015": (30, 100, "anomaly"),  # very high, total == Q1: not vip
}
# n = 15, sorted totals: 50 100 100 100 100 250 300 300 400 500 600 700 800 900 1000
# Q1 at position 3.5 -> (100+100)/2 = 100; median at position 7 -> 300; Q3 at 10.5 -> 650.
SEGMENT_Q1, SEGMENT_MEDIAN, SEGMENT_Q3 = 100.0, 300.0, 650.0


@pytest.fixture(scope="module")
def segment_stats(duck: Any) -> dict[str, dict[str, Any]]:
    rows = [
        row
        for contract, (days, total, _) in SEGMENT_POPULATION.items()
        for row in spread_rows(contract, days=days, total=total, recency=0)
    ]
    return stats_of(duck, rows)


def test_segment_hand_quartiles_match_numpy_linear() -> None:
    totals = [total for _, total, _ in SEGMENT_POPULATION.values()]
    q1, median, q3 = np.quantile(totals, [0.25, 0.5, 0.75], method="linear")
    assert (float(q1), float(median), float(q3)) == (SEGMENT_Q1, SEGMENT_MEDIAN, SEGMENT_Q3)


@pytest.mark.parametrize(
    ("contract", "days", "total", "expected"),
    [(contract, *values) for contract, values in SEGMENT_POPULATION.items()],
)
def test_customer_type(
    segment_stats: Mapping[str, Mapping[str, Any]],
    contract: str,
    days: int,
    total: int,
    expected: str,
) -> None:
    row = segment_stats[contract]
    assert (row["active_days"], row["total_duration"]) == (days, total)
    assert row["customer_type"] == expected


def test_segment_monetary_scores_at_the_quartiles(
    segment_stats: Mapping[str, Mapping[str, Any]],
) -> None:
    # Q1 100, Q2 300, Q3 650: a total equal to a quartile takes the lower score.
    scores = {row["total_duration"]: row["monetary_score"] for row in segment_stats.values()}
    assert scores == {
        50: 1,
        100: 1,
        250: 2,
        300: 2,
        400: 3,
        500: 3,
        600: 3,
        700: 4,
        800: 4,
        900: 4,
        1_000: 4,
    }


# ---------------------------------------------------------------------------- output layout


def test_output_columns_are_stats_columns_in_order(
    case_stats: Mapping[str, Mapping[str, Any]],
) -> None:
    expected = [
        "contract",
        "truyen_hinh",
        "phim_truyen",
        "giai_tri",
        "thieu_nhi",
        "the_thao",
        "total_duration",
        "active_days",
        "most_watch",
        "taste",
        "activeness",
        "level_activeness",
        "devices",
        "first_active",
        "last_active",
        "recency_days",
        "recency_score",
        "frequency_score",
        "monetary_score",
        "customer_type",
    ]
    assert list(STATS_COLUMNS) == expected
    expr = customer_content_stats(
        usage_table(one_day_rows([(TH, 5)])), window_end=WINDOW_END, profile=ProfileConfig()
    )
    assert list(expr.columns) == expected
    assert all(list(row) == expected for row in case_stats.values())


def test_single_contract_profile_row(duck: Any) -> None:
    rows = [
        (CONTRACT, date(2022, 4, 28), MAC_A, TH, 120),
        (CONTRACT, date(2022, 4, 29), MAC_B, TT, 80),
        (CONTRACT, date(2022, 4, 29), MAC_A, OTHER, 1_000),
    ]
    assert stats_of(duck, rows)[CONTRACT] == {
        "contract": CONTRACT,
        "truyen_hinh": 120,
        "phim_truyen": 0,
        "giai_tri": 0,
        "thieu_nhi": 0,
        "the_thao": 80,
        "total_duration": 200,
        "active_days": 2,
        "most_watch": TH,
        "taste": "Truyen Hinh-The Thao",
        "activeness": "very low",
        "level_activeness": "Low",
        "devices": 2,
        "first_active": date(2022, 4, 28),
        "last_active": date(2022, 4, 29),
        "recency_days": 1,
        # One contract: every quartile equals its own value, so every measure is <= Q1.
        "recency_score": 4,
        "frequency_score": 1,
        "monetary_score": 1,
        "customer_type": "anomaly",  # very low but total == Q1, not < Q1
    }


# ---------------------------------------------------------------------------- deduplicate

DEDUP_SCHEMA = {
    "file_date": "date",
    "source_file": "string",
    "line_no": "int64",
    "record_id": "string",
    "tag": "string",
}
#: (file_date, source_file, line_no, record_id, tag)
DedupRow = tuple[date, str, int, str | None, str]
F1, F2, F3 = "20220401.json", "20220402.json", "20220403.json"
D2, D3 = date(2022, 4, 2), date(2022, 4, 3)

#: case id -> (rows, tags of the rows kept). Cases are run together in one table; their
#: record ids are prefixed with the case id so that they cannot collide across cases.
DEDUP_CASES: dict[str, tuple[list[DedupRow], list[str]]] = {
    "earlier-date-wins-over-lower-line": (
        [(D2, F2, 1, "a", "later-date"), (D1, F1, 50, "a", "earlier-date")],
        ["earlier-date"],
    ),
    "same-date-file-name-breaks-tie": (
        [(D1, "20220401.json.gz", 1, "b", "gz"), (D1, F1, 9, "b", "plain")],
        ["plain"],
    ),
    "same-file-lowest-line-wins": (
        [(D1, F1, 7, "c", "line7"), (D1, F1, 3, "c", "line3"), (D1, F1, 5, "c", "line5")],
        ["line3"],
    ),
    "null-ids-all-kept": (
        [(D1, F1, 1, None, "n1"), (D1, F1, 2, None, "n2"), (D2, F2, 1, None, "n3")],
        ["n1", "n2", "n3"],
    ),
    "unique-ids-kept": (
        [(D1, F1, 1, "u1", "u1"), (D1, F1, 2, "u2", "u2"), (D2, F2, 1, "u3", "u3")],
        ["u1", "u2", "u3"],
    ),
    "mixed": (
        [
            (D3, F3, 1, "x", "x3"),
            (D2, F2, 2, "x", "x2"),
            (D1, F1, 9, "y", "y1"),
            (D1, F1, 10, None, "null"),
            (D2, F2, 3, "y", "y2"),
            (D2, F2, 4, "z", "z"),
            (D3, F3, 2, "x", "x3b"),
        ],
        ["null", "x2", "y1", "z"],
    ),
}


@pytest.fixture(scope="module")
def deduplicated(duck: Any) -> list[dict[str, Any]]:
    rows = [
        (day, file, line, None if rid is None else f"{case_id}/{rid}", f"{case_id}/{tag}")
        for case_id, (dedup_rows, _) in DEDUP_CASES.items()
        for day, file, line, rid, tag in dedup_rows
    ]
    data = {name: [row[i] for row in rows] for i, name in enumerate(DEDUP_SCHEMA)}
    table = ibis.memtable(data, schema=DEDUP_SCHEMA)
    result: list[dict[str, Any]] = duck.to_pyarrow(deduplicate(table)).to_pylist()
    return result


@pytest.mark.parametrize("case_id", list(DEDUP_CASES))
def test_deduplicate_keeps_first_by_date_file_line(
    deduplicated: list[dict[str, Any]], case_id: str
) -> None:
    kept = sorted(row["tag"] for row in deduplicated if row["tag"].startswith(f"{case_id}/"))
    assert kept == [f"{case_id}/{tag}" for tag in DEDUP_CASES[case_id][1]]


def test_deduplicate_keeps_the_row_layout(deduplicated: list[dict[str, Any]]) -> None:
    assert all(list(row) == list(DEDUP_SCHEMA) for row in deduplicated)
    assert len(deduplicated) == sum(len(kept) for _, kept in DEDUP_CASES.values())


# ---------------------------------------------------------------------------- app_category

SPEC_APP_CATEGORIES: dict[str, str] = {
    "CHANNEL": TH,
    "DSHD": TH,
    "KPLUS": TH,
    "KPlus": TH,
    "VOD": PT,
    "FIMS": PT,
    "FIMS_RES": PT,
    "BHD": PT,
    "BHD_RES": PT,
    "VOD_RES": PT,
    "DANET": PT,
    "RELAX": GT,
    "CHILD": TN,
    "SPORT": TT,
}
APP_CASES: dict[str, str] = {
    **SPEC_APP_CATEGORIES,
    "APP": OTHER,
    "kplus": OTHER,  # case-sensitive: only KPLUS and KPlus are mapped
    "Channel": OTHER,
    "KPLUS ": OTHER,
    "": OTHER,
}


def test_default_mapping_is_the_spec_table() -> None:
    assert DEFAULT_APP_CATEGORIES == SPEC_APP_CATEGORIES


@pytest.fixture(scope="module")
def app_categories(duck: Any) -> dict[str, str]:
    t = ibis.memtable({"app_name": list(APP_CASES)}, schema={"app_name": "string"})
    expr = t.select("app_name", category=app_category(t.app_name, DEFAULT_APP_CATEGORIES))
    return {row["app_name"]: row["category"] for row in duck.to_pyarrow(expr).to_pylist()}


@pytest.mark.parametrize(("app", "expected"), list(APP_CASES.items()))
def test_app_category(app_categories: Mapping[str, str], app: str, expected: str) -> None:
    assert app_categories[app] == expected


def test_losers_within_date_leave_repeats_across_dates_alone(duck: Any) -> None:
    """One pass over several dates gives each date its own losers: a repeat on a later date is
    the cross-date step's to decide, not this one's."""
    rows = DEDUP_CASES["mixed"][0]
    data = {name: [row[i] for row in rows] for i, name in enumerate(DEDUP_SCHEMA)}
    table = ibis.memtable(data, schema=DEDUP_SCHEMA)
    within = duck.to_pyarrow(duplicate_losers(table, within_date=True)).to_pylist()
    assert sorted((r["source_file"], r["line_no"]) for r in within) == [(F3, 2)]  # x on D3
    every = duck.to_pyarrow(duplicate_losers(table)).to_pylist()
    assert sorted((r["source_file"], r["line_no"]) for r in every) == [
        (F2, 3), (F3, 1), (F3, 2),
    ]  # fmt: skip


def test_id_hash_counts_count_each_hash_per_date(duck: Any) -> None:
    rows = [(D1, F1, 1, "a", ""), (D1, F1, 2, "a", ""), (D2, F2, 1, "a", ""), (D2, F2, 2, None, "")]
    data = {name: [row[i] for row in rows] for i, name in enumerate(DEDUP_SCHEMA)}
    got = duck.to_pyarrow(id_hash_counts(ibis.memtable(data, schema=DEDUP_SCHEMA))).to_pylist()
    assert sorted((r["date"], r["n"]) for r in got) == [(D1, 2), (D2, 1)]  # the null id: none
    assert len({r["h"] for r in got}) == 1


@pytest.mark.parametrize("case", list(DEDUP_CASES))
def test_losers_within_date_from_stored_counts(duck: Any, case: str) -> None:
    """Candidates read from the stored hash counts give the same losers as aggregating again."""
    rows = DEDUP_CASES[case][0]
    data = {name: [row[i] for row in rows] for i, name in enumerate(DEDUP_SCHEMA)}
    table = ibis.memtable(data, schema=DEDUP_SCHEMA)
    counts = id_hash_counts(table)

    def losers(expr: Any) -> list[tuple[str, int]]:
        return sorted((r["source_file"], r["line_no"]) for r in duck.to_pyarrow(expr).to_pylist())

    stored = losers(duplicate_losers(table, within_date=True, counts=counts))
    assert stored == losers(duplicate_losers(table, within_date=True))
    with pytest.raises(ValueError, match="per date"):
        duplicate_losers(table, counts=counts)


#: Stacked per-date hashes (each date's hashes distinct): 1 on one date, 2 on two, 3 on three,
#: 4 twice with a hash of 0 between them in order, 5 on one date.
IDS_ROWS = [
    (D1, 1), (D1, 2), (D2, 2), (D1, 3), (D2, 3), (D3, 3), (D1, 4), (D3, 4), (D2, 0), (D3, 5),
]  # fmt: skip


@pytest.mark.parametrize("in_one_order", [False, True], ids=["grouped", "in-one-order"])
def test_repeated_hashes_are_those_on_more_than_one_date(duck: Any, in_one_order: bool) -> None:
    ids = ibis.memtable(
        {"date": [d for d, _ in IDS_ROWS], "h": [h for _, h in IDS_ROWS]},
        schema={"date": "date", "h": "int64"},
    )
    got = duck.to_pyarrow(repeated_hashes(ids, in_one_order=in_one_order)).column("h").to_pylist()
    assert sorted(got) == [2, 3, 4], "each repeated hash once, however many dates hold it"
    new = ids.filter(ids.date == D3)
    old = ids.filter(ids.date != D3)
    added = newly_repeated_hashes(new, old, in_one_order=in_one_order)
    assert sorted(duck.to_pyarrow(added).column("h").to_pylist()) == [3, 4]
