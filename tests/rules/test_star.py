"""The star schema and the dashboard summaries (SPEC 2.4) against hand-computed expected values.

One small set of valid, de-duplicated rows (``ROWS``) feeds every table: ``usage`` aggregates them
to the fact grain with natural keys, the dimensions derive from ``usage`` with integer surrogate
keys, and ``fact_usage`` gets those keys by joining ``usage`` to the dimensions. Each derived table
is computed once per module and the table-driven tests look rows up in it.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from typing import Any

import ibis
import ibis.expr.types as ir
import pytest

from c360.build.content_dates import PARTIALS
from c360.config import DEFAULT_APP_CATEGORIES
from c360.rules import totals
from c360.rules._keys import UNKNOWN, date_key, with_surrogate_key
from c360.rules.star import (
    USAGE_COLUMNS,
    daily_active_contracts,
    daily_app_usage,
    daily_category_usage,
    dim_app,
    dim_contract,
    dim_date,
    dim_device,
    fact_usage,
    top_apps,
    usage,
    with_category,
)

Rows = list[dict[str, Any]]
Execute = Callable[..., Rows]
#: (file_date, contract, mac, app_name, duration)
Row = tuple[date, str, str | None, str, int]

ROW_SCHEMA = {
    "file_date": "date",
    "contract": "string",
    "mac": "string",
    "app_name": "string",
    "duration": "int64",
}
TH, PT, TT, OTHER = "Truyen Hinh", "Phim Truyen", "The Thao", "Other"
A, B, C = "HNH579912", "SGJ048834", "AGAAA0518"
M1, M2, M3 = "0C96E62FC55C", "AABBCCDDEEFF", "112233445566"
D1, D2, D4 = date(2022, 4, 1), date(2022, 4, 2), date(2022, 4, 4)

#: Computed once, independently: ``int(hashlib.md5(b"HNH579912").hexdigest()[:15], 16)``
#: (hex prefix ``5d43476648d1091``).
HNH579912_KEY = 420_018_348_350_050_449
#: ``int(hashlib.md5(b"~unknown").hexdigest()[:15], 16)`` (hex prefix ``37fa66251e80d48``).
UNKNOWN_KEY = 252_103_045_367_205_192

ROWS: list[Row] = [
    (D1, A, M1, "KPLUS", 100),
    (D1, A, M1, "KPLUS", 50),  # same grain as the row above: summed
    (D1, A, M2, "KPLUS", 30),  # another device: its own fact row
    (D1, A, None, "KPLUS", 7),  # unknown device
    (D1, A, None, "KPLUS", 3),  # unknown device, same grain: summed
    (D1, A, M1, "VOD", 20),  # another app
    (D2, A, M1, "KPLUS", 5),  # another day
    (D2, B, M3, "APP", 200),  # B only ever watches APP (category Other)
    (D1, B, M3, "APP", 40),
    (D4, C, M2, "SPORT", 60),
    (D4, C, M2, "WEIRD", 0),  # an app outside the mapping
    (D4, A, M1, "VOD", 20),
    (D1, C, M2, "CHANNEL", 25),
    (D4, C, M2, "VOD", 20),
]

#: The usage grain by hand: (date, contract, mac, app_name, total_duration, records).
EXPECTED_USAGE: list[tuple[date, str, str | None, str, int, int]] = [
    (D1, A, M1, "KPLUS", 150, 2),
    (D1, A, M2, "KPLUS", 30, 1),
    (D1, A, None, "KPLUS", 10, 2),
    (D1, A, M1, "VOD", 20, 1),
    (D2, A, M1, "KPLUS", 5, 1),
    (D2, B, M3, "APP", 200, 1),
    (D1, B, M3, "APP", 40, 1),
    (D4, C, M2, "SPORT", 60, 1),
    (D4, C, M2, "WEIRD", 0, 1),
    (D4, A, M1, "VOD", 20, 1),
    (D1, C, M2, "CHANNEL", 25, 1),
    (D4, C, M2, "VOD", 20, 1),
]
USAGE_IDS = [f"{d:%m%d}-{c}-{m or 'unknown'}-{a}" for d, c, m, a, _, _ in EXPECTED_USAGE]


def md5_key(text: str) -> int:
    """The expected surrogate key, computed outside Ibis: the first 60 bits of the MD5."""
    return int(hashlib.md5(text.encode("utf-8")).hexdigest()[:15], 16)


def device_key(mac: str | None) -> int:
    return md5_key(UNKNOWN if mac is None else mac)


def rows_table(rows: Iterable[Row]) -> ir.Table:
    listed = list(rows)
    data = {name: [row[i] for row in listed] for i, name in enumerate(ROW_SCHEMA)}
    return ibis.memtable(data, schema=ROW_SCHEMA)


def run(duck: Any, expr: ir.Table) -> Rows:
    result: Rows = duck.to_pyarrow(expr).to_pylist()
    return result


def window_totals(usage_cat: ir.Table, days: Iterable[date]) -> dict[str, ir.Table]:
    """The window totals the way the pipeline computes them: one partial per date, merged."""
    out = {}
    for name, merge in totals.MERGES.items():
        partial = PARTIALS[name]
        parts = [partial(usage_cat.filter(usage_cat.date == day)) for day in days]
        out[name] = merge(ibis.union(*parts, distinct=False) if len(parts) > 1 else parts[0])
    return out


def window_app_contracts(fact: ir.Table, days: Iterable[date]) -> ir.Table:
    """The window's (app, contract) pairs the way the pipeline computes them: each date's fact
    partition is its partial, merged with the previous dates' pairs one date at a time."""
    keys = sorted(int(f"{day:%Y%m%d}") for day in set(days))
    merged = totals.app_contracts(fact.filter(fact.date_key == keys[0]))
    for key in keys[1:]:
        part = fact.filter(fact.date_key == key).select(*merged.columns)
        merged = totals.app_contracts(merged.union(part))
    return merged


