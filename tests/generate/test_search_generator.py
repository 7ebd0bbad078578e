"""The synthetic search day looks like the real one: schema, rates, datetime shapes, quirks."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from c360.config import SEARCH_CATEGORIES
from c360.generate.population import Population
from c360.generate.search_logs import search_vocabulary, write_search_day
from c360.generate.search_values import JUNK_USER_IDS, VOCABULARY, VOICE_PLACEHOLDER

REAL_DAY = (
    Path(__file__).resolve().parents[3] / "shared" / "data" / "real" / "log_search" / "20220701"
)
DAY = date(2022, 7, 1)
SPARK_KEY = b"org.apache.spark.sql.parquet.row.metadata"


def _population(size: int) -> Population:
    """A light stand-in for ``make_population`` (which shuffles 10 M numbers): same dtypes."""
    rng = np.random.default_rng(3)
    numbers = rng.choice(10_000_000, size=size, replace=False)
    return Population(
        contracts=np.char.add("HNH", np.char.zfill(np.arange(size).astype(str), 6)),
        activity=rng.uniform(0.02, 1.0, size),
        macs=np.full((size, 3), "0C96E62FC55C"),
        device_count=np.ones(size, dtype=np.int64),
        favourite_app=np.zeros(size, dtype=np.int64),
        user_ids=np.where(rng.random(size) < 0.7, np.char.zfill(numbers.astype(str), 7), ""),
    )


@pytest.fixture(scope="module")
def population() -> Population:
    return _population(20_000)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory, population: Population) -> Path:
    out = tmp_path_factory.mktemp("search")
    return write_search_day(out, DAY, population, rows=20_000, seed=11)


@pytest.fixture(scope="module")
def table(folder: Path) -> pa.Table:
    return pq.read_table(folder)


def _read_parts(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_same_seed_and_day_give_identical_files(tmp_path: Path, population: Population) -> None:
    a = write_search_day(tmp_path / "a", DAY, population, rows=3_000, seed=5, parts=2)
    b = write_search_day(tmp_path / "b", DAY, population, rows=3_000, seed=5, parts=2)
    assert a.name == b.name == "20220701"
    assert pq.read_table(a).equals(pq.read_table(b))
    assert _read_parts(a) == _read_parts(b)
    other = write_search_day(tmp_path / "c", date(2022, 7, 2), population, rows=3_000, seed=5)
    assert not pq.read_table(other).equals(pq.read_table(a))


def test_rewrite_replaces_the_folder(tmp_path: Path, population: Population) -> None:
    write_search_day(tmp_path, DAY, population, rows=2_000, seed=5, parts=3)
    out = write_search_day(tmp_path, DAY, population, rows=1_000, seed=5, parts=1)
    assert pq.read_table(out).num_rows == 1_000
    assert len(list(out.glob("part-*.parquet"))) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["20220701"]


def test_spark_folder_layout(folder: Path, table: pa.Table) -> None:
    names = sorted(p.name for p in folder.iterdir())
    parts = [n for n in names if n.startswith("part-")]
    assert "_SUCCESS" in names and "._SUCCESS.crc" in names
    assert len(parts) == 1  # 20k rows -> one part by default
    assert re.fullmatch(r"part-00000-[0-9a-f-]{36}-c000\.snappy\.parquet", parts[0])
    assert f".{parts[0]}.crc" in names
    assert pq.ParquetFile(folder / parts[0]).metadata.row_group(0).column(0).compression == "SNAPPY"
    assert table.num_rows == 20_000


def test_schema_equals_the_real_schema(table: pa.Table) -> None:
    real_parts = sorted(REAL_DAY.glob("part-*.parquet"))
    if not real_parts:
        pytest.skip("real search day not available")
    real = pq.read_schema(real_parts[0])
    assert table.schema.equals(real, check_metadata=False)
    assert table.schema.names == real.names
    assert table.schema.metadata[SPARK_KEY] == real.metadata[SPARK_KEY]


def test_null_rates(table: pa.Table) -> None:
    n = table.num_rows
    assert table["user_id"].null_count / n == pytest.approx(0.249, abs=0.015)
    assert table["keyword"].null_count / n == pytest.approx(0.058, abs=0.008)
    assert table["networkType"].null_count / n == pytest.approx(0.195, abs=0.03)
    assert table["platform"].null_count / n < 0.002
    for column in ("eventID", "datetime", "category", "proxy_isp", "action"):
        assert table[column].null_count == 0
    users = table["user_id"].to_pylist()
    plans = table["userPlansMap"].to_pylist()
    assert all((u is None) == (p is None) for u, p in zip(users, plans, strict=True))
    assert sum(p == [] for p in plans) / n > 0.5


def test_value_sets(table: pa.Table) -> None:
    assert set(table["category"].to_pylist()) == {"enter", "quit"}
    assert set(table["action"].to_pylist()) == {"search"}
    assert set(table["proxy_isp"].to_pylist()) <= {"viettel", "vnpt", "fpt", "other", "spt"}
    assert {"WIFI", "wifi", "3g", "ethernet", None} <= set(table["networkType"].to_pylist())
    plans = {p for row in table["userPlansMap"].to_pylist() if row for p in row}
    assert plans and all(re.fullmatch(r"[^:]+:(promotion|giftcode|direct)", p) for p in plans)


SHAPES = {
    "iso3": r"2022-07-01 \d\d:\d\d:\d\d\.\d{3}",
    "frac2": r"2022-07-01 \d\d:\d\d:\d\d\.\d{2}",
    "frac1": r"2022-07-01 \d\d:\d\d:\d\d\.\d",
    "frac4": r"2022-07-01 \d\d:\d\d:\d\d\.\d{4}",
    "twelve_hour": r"2022-07-01 \d{1,2}:\d\d:\d\d\.\d{1,4} (AM|PM|am|pm|SA|CH)",
    "vietnamese_meridiem": r".* (SA|CH)",
    "no_pad_hour": r"2022-07-01 \d:\d\d:\d\d\.\d{1,4}",
    "persian": r"۲۰۲۲-۰[۶۷]-[۰-۹]{2} [۰-۹:.]+",
    "arabic_indic": r"٢٠٢٢-٠[٦٧]-[٠-٩]{2} [٠-٩:.]+",
    "bengali": r"২০২২-০[৬৭]-[০-৯]{2} [০-৯:.]+",
    "thai_year": r"2565-07-01 .*",
    "year_0004": r"0004-07-01 .*",
    "year_1970": r"1970-01-01 .*",
    "year_2018": r"2018-.*",
    "previous_day": r"2022-06-30 .*",
    "next_day": r"2022-07-02 .*",
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_every_datetime_shape_occurs(table: pa.Table, shape: str) -> None:
    pattern = re.compile(SHAPES[shape])
    assert any(pattern.fullmatch(s) for s in table["datetime"].to_pylist())


def test_datetimes_are_mostly_plain_and_on_the_day(table: pa.Table) -> None:
    values = table["datetime"].to_pylist()
    plain = sum(bool(re.fullmatch(SHAPES["iso3"], s)) for s in values) / len(values)
    assert 0.8 < plain < 0.95
    assert sum(s.startswith("2022-07-01") for s in values) / len(values) > 0.99


def test_duplicate_event_ids_repeat_the_same_event(table: pa.Table) -> None:
    ids = table["eventID"].to_pylist()
    uuid = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
    assert all(uuid.fullmatch(i) for i in ids)
    repeated = {i for i, c in Counter(ids).items() if c > 1}
    assert 1 <= len(repeated) <= 30
    rows = [r for r in table.to_pylist() if r["eventID"] in repeated]
    for event in repeated:
        same = [(r["user_id"], r["keyword"], r["platform"]) for r in rows if r["eventID"] == event]
        assert len(set(same)) == 1


def test_user_ids_come_from_the_population(table: pa.Table, population: Population) -> None:
    known = set(population.user_ids.tolist()) - {""}
    users = [u for u in table["user_id"].to_pylist() if u is not None]
    real = [u for u in users if u in known]
    junk = [u for u in users if u not in known]
    assert set(junk) <= set(JUNK_USER_IDS)
    assert len(junk) / len(users) < 0.005
    assert any(u.startswith("0") for u in real) and all(len(u) == 7 for u in real)
    counts = Counter(real)
    assert counts.most_common(1)[0][1] >= 10  # heavy searchers
    assert sum(c == 1 for c in counts.values()) / len(counts) > 0.25  # many search once


def test_keywords_come_in_real_spellings(table: pa.Table) -> None:
    keywords = [k for k in table["keyword"].to_pylist() if k is not None]
    titles = {t.lower() for t, _ in VOCABULARY}
    assert VOICE_PLACEHOLDER in keywords
    assert "tay du ky" in keywords and "tây du ký" in keywords
    assert any(k.isupper() for k in keywords)
    assert any(k != k.strip() or "  " in k for k in keywords)
    assert any(not any(c.isalnum() for c in k) for k in keywords)
    exact = sum(k in titles for k in keywords) / len(keywords)
    assert 0.4 < exact < 0.8


def test_users_have_favourite_keywords(table: pa.Table) -> None:
    per_user: dict[str, Counter[str]] = {}
    for user, keyword in zip(
        table["user_id"].to_pylist(), table["keyword"].to_pylist(), strict=True
    ):
        if user and keyword:
            per_user.setdefault(user, Counter())[keyword] += 1
    heavy = [c for c in per_user.values() if c.total() >= 5]
    assert heavy
    repeat = sum(c.most_common(1)[0][1] >= 2 for c in heavy) / len(heavy)
    assert repeat > 0.7


def test_vocabulary_covers_every_genre() -> None:
    vocabulary = search_vocabulary()
    assert vocabulary == list(VOCABULARY)
    assert len(SEARCH_CATEGORIES) == 14 and {g for _, g in vocabulary} == set(SEARCH_CATEGORIES)
    assert 130 <= len(vocabulary) <= 200
    assert len({t.lower() for t, _ in vocabulary}) == len(vocabulary)
    assert all(sum(g == genre for _, g in vocabulary) >= 8 for genre in SEARCH_CATEGORIES)


def test_small_and_degenerate_inputs(tmp_path: Path) -> None:
    population = _population(50)
    assert pq.read_table(write_search_day(tmp_path, DAY, population, rows=0, seed=1)).num_rows == 0
    one = pq.read_table(write_search_day(tmp_path, DAY, population, rows=1, seed=1))
    assert one.num_rows == 1
    guests_only = replace(_population(10), user_ids=np.full(10, ""))
    table = pq.read_table(write_search_day(tmp_path, DAY, guests_only, rows=500, seed=1))
    assert table["user_id"].null_count == 500
