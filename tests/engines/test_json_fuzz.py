"""Property: hostile JSON lines get the same bronze rows on DuckDB and on Spark.

Duplicated keys, NaN and Infinity in any letter case, trailing commas, NUL characters (escaped
and raw) and lines around the length limit: Spark's parser refuses some lines DuckDB's reads
(D78), and the engine contract (``misread_json``, then ``reference_json``) must make both engines
write the same bronze file, row by row.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from c360.config import ContentConfig, EngineConfig
from c360.engines.base import Engine
from c360.engines.duckdb import DuckDBEngine
from c360.io.files import SourceFile, scan
from c360.rules.content import validate_content

pytestmark = [pytest.mark.spark, pytest.mark.slow]

DAY = date(2022, 4, 1)
CFG = ContentConfig()
#: The smallest limit a setting allows: lines around it stay small.
LIMIT = 4096

numbers = st.sampled_from(
    ["60", "-5", "1e2", "12.5", "NaN", "nan", "-Infinity", "Infinity", "inf", "-inf", "NAN"]
)
texts = st.sampled_from(
    [
        '"KPLUS"',
        '"HNH579912"',
        '"0C96E62FC55C"',
        '"a\\u0000b"',
        '"a\x00b"',
        '""',
        '"x' + "y" * 5000 + '"',
    ]
)
values = st.one_of(numbers, texts, st.just("{}"), st.just("[1,]"), st.just("null"))


@st.composite
def hostile_lines(draw: st.DrawFn) -> str:
    """A content line built from fields, some duplicated, some values hostile, maybe a trailing
    comma in `_source` or at the top level."""
    fields = [
        ("Contract", draw(st.sampled_from(['"HNH579912"', '"AB1234567"']) | values)),
        ("Mac", draw(st.just('"0C96E62FC55C"') | values)),
        ("TotalDuration", draw(numbers | values)),
        ("AppName", draw(st.sampled_from(['"KPLUS"', '"VOD"']) | values)),
    ]
    for _ in range(draw(st.integers(0, 2))):
        fields.insert(
            draw(st.integers(0, len(fields))), (draw(st.sampled_from(fields))[0], draw(values))
        )
    source = ",".join(f'"{k}":{v}' for k, v in fields) + draw(st.sampled_from(["", ","]))
    top = [
        ("_id", draw(st.sampled_from(['"r1"', '"r2"']) | values)),
        ("_source", "{" + source + "}"),
    ]
    if draw(st.booleans()):
        top.append((draw(st.sampled_from(["_id", "_source"])), draw(values)))
    return "{" + ",".join(f'"{k}":{v}' for k, v in top) + draw(st.sampled_from(["", ","])) + "}"


@pytest.fixture(scope="module")
def engines() -> Iterator[tuple[Engine, Engine]]:
    from c360.engines.spark import SparkEngine

    with DuckDBEngine(EngineConfig(threads=2)) as duck:
        spark = SparkEngine(EngineConfig(threads=2))
        for engine in (duck, spark):
            engine.known_apps = tuple(CFG.app_categories)  # as a run sets it
        yield duck, spark
        spark.close()


def _bronze(engine: Engine, source: SourceFile, folder: Path) -> list[dict[str, object]]:
    """The bronze rows of ``source`` as the content source writes them (D78's second read)."""
    plain = scan(source.path, long_line=LIMIT)
    targets = {source.name: folder / f"{engine.name}.parquet"}
    for reference in (False, True):
        decoded = engine.decode_content(
            [source],
            plain_text=plain.plain_text and not plain.long_line,
            max_line_bytes=LIMIT,
            reference_json=reference,
        )
        validated = validate_content(
            decoded, contract_pattern=CFG.contract_pattern, max_duration=CFG.max_duration
        )
        engine.write_files(validated, "source_file", targets)
        if not engine.misread_json(targets):
            break
    return pq.read_table(targets[source.name]).to_pylist()


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(lines=st.lists(hostile_lines(), min_size=1, max_size=10))
def test_both_engines_write_the_same_bronze_rows(
    engines: tuple[Engine, Engine], tmp_path_factory: pytest.TempPathFactory, lines: list[str]
) -> None:
    folder = tmp_path_factory.mktemp("json")
    path = folder / "20220401.json"
    path.write_bytes("".join(line + "\n" for line in lines).encode())
    stat = path.stat()
    source = SourceFile(path, DAY, stat.st_size, stat.st_mtime_ns)
    duck, spark = engines
    expected = _bronze(duck, source, folder)
    assert len(expected) == len(lines)
    assert _bronze(spark, source, folder) == expected