def star_of(rows: Iterable[Row]) -> dict[str, ir.Table]:
    """Every star table for ``rows``, built the way the pipeline builds them."""
    listed = list(rows)
    u = usage(rows_table(listed))
    window = window_totals(with_category(u, DEFAULT_APP_CATEGORIES), {r[0] for r in listed})
    contracts, pairs = (window[name] for name in ("contract_totals", "device_pairs"))
    daily_apps = daily_app_usage(with_category(u, DEFAULT_APP_CATEGORIES))
    return {
        "usage": u,
        "dim_contract": dim_contract(contracts, pairs),
        "dim_device": dim_device(pairs),
        "dim_app": dim_app(daily_apps, DEFAULT_APP_CATEGORIES),
        "dim_date": dim_date(u),
        "fact_usage": fact_usage(u),
        "top_apps": top_apps(
            daily_apps, window_app_contracts(fact_usage(u), (r[0] for r in listed))
        ),
    }


@pytest.fixture(scope="module")
def tables() -> dict[str, ir.Table]:
    return star_of(ROWS)


@pytest.fixture(scope="module")
def usage_expr(tables: Mapping[str, ir.Table]) -> ir.Table:
    return tables["usage"]


@pytest.fixture(scope="module")
def usage_cat_expr(usage_expr: ir.Table) -> ir.Table:
    return with_category(usage_expr, DEFAULT_APP_CATEGORIES)


@pytest.fixture(scope="module")
def usage_rows(duck: Any, usage_expr: ir.Table) -> Rows:
    return run(duck, usage_expr)


@pytest.fixture(scope="module")
def fact_expr(tables: Mapping[str, ir.Table]) -> ir.Table:
    return tables["fact_usage"]


@pytest.fixture(scope="module")
def fact(duck: Any, fact_expr: ir.Table) -> Rows:
    return run(duck, fact_expr)


# ---------------------------------------------------------------------------- usage


