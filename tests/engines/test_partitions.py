"""``write_partitions``: one file per value, in one pass, on every engine."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import ibis
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from c360.config import EngineConfig
from c360.engines.base import Engine
from c360.engines.duckdb import DuckDBEngine
from c360.errors import EngineError

D1, D2, D3 = date(2022, 4, 1), date(2022, 4, 2), date(2022, 4, 3)


@pytest.fixture(scope="module", params=["duckdb", pytest.param("spark", marks=pytest.mark.spark)])
def any_engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    scratch = str(tmp_path_factory.mktemp("scratch"))
    if request.param == "duckdb":
        with DuckDBEngine(EngineConfig(threads=2), scratch=scratch) as eng:
            yield eng
    else:
        from c360.engines.spark import SparkEngine

        with SparkEngine(EngineConfig(name="spark", threads=2), scratch=scratch) as eng:
            yield eng


def _table() -> ibis.Table:
    return ibis.memtable(
        pa.table({
            "date": pa.array([D1, D2, D1, D2, D1], pa.date32()),
            "contract": ["A", "B", "C", "D", "E"],
            "seconds": pa.array([1, 2, 3, 4, 5], pa.int64()),
        })
    )  # fmt: skip


def test_one_file_per_value_without_the_partition_column(
    any_engine: Engine, tmp_path: Path
) -> None:
    paths = {d: tmp_path / f"date={d}" / "part.parquet" for d in (D1, D2, D3)}
    any_engine.write_partitions(_table(), "date", paths)
    first = pq.read_table(paths[D1])
    assert first.column_names == ["contract", "seconds"]
    assert sorted(first.column("contract").to_pylist()) == ["A", "C", "E"]
    assert sorted(pq.read_table(paths[D2]).column("seconds").to_pylist()) == [2, 4]
    empty = pq.read_table(paths[D3])  # asked for, no rows: an empty file with the schema
    assert (empty.num_rows, empty.schema.types) == (0, [pa.string(), pa.int64()])
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["part.parquet"] * 3


def test_a_copy_keeps_the_column_in_the_files(any_engine: Engine, tmp_path: Path) -> None:
    table = _table()
    paths = {d: tmp_path / f"{d}.parquet" for d in (D1, D2)}
    any_engine.write_partitions(table.mutate(_part=table.date), "_part", paths)
    assert pq.read_table(paths[D2]).column("date").to_pylist() == [D2, D2]


def test_rows_of_a_value_not_asked_for_are_an_error(any_engine: Engine, tmp_path: Path) -> None:
    with pytest.raises(EngineError, match="2022-04-02"):
        any_engine.write_partitions(_table(), "date", {D1: tmp_path / "one.parquet"})
