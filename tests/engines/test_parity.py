"""Parity: every output table is the same on DuckDB and on Spark, row by row, value by value.

The same inputs run through ``c360 run`` on both engines: the real samples, the hand-made days
with every kind of junk, and generated data with two seeds (content, search across a month
boundary, and the bridge). Every gold table is compared: schema (names and types), then every
row — quantile scores, tie-breaks and surrogate keys included — and so are the data quality
results, which each engine computes.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from _support import REAL_DATA, TOLERANT, content_line, write_day, write_known_days
from c360.app import C360
from c360.config import load_config

pytestmark = [pytest.mark.spark, pytest.mark.slow]

#: Tables that record the run itself (run ids, times, paths): not results.
RUN_RECORDS = {"pipeline_runs", "ingested_files"}
#: Columns that differ between any two runs; the rest of the check results and the lineage must
#: agree (the checks run on each engine).
VOLATILE = ("run_id", "checked_at")


def _run(
    engine: str, root: Path, content: Path, *, settings: dict[str, Any] | None = None, **inputs: Any
) -> Path:
    overrides = {"engine.name": engine, **TOLERANT, **(settings or {})}
    facade = C360(config=load_config(env={}, overrides=overrides))
    lake = root / engine / "lake"
    report = facade.run(content, warehouse=str(root / engine / "w.duckdb"), lake=lake, **inputs)
    assert report.status == "succeeded"
    return lake / "gold"


def _gold(gold: Path) -> dict[str, pa.Table]:
    tables = {}
    for path in sorted(gold.iterdir()):
        name = path.name.removesuffix(".parquet")
        if name in RUN_RECORDS or path.name.startswith("."):
            continue
        files = sorted(path.rglob("*.parquet")) if path.is_dir() else [path]
        table = pa.concat_tables([pq.read_table(f) for f in files], promote_options="default")
        tables[name] = table.drop_columns([c for c in VOLATILE if c in table.column_names])
    return tables


def _rows(table: pa.Table) -> list[tuple[Any, ...]]:
    columns = table.column_names
    rows = [tuple(r[c] for c in columns) for r in table.to_pylist()]
    return sorted(rows, key=lambda r: tuple((v is None, str(v)) for v in r))


def assert_same_tables(duck: Path, spark: Path) -> None:
    expected, actual = _gold(duck), _gold(spark)
    assert sorted(actual) == sorted(expected)
    for name, table in expected.items():
        other = actual[name]
        assert [(f.name, f.type) for f in other.schema] == [
            (f.name, f.type) for f in table.schema
        ], name
        assert other.num_rows == table.num_rows, name
        assert _rows(other) == _rows(table), name


def test_hostile_files_and_values(tmp_path: Path) -> None:
    """Upper-case suffixes, a broken link and a folder named like days, a 2 MB line, values no
    warehouse could hold, a raw NUL byte, and JSON only a lenient parser reads (a duplicated key,
    NaN, a trailing comma: D78) — the bad-input corpus's cases, in one folder."""
    content = tmp_path / "in"
    content.mkdir()
    corpus = Path(__file__).resolve().parents[1] / "fixtures" / "bad"
    shutil.copy(corpus / "unstorable_values" / "content" / "20220401.json", content)
    shutil.copy(
        corpus / "line_too_long" / "content" / "20220401.json.gz", content / "20220402.json.gz"
    )
    shutil.copy(corpus / "suffix_case" / "content" / "20220403.JSON.GZ", content)
    shutil.copy(corpus / "suffix_case" / "content" / "20220401.JSON", content / "20220404.JSON")
    (content / "20220405.json").symlink_to(tmp_path / "gone.json")
    (content / "20220406.json").mkdir()
    shutil.copy(corpus / "lenient_json" / "content" / "20220401.json", content / "20220407.json")
    duck = _run("duckdb", tmp_path, content)
    spark = _run("spark", tmp_path, content)
    assert_same_tables(duck, spark)
    reasons = pq.read_table(duck / "quarantine_content.parquet").column("reason").to_pylist()
    assert sorted(reasons) == [
        *["bad_app_name"] * 3,
        *["bad_duration"] * 3,
        "line_too_long",
        "malformed_json",
    ]


def test_real_samples(tmp_path: Path) -> None:
    content = REAL_DATA / "log_content_sample"
    search = tmp_path / "search"
    shutil.copytree(REAL_DATA / "log_search" / "20220701", search / "20220701")
    duck = _run("duckdb", tmp_path, content, search=search)
    spark = _run("spark", tmp_path, content, search=search)
    assert_same_tables(duck, spark)