def test_usage_columns(usage_expr: ir.Table, usage_rows: Rows) -> None:
    expected = ["date", "contract", "mac", "app_name", "total_duration", "records"]
    assert list(USAGE_COLUMNS) == expected
    assert list(usage_expr.columns) == expected
    assert list(usage_rows[0]) == expected


def test_usage_has_one_row_per_grain(usage_rows: Rows) -> None:
    grains = [(r["date"], r["contract"], r["mac"], r["app_name"]) for r in usage_rows]
    assert len(grains) == len(set(grains)) == len(EXPECTED_USAGE) == 12
    assert sum(r["records"] for r in usage_rows) == len(ROWS)
    assert sum(r["total_duration"] for r in usage_rows) == sum(row[4] for row in ROWS)


@pytest.mark.parametrize(
    ("day", "contract", "mac", "app", "total", "records"), EXPECTED_USAGE, ids=USAGE_IDS
)
def test_usage_row(
    usage_rows: Rows, day: date, contract: str, mac: str | None, app: str, total: int, records: int
) -> None:
    matches = [
        r
        for r in usage_rows
        if (r["date"], r["contract"], r["mac"], r["app_name"]) == (day, contract, mac, app)
    ]
    assert matches == [
        {
            "date": day,
            "contract": contract,
            "mac": mac,
            "app_name": app,
            "total_duration": total,
            "records": records,
        }
    ]


# ---------------------------------------------------------------------------- fact_usage


def test_fact_usage_holds_keys_and_measures_only(fact_expr: ir.Table, fact: Rows) -> None:
    expected = ["date_key", "contract_key", "device_key", "app_key", "total_duration", "records"]
    assert list(fact_expr.columns) == expected
    assert list(fact[0]) == expected
    types = {name: str(dtype) for name, dtype in fact_expr.schema().items()}
    assert types == {
        "date_key": "int32",
        "contract_key": "int64",
        "device_key": "int64",
        "app_key": "int64",
        "total_duration": "int64",
        "records": "int64",
    }


def test_fact_usage_has_one_row_per_grain(fact: Rows) -> None:
    grains = [(r["date_key"], r["contract_key"], r["device_key"], r["app_key"]) for r in fact]
    assert len(grains) == len(set(grains)) == len(EXPECTED_USAGE) == 12
    assert sum(r["records"] for r in fact) == len(ROWS)
    assert sum(r["total_duration"] for r in fact) == sum(row[4] for row in ROWS)


@pytest.mark.parametrize(
    ("day", "contract", "mac", "app", "total", "records"), EXPECTED_USAGE, ids=USAGE_IDS
)
def test_fact_usage_row(
    fact: Rows, day: date, contract: str, mac: str | None, app: str, total: int, records: int
) -> None:
    keys = (int(day.strftime("%Y%m%d")), md5_key(contract), device_key(mac), md5_key(app))
    matches = [
        r for r in fact if (r["date_key"], r["contract_key"], r["device_key"], r["app_key"]) == keys
    ]
    assert matches == [
        {
            "date_key": keys[0],
            "contract_key": keys[1],
            "device_key": keys[2],
            "app_key": keys[3],
            "total_duration": total,
            "records": records,
        }
    ]


def test_fact_joined_to_the_dimensions_gives_back_the_usage_grain(
    duck: Any, tables: Mapping[str, ir.Table]
) -> None:
    # ``view()``: the fact and its dimensions share lineage (all derive from ``usage``), and the
    # fact expression is a join chain that Ibis would otherwise extend instead of joining to.
    f = tables["fact_usage"].view()
    joined = (
        f.join(tables["dim_date"].view(), "date_key")
        .join(tables["dim_contract"].view(), "contract_key")
        .join(tables["dim_device"].view(), "device_key")
        .join(tables["dim_app"].view(), "app_key")
    )
    got = run(
        duck,
        joined.select(
            joined.date,
            joined.contract,
            joined.mac,
            joined.app_name,
            joined.total_duration,
            joined.records,
        ),
    )
    assert len(got) == len(EXPECTED_USAGE)  # the joins neither drop nor repeat rows
    assert sorted((tuple(r.values()) for r in got), key=_sort_key) == sorted(
        EXPECTED_USAGE, key=_sort_key
    )


