"""The synthetic content logs: exact raw format, determinism, and the real data's quirks."""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from c360.generate.content_logs import contracts_per_sf1, write_content_day
from c360.generate.population import make_population

DAY = date(2022, 4, 1)
LINES = 40_000
CONTRACT = re.compile(r"^[A-Z]{2}[A-Z0-9]{3,14}$")


@pytest.fixture(scope="module")
def day_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    population = make_population(contracts_per_sf1(LINES), seed=3)
    return write_content_day(tmp_path_factory.mktemp("gen"), DAY, population, lines=LINES, seed=3)


def test_same_seed_writes_the_same_bytes(tmp_path: Path, day_file: Path) -> None:
    population = make_population(contracts_per_sf1(LINES), seed=3)
    again = write_content_day(tmp_path, DAY, population, lines=LINES, seed=3)
    assert again.read_bytes() == day_file.read_bytes()
    other = write_content_day(tmp_path / "b", DAY, population, lines=LINES, seed=4)
    assert other.read_bytes() != day_file.read_bytes()


def test_lines_have_the_elasticsearch_export_shape(day_file: Path) -> None:
    lines = day_file.read_text(encoding="utf-8").splitlines()
    assert day_file.name == "20220401.json"
    assert LINES * 0.8 <= len(lines) <= LINES
    first = json.loads(lines[0])
    assert list(first) == ["_index", "_type", "_id", "_score", "_source"]
    assert list(first["_source"]) == ["Contract", "Mac", "TotalDuration", "AppName"]
    assert (first["_index"], first["_type"], first["_score"]) == ("history", "kplus", 0)


def test_the_real_quirks_occur_at_realistic_rates(day_file: Path) -> None:
    records, malformed = [], 0
    for line in day_file.read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            malformed += 1
    sources = [r["_source"] for r in records if isinstance(r.get("_source"), dict)]
    contracts = Counter(s.get("Contract") for s in sources)
    n = len(sources)
    assert 0.002 < contracts["0"] / n < 0.008, "the '0' pseudo-customer"
    assert any(re.fullmatch(r"\d+\.\d+\.\d+\.\d+", str(c)) for c in contracts), "IP contracts"
    assert contracts[""] > 0, "empty contracts"
    assert any(str(c).islower() and str(c)[:1].isalpha() for c in contracts), "lower-case ids"
    valid = [c for c in contracts if c and CONTRACT.match(str(c))]
    assert len(valid) > 1000
    ids = Counter(r.get("_id") for r in records)
    assert any(count > 1 for count in ids.values()), "duplicate _ids"
    apps = Counter(s.get("AppName") for s in sources)
    assert apps["CHANNEL"] == max(apps.values())
    assert apps["APP"] > 0, "an app outside the mapping"
    durations = [s.get("TotalDuration") for s in sources]
    assert durations.count(0) > 0
    macs = [s.get("Mac") for s in sources]
    assert any(m and ":" in m and m.islower() for m in macs), "MACs needing normalisation"
    assert all(len(m) == 12 for m in macs if m and ":" not in m and m != "UNKNOWN")


def test_files_are_sorted_by_app_like_the_real_exports(day_file: Path) -> None:
    apps = []
    for line in day_file.read_text(encoding="utf-8").splitlines():
        try:
            apps.append(json.loads(line)["_source"]["AppName"])
        except (json.JSONDecodeError, KeyError, TypeError):
            continue
    runs = [a for i, a in enumerate(apps) if i == 0 or a != apps[i - 1]]
    assert len(runs) < 30, "each app forms a few contiguous blocks, not a shuffle"


def test_activity_is_skewed(tmp_path: Path) -> None:
    population = make_population(contracts_per_sf1(2_000), seed=5)
    seen: Counter[str] = Counter()
    for offset in range(10):
        day = date(2022, 4, 1 + offset)
        path = write_content_day(tmp_path, day, population, lines=2_000, seed=5)
        days = {
            json.loads(line)["_source"]["Contract"]
            for line in path.read_text(encoding="utf-8").splitlines()
            if line.startswith("{") and line.endswith("}") and '"_source":{' in line
        }
        seen.update(days)
    counts = Counter(seen.values())
    assert counts[10] > 0, "some customers watch every day"
    assert counts[1] + counts[2] + counts[3] > counts[10], "many watch on one to three days"


def test_gzip_output(tmp_path: Path) -> None:
    population = make_population(100, seed=1)
    path = write_content_day(tmp_path, DAY, population, lines=200, seed=1, gzip_output=True)
    assert path.name == "20220401.json.gz"
    text = gzip.decompress(path.read_bytes()).decode("utf-8")
    assert text.endswith("\n") and text.count("\n") > 0