def test_hand_made_junk_and_edge_cases(tmp_path: Path) -> None:
    content = tmp_path / "in"
    write_known_days(content)
    # Line endings and bytes the fast readers must agree on.
    good = content_line("HNH000009", duration=30, app="SPORT", record_id="crlf").encode()
    (content / "20220404.json").write_bytes(
        good + b"\r\n" + b"junk\rmore junk\r\n" + b"\r\n" + b'{"_id":"u"}\xff\n'
    )
    write_day(content, date(2022, 4, 5), [
        content_line("HNH000009", duration=1, app="APP", record_id="app-only"),
        content_line("HNH000010", duration=5, app="KPlus", mac="0C-96-E6-2F-C5-5C", record_id="k"),
        '{"_id":"n1","_source":{"Contract":"HNH000011","TotalDuration":5,"AppName":7}}',
        '{"_id":"n2","_source":{"Contract":"HNH000011","TotalDuration":1e2,"AppName":"VOD"}}',
        '{"_id":"n3","_source":{"Contract":"HNH000011","TotalDuration":18446744073709551615,'
        '"AppName":"VOD"}}',
        '{"_id":"n4","_source":"HNH000011"}',
        '[1, 2, 3]',
        '"just a string"',
        '{"_id":"n5","_source":{"Contract":"HNH000011","Mac":123456789012,"TotalDuration":9,'
        '"AppName":"VOD"}}',
        # `_source` of every shape, and fields that are objects, arrays or null.
        '{"_id":"s1","_source":{}}',
        '{"_id":"s2","_source":[]}',
        '{"_id":"s3","_source":null}',
        '{"_id":"s4","_source":{"Contract":{"a":1},"Mac":[1],"TotalDuration":{"b":2},'
        '"AppName":["VOD"]}}',
        '{"_id":7,"_source":{"Contract":"HNH000012","TotalDuration":null,"AppName":null}}',
        '{"_id":"s6","_source":{"Contract":"HNH000012","TotalDuration":3,"AppName":"CHANNEL",'
        '"Extra":{"deep":[1,2]}}}',
    ])  # fmt: skip
    duck = _run("duckdb", tmp_path, content)
    spark = _run("spark", tmp_path, content)
    assert_same_tables(duck, spark)


@pytest.mark.parametrize("seed", [7, 2024])
def test_generated_data(tmp_path: Path, seed: int) -> None:
    from c360.generate.dataset import GenerateRequest, generate_dataset

    generated = generate_dataset(
        GenerateRequest(
            out=tmp_path / "raw", scale=0.002, seed=seed, content_days=4, search_days=31
        )
    )
    # Four search days across the June/July boundary keep the Spark run short.
    for folder in generated.search_dir.iterdir():
        if folder.name < "20220628":
            shutil.rmtree(folder)
    inputs = {"search": generated.search_dir, "bridge": generated.bridge}
    duck = _run("duckdb", tmp_path, generated.content_dir, **inputs)
    spark = _run("spark", tmp_path, generated.content_dir, **inputs)
    assert_same_tables(duck, spark)


def test_files_read_in_many_blocks(tmp_path: Path) -> None:
    """Spark reads every new file of a run at once, each file split into blocks read by several
    tasks: line numbers (quarantine, duplicate tie-breaks) and bronze row order must still be
    the file's own, as on DuckDB."""
    from c360.generate.dataset import GenerateRequest, generate_dataset

    generated = generate_dataset(
        GenerateRequest(out=tmp_path / "raw", scale=0.002, seed=11, content_days=3, search_days=1)
    )
    sizes = [p.stat().st_size for p in generated.content_dir.iterdir()]
    block = 64 * 1024
    assert min(sizes) > 4 * block  # every file spans several blocks
    small_blocks = {"engine.spark_conf": {"spark.sql.files.maxPartitionBytes": str(block)}}
    duck = _run("duckdb", tmp_path, generated.content_dir)
    spark = _run("spark", tmp_path, generated.content_dir, settings=small_blocks)
    assert_same_tables(duck, spark)
    bronze = sorted((duck.parent / "bronze" / "content").rglob("*.parquet"))
    assert len(bronze) == 3
    for path in bronze:
        other = spark.parent / path.relative_to(duck.parent)
        # Row by row in file order: a bronze row's position is its line number.
        assert pq.read_table(other).to_pylist() == pq.read_table(path).to_pylist(), path.name