def _sort_key(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """Sortable despite the null Mac of the unknown device."""
    return tuple("" if value is None else value for value in row)


def test_null_mac_gets_the_unknown_device_key(fact: Rows) -> None:
    assert UNKNOWN == "~unknown"
    assert md5_key(UNKNOWN) == UNKNOWN_KEY
    unknown = [r for r in fact if r["device_key"] == UNKNOWN_KEY]
    assert [(r["total_duration"], r["records"]) for r in unknown] == [(10, 2)]


def test_fact_date_key(fact: Rows) -> None:
    assert {r["date_key"] for r in fact} == {20220401, 20220402, 20220404}


# ---------------------------------------------------------------------------- referential integrity


@pytest.mark.parametrize(
    ("fact_column", "dimension"),
    [
        pytest.param("date_key", "dim_date", id="date"),
        pytest.param("contract_key", "dim_contract", id="contract"),
        pytest.param("device_key", "dim_device", id="device"),
        pytest.param("app_key", "dim_app", id="app"),
    ],
)
def test_every_fact_key_exists_in_its_dimension(
    duck: Any,
    tables: Mapping[str, ir.Table],
    fact: Rows,
    fact_column: str,
    dimension: str,
) -> None:
    dim_keys = [r[fact_column] for r in run(duck, tables[dimension].select(fact_column))]
    assert len(dim_keys) == len(set(dim_keys)), "a dimension key must identify one member"
    assert {r[fact_column] for r in fact} <= set(dim_keys)
    # ``view()``: see test_fact_joined_to_the_dimensions_gives_back_the_usage_grain.
    orphans = tables["fact_usage"].view().anti_join(tables[dimension].view(), fact_column)
    assert run(duck, orphans.aggregate(n=orphans.count())) == [{"n": 0}]


# ---------------------------------------------------------------------------- keys


def test_contract_key_is_the_60_bit_md5_prefix_of_the_natural_key(fact: Rows) -> None:
    assert int(hashlib.md5(b"HNH579912").hexdigest()[:15], 16) == HNH579912_KEY
    assert md5_key(A) == HNH579912_KEY
    assert isinstance(HNH579912_KEY, int)
    assert 0 < HNH579912_KEY < 2**60
    assert HNH579912_KEY in {r["contract_key"] for r in fact}


def test_with_surrogate_key_is_a_bigint(duck: Any) -> None:
    t = ibis.memtable({"natural": [A]}, schema={"natural": "string"})
    keyed = with_surrogate_key(t, "natural", name="key")
    assert list(keyed.columns) == ["natural", "key"]
    assert str(keyed.schema()["key"]) == "int64"
    assert run(duck, keyed) == [{"natural": A, "key": HNH579912_KEY}]


def test_with_surrogate_key_matches_hashlib_for_many_strings(duck: Any) -> None:
    """Every hex digit position and value must convert exactly (incl. leading zeros, UTF-8):
    the engine forms the key from the digest's bytes, so each of the first eight must land in
    its place."""
    rng = random.Random(7)
    alphabet = "ABCDEFabcdef0123456789:-~ àộ🙂"
    randoms = ["".join(rng.choices(alphabet, k=rng.randint(1, 40))) for _ in range(3000)]
    naturals = [f"K{i:05d}" for i in range(300)] + ["Hà Nội", "x", " ", "", "ÄÖÜ-ß", "🙂"]
    naturals = sorted({*naturals, *randoms})
    t = ibis.memtable({"natural": naturals}, schema={"natural": "string"})
    got = {r["natural"]: r["key"] for r in run(duck, with_surrogate_key(t, "natural", name="key"))}
    assert got == {n: md5_key(n) for n in naturals}
    assert all(0 <= key < 2**60 for key in got.values())
    # the sample exercises a leading zero hex digit, i.e. a key below 2**56
    assert any(key < 2**56 for key in got.values())


def test_surrogate_keys_are_stable_across_runs(duck: Any) -> None:
    def keys() -> Rows:
        t = ibis.memtable({"natural": [A, None, M1]}, schema={"natural": "string"})
        return run(duck, with_surrogate_key(t, "natural", name="key").order_by("natural"))

    first, second = keys(), keys()
    assert first == second
    assert {r["natural"]: r["key"] for r in first} == {
        A: HNH579912_KEY,
        M1: md5_key(M1),
        None: UNKNOWN_KEY,
    }


@pytest.mark.parametrize(
    "name", ["dim_contract", "dim_device", "dim_app", "dim_date", "fact_usage"]
)
def test_star_tables_are_identical_across_two_computations(duck: Any, name: str) -> None:
    """Two independent builds (fresh memtables, rows in another order) give the same keys."""
    first = star_of(ROWS)[name]
    second = star_of(list(reversed(ROWS)))[name]
    assert run(duck, first.order_by(*first.columns)) == run(duck, second.order_by(*second.columns))


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        pytest.param(D1, 20220401, id="2022-04-01"),
        pytest.param(date(2021, 12, 31), 20211231, id="2021-12-31"),
        pytest.param(date(2022, 10, 9), 20221009, id="2022-10-09"),
    ],
)
def test_date_key(execute: Execute, day: date, expected: int) -> None:
    t = ibis.memtable({"day": [day]}, schema={"day": "date"})
    assert execute(t.select(key=date_key(t.day))) == [{"key": expected}]


# ---------------------------------------------------------------------------- dim_contract


@pytest.fixture(scope="module")
def contracts(duck: Any, tables: Mapping[str, ir.Table]) -> dict[str, dict[str, Any]]:
    return {r["contract"]: r for r in run(duck, tables["dim_contract"])}


@pytest.mark.parametrize(
    ("contract", "province", "first_seen", "last_seen", "devices"),
    [
        pytest.param(A, "HN", D1, D4, 2, id="known-devices-only"),
        pytest.param(B, "SG", D1, D2, 1, id="only-app-rows"),
        pytest.param(C, "AG", D1, D4, 1, id="one-device-many-apps"),
    ],
)
def test_dim_contract(
    contracts: Mapping[str, Mapping[str, Any]],
    contract: str,
    province: str,
    first_seen: date,
    last_seen: date,
    devices: int,
) -> None:
    assert contracts[contract] == {
        "contract_key": md5_key(contract),
        "contract": contract,
        "province": province,
        "first_seen": first_seen,
        "last_seen": last_seen,
        "devices": devices,
    }


def test_dim_contract_has_one_row_per_contract(contracts: Mapping[str, Any]) -> None:
    assert sorted(contracts) == sorted([A, B, C])
    assert contracts[A]["contract_key"] == HNH579912_KEY


def test_dim_contract_with_only_unknown_devices_counts_zero_devices(execute: Execute) -> None:
    assert execute(star_of([(D1, A, None, "KPLUS", 5)])["dim_contract"]) == [
        {
            "contract_key": HNH579912_KEY,
            "contract": A,
            "province": "HN",
            "first_seen": D1,
            "last_seen": D1,
            "devices": 0,
        }
    ]


# ---------------------------------------------------------------------------- dim_device


@pytest.fixture(scope="module")
def devices(duck: Any, tables: Mapping[str, ir.Table]) -> dict[int, dict[str, Any]]:
    return {r["device_key"]: r for r in run(duck, tables["dim_device"])}


@pytest.mark.parametrize(
    ("mac", "first_seen", "last_seen", "n_contracts"),
    [
        pytest.param(M1, D1, D4, 1, id="M1"),
        pytest.param(M2, D1, D4, 2, id="M2-shared"),
        pytest.param(M3, D1, D2, 1, id="M3"),
        pytest.param(None, D1, D1, 1, id="unknown"),
    ],
)
def test_dim_device(
    devices: Mapping[int, Mapping[str, Any]],
    mac: str | None,
    first_seen: date,
    last_seen: date,
    n_contracts: int,
) -> None:
    key = UNKNOWN_KEY if mac is None else md5_key(mac)
    assert devices[key] == {
        "device_key": key,
        "mac": mac,
        "is_known": mac is not None,
        "first_seen": first_seen,
        "last_seen": last_seen,
        "contracts": n_contracts,
    }


def test_dim_device_has_one_row_per_device(devices: Mapping[int, Any]) -> None:
    assert len(devices) == 4
    assert [k for k, r in devices.items() if r["mac"] is None] == [UNKNOWN_KEY]


def test_dim_device_without_unknown_macs_has_no_unknown_member(execute: Execute) -> None:
    dim = star_of([(D1, A, M1, "KPLUS", 5)])["dim_device"]
    assert [(r["device_key"], r["mac"]) for r in execute(dim)] == [(md5_key(M1), M1)]


# ---------------------------------------------------------------------------- dim_app

EXPECTED_APPS: dict[str, tuple[str, bool]] = {
    "CHANNEL": (TH, True),
    "DSHD": (TH, True),
    "KPLUS": (TH, True),
    "KPlus": (TH, True),
    "VOD": (PT, True),
    "FIMS": (PT, True),
    "FIMS_RES": (PT, True),
    "BHD": (PT, True),
    "BHD_RES": (PT, True),
    "VOD_RES": (PT, True),
    "DANET": (PT, True),
    "RELAX": ("Giai Tri", True),
    "CHILD": ("Thieu Nhi", True),
    "SPORT": (TT, True),
    "APP": (OTHER, False),  # seen in the data, not in the mapping
    "WEIRD": (OTHER, False),
}


@pytest.fixture(scope="module")
def apps(duck: Any, tables: Mapping[str, ir.Table]) -> Rows:
    return run(duck, tables["dim_app"])


def test_dim_app_has_every_mapped_and_seen_app_once(apps: Rows) -> None:
    names = [r["app_name"] for r in apps]
    assert sorted(names) == sorted(EXPECTED_APPS)
    assert len({r["app_key"] for r in apps}) == len(EXPECTED_APPS)


@pytest.mark.parametrize(("app", "expected"), list(EXPECTED_APPS.items()))
def test_dim_app(apps: Rows, app: str, expected: tuple[str, bool]) -> None:
    category, in_profile = expected
    assert [r for r in apps if r["app_name"] == app] == [
        {"app_key": md5_key(app), "app_name": app, "category": category, "in_profile": in_profile}
    ]


# ---------------------------------------------------------------------------- dim_date

#: date -> (day_of_week (ISO, 1 = Monday), day_name, ISO week, month, year, is_weekend)
EXPECTED_DATES: dict[date, tuple[int, str, int, int, int, bool]] = {
    date(2022, 4, 1): (5, "Friday", 13, 4, 2022, False),
    date(2022, 4, 2): (6, "Saturday", 13, 4, 2022, True),
    date(2022, 4, 3): (7, "Sunday", 13, 4, 2022, True),
    date(2022, 4, 4): (1, "Monday", 14, 4, 2022, False),
    date(2022, 1, 1): (6, "Saturday", 52, 1, 2022, True),  # ISO week 52 of 2021
    date(2022, 1, 3): (1, "Monday", 1, 1, 2022, False),
    date(2022, 12, 31): (6, "Saturday", 52, 12, 2022, True),
}


@pytest.fixture(scope="module")
def dates(duck: Any) -> dict[date, dict[str, Any]]:
    days = [*EXPECTED_DATES, date(2022, 4, 2)]  # a repeated date gives one row
    rows = [(day, A, M1, "KPLUS", 1) for day in days]
    got = run(duck, dim_date(usage(rows_table(rows))))
    assert len(got) == len(EXPECTED_DATES)
    return {r["date"]: r for r in got}


@pytest.mark.parametrize(
    ("day", "expected"),
    list(EXPECTED_DATES.items()),
    ids=[f"{d:%Y-%m-%d}" for d in EXPECTED_DATES],
)
def test_dim_date(
    dates: Mapping[date, Mapping[str, Any]],
    day: date,
    expected: tuple[int, str, int, int, int, bool],
) -> None:
    day_of_week, day_name, week, month, year, is_weekend = expected
    assert dates[day] == {
        "date_key": int(day.strftime("%Y%m%d")),
        "date": day,
        "day_of_week": day_of_week,
        "day_name": day_name,
        "week": week,
        "month": month,
        "year": year,
        "is_weekend": is_weekend,
    }


def test_dim_date_from_the_usage(execute: Execute, tables: Mapping[str, ir.Table]) -> None:
    rows = execute(tables["dim_date"], order_by=["date"])
    assert [(r["date_key"], r["date"], r["day_of_week"], r["is_weekend"]) for r in rows] == [
        (20220401, D1, 5, False),
        (20220402, D2, 6, True),
        (20220404, D4, 1, False),
    ]


# ---------------------------------------------------------------------------- summaries


@pytest.fixture(scope="module")
def category_usage(duck: Any, usage_cat_expr: ir.Table) -> Rows:
    return run(duck, daily_category_usage(usage_cat_expr))


@pytest.mark.parametrize(
    ("day", "category", "total", "records", "n_contracts"),
    [
        pytest.param(D1, TH, 215, 6, 2, id="d1-tv-two-apps-two-contracts"),
        pytest.param(D1, PT, 20, 1, 1, id="d1-movies"),
        pytest.param(D1, OTHER, 40, 1, 1, id="d1-other"),
        pytest.param(D2, TH, 5, 1, 1, id="d2-tv"),
        pytest.param(D2, OTHER, 200, 1, 1, id="d2-other"),
        pytest.param(D4, TT, 60, 1, 1, id="d4-sports"),
        pytest.param(D4, OTHER, 0, 1, 1, id="d4-other-zero-seconds"),
        pytest.param(D4, PT, 40, 2, 2, id="d4-movies-two-contracts"),
    ],
)
def test_daily_category_usage(
    category_usage: Rows, day: date, category: str, total: int, records: int, n_contracts: int
) -> None:
    assert [r for r in category_usage if (r["date"], r["category"]) == (day, category)] == [
        {
            "date": day,
            "category": category,
            "total_duration": total,
            "records": records,
            "contracts": n_contracts,
        }
    ]


def test_daily_category_usage_row_count(category_usage: Rows) -> None:
    assert len(category_usage) == 8


@pytest.fixture(scope="module")
def app_usage(duck: Any, usage_cat_expr: ir.Table) -> Rows:
    return run(duck, daily_app_usage(usage_cat_expr))


@pytest.mark.parametrize(
    ("day", "app", "category", "total", "records", "n_contracts"),
    [
        pytest.param(D1, "CHANNEL", TH, 25, 1, 1, id="d1-channel"),
        pytest.param(D1, "KPLUS", TH, 190, 5, 1, id="d1-kplus-three-devices"),
        pytest.param(D1, "VOD", PT, 20, 1, 1, id="d1-vod"),
        pytest.param(D1, "APP", OTHER, 40, 1, 1, id="d1-app"),
        pytest.param(D2, "KPLUS", TH, 5, 1, 1, id="d2-kplus"),
        pytest.param(D2, "APP", OTHER, 200, 1, 1, id="d2-app"),
        pytest.param(D4, "SPORT", TT, 60, 1, 1, id="d4-sport"),
        pytest.param(D4, "WEIRD", OTHER, 0, 1, 1, id="d4-unmapped"),
        pytest.param(D4, "VOD", PT, 40, 2, 2, id="d4-vod-two-contracts"),
    ],
)
def test_daily_app_usage(
    app_usage: Rows,
    day: date,
    app: str,
    category: str,
    total: int,
    records: int,
    n_contracts: int,
) -> None:
    assert [r for r in app_usage if (r["date"], r["app_name"]) == (day, app)] == [
        {
            "date": day,
            "app_name": app,
            "category": category,
            "total_duration": total,
            "records": records,
            "contracts": n_contracts,
        }
    ]


def test_daily_app_usage_row_count(app_usage: Rows) -> None:
    assert len(app_usage) == 9


@pytest.fixture(scope="module")
def active_contracts(duck: Any, usage_cat_expr: ir.Table) -> dict[date, dict[str, Any]]:
    return {
        r["date"]: r
        for r in run(duck, daily_active_contracts(totals.contract_day_totals(usage_cat_expr)))
    }


@pytest.mark.parametrize(
    ("day", "active", "profiled"),
    [
        pytest.param(D1, 3, 2, id="d1-B-only-other"),
        pytest.param(D2, 2, 1, id="d2-B-only-other"),
        pytest.param(D4, 2, 2, id="d4-C-other-and-sports"),
    ],
)
def test_daily_active_contracts(
    active_contracts: Mapping[date, Mapping[str, Any]], day: date, active: int, profiled: int
) -> None:
    assert active_contracts[day] == {
        "date": day,
        "active_contracts": active,
        "profiled_contracts": profiled,
    }


def test_daily_active_contracts_with_no_profiled_contract(execute: Execute) -> None:
    usage_cat = with_category(
        usage(rows_table([(D1, B, M3, "APP", 5), (D1, A, M1, "WEIRD", 9)])),
        DEFAULT_APP_CATEGORIES,
    )
    assert execute(daily_active_contracts(totals.contract_day_totals(usage_cat))) == [
        {"date": D1, "active_contracts": 2, "profiled_contracts": 0}
    ]


#: (rank, app_name, category, total_duration, records, contracts), by hand
EXPECTED_TOP_APPS: list[tuple[int, str, str, int, int, int]] = [
    (1, "APP", OTHER, 240, 2, 1),
    (2, "KPLUS", TH, 195, 6, 1),
    (3, "SPORT", TT, 60, 1, 1),  # tie on 60 s with VOD: SPORT < VOD
    (4, "VOD", PT, 60, 3, 2),
    (5, "CHANNEL", TH, 25, 1, 1),
    (6, "WEIRD", OTHER, 0, 1, 1),
]


@pytest.fixture(scope="module")
def ranked_apps(duck: Any, tables: Mapping[str, ir.Table]) -> Rows:
    return run(duck, tables["top_apps"].order_by("rank"))


def test_top_apps(ranked_apps: Rows) -> None:
    got = [
        (
            r["rank"],
            r["app_name"],
            r["category"],
            r["total_duration"],
            r["records"],
            r["contracts"],
        )
        for r in ranked_apps
    ]
    assert got == EXPECTED_TOP_APPS


@pytest.mark.parametrize(
    ("seconds", "expected_order"),
    [
        pytest.param({"VOD": 10, "BHD": 10, "APP": 10}, ["APP", "BHD", "VOD"], id="three-way-tie"),
        pytest.param({"SPORT": 5, "CHILD": 50, "RELAX": 5}, ["CHILD", "RELAX", "SPORT"], id="tie"),
    ],
)
def test_top_apps_tie_broken_by_app_name(
    execute: Execute, seconds: dict[str, int], expected_order: list[str]
) -> None:
    rows = [(D1, A, M1, app, value) for app, value in seconds.items()]
    ranked = execute(star_of(rows)["top_apps"], order_by=["rank"])
    assert [(r["rank"], r["app_name"]) for r in ranked] == list(enumerate(expected_order, start=1))
