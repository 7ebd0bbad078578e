"""The column types of the MySQL/MariaDB and PostgreSQL warehouses, as the servers report them.

Values are compared elsewhere with Python equality, under which a wrong type passes
(``Decimal(5) == 5``, ``5.0 == 5``). Here every table a run publishes is read back from
``information_schema.columns`` and held to two things: the type its Arrow type must become
(written out below, not taken from the sinks' own maps, which this checks), and what its
contract says of it (keys and counts are integers).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from c360.app import C360
from c360.catalog import TABLES, TableSpec
from c360.config import load_config
from c360.generate.dataset import GenerateReport
from c360.sinks._server import ServerSink
from c360.sinks.base import PARTITIONS_TABLE, PUBLISH_TABLE, TableFiles, table_paths
from sinks.conftest import Server

pytestmark = pytest.mark.slow

#: Arrow type → (MariaDB, PostgreSQL) ``data_type`` of the column it must become.
EXPECTED: dict[str, tuple[str, str]] = {
    "int8": ("tinyint", "smallint"),  # PostgreSQL has no 1-byte integer
    "int16": ("smallint", "smallint"),
    "int32": ("int", "integer"),
    "int64": ("bigint", "bigint"),
    "double": ("double", "double precision"),
    "bool": ("tinyint", "boolean"),  # MariaDB's BOOLEAN is TINYINT(1)
    "date32[day]": ("date", "date"),
    "string": ("longtext", "text"),
}
#: A key or index column of text: MariaDB cannot index LONGTEXT whole.
KEYED_STRING = ("varchar", "text")
TIMESTAMP_UTC = ("datetime", "timestamp with time zone")
TIMESTAMP_NAIVE = ("datetime", "timestamp without time zone")
INTEGERS = {"tinyint", "smallint", "int", "integer", "bigint"}
#: The sinks' own bookkeeping tables, written by every publish (not in the catalog).
INTERNAL: dict[str, dict[str, tuple[str, str]]] = {
    PARTITIONS_TABLE: {
        "table_name": ("varchar", "character varying"),
        "value": ("bigint", "bigint"),
        "path": ("varchar", "character varying"),
        "size": ("bigint", "bigint"),
        "mtime_ns": ("bigint", "bigint"),
    },
    PUBLISH_TABLE: {
        "publish_id": ("varchar", "character varying"),
        "state": ("varchar", "character varying"),
        "published_at": ("varchar", "character varying"),
        "tables": ("text", "text"),
    },
}


def expected_type(kind: pa.DataType, *, keyed: bool, server: str) -> str:
    """The ``data_type`` a column of Arrow type ``kind`` must have on ``server``."""
    if pa.types.is_timestamp(kind):
        pair = TIMESTAMP_UTC if kind.tz else TIMESTAMP_NAIVE
    elif pa.types.is_string(kind) and keyed:
        pair = KEYED_STRING
    else:
        pair = EXPECTED[str(kind)]  # a KeyError: a type this test does not know yet; add it
    return pair[0] if server == "mysql" else pair[1]


def integer_columns(spec: TableSpec) -> set[str]:
    """Columns the contract says hold integers: surrogate and foreign keys, counts, seconds and
    days (the non-negative ones), scores."""
    keys = {c for c in (*spec.primary_key, *spec.references) if c.endswith("_key")}
    scores = {c for c, domain in spec.domains.items() if domain == "rfm_score"}
    return keys | set(spec.non_negative) | scores


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> GenerateReport:
    """A tiny generated input with search logs and the bridge: a run builds every table."""
    root = tmp_path_factory.mktemp("types")
    return C360(config=load_config(env={})).generate(root / "raw", scale=0.002, days=2)


def _schema(files: TableFiles) -> pa.Schema:
    return pq.read_schema(table_paths(files)[0])


def test_every_published_column_has_the_type_of_its_arrow_type_and_contract(
    server: Server,
    generated: GenerateReport,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    published: dict[str, pa.Schema] = {}
    publish = ServerSink.publish

    def recording(
        sink: ServerSink, tables: Mapping[str, TableFiles], *, unique: Collection[str] = ()
    ) -> dict[str, int]:
        published.update({name: _schema(files) for name, files in tables.items()})
        return publish(sink, tables, unique=unique)

    monkeypatch.setattr(ServerSink, "publish", recording)
    facade = C360(config=load_config(env={}, overrides={"quality.allow_failures": True}))
    facade.run(
        generated.content_dir, warehouse=server.url, lake=tmp_path / "lake",
        search=generated.search_dir, bridge=generated.bridge,
    )  # fmt: skip
    assert set(TABLES) <= set(published), "the run published every table of the catalog"

    schema = "DATABASE()" if server.kind == "mysql" else "'public'"
    rows = server.rows(
        "SELECT table_name, column_name, data_type FROM information_schema.columns "
        f"WHERE table_schema = {schema}"
    )
    got: dict[str, dict[str, str]] = {}
    for table, column, data_type in rows:
        got.setdefault(str(table), {})[str(column)] = str(data_type).lower()

    for name, arrow in published.items():
        spec = TABLES.get(name, TableSpec(name, ""))
        keyed = set(spec.primary_key) | {c for index in spec.indexes for c in index}
        expected = {
            f.name: expected_type(f.type, keyed=f.name in keyed, server=server.kind) for f in arrow
        }
        assert got.get(name) == expected, name
        integers = integer_columns(spec)
        assert {c: t for c, t in got[name].items() if c in integers and t not in INTEGERS} == {}
    for name, columns in INTERNAL.items():
        index = 0 if server.kind == "mysql" else 1
        assert got.get(name) == {c: pair[index] for c, pair in columns.items()}, name
    assert set(got) == set(published) | set(INTERNAL), "no table left unchecked"


def test_the_contract_gives_the_integer_check_keys_seconds_and_counts() -> None:
    """The integer check above has something to check: keys, seconds and counts."""
    assert integer_columns(TABLES["fact_usage"]) == {
        "date_key", "contract_key", "device_key", "app_key", "total_duration", "records",
    }  # fmt: skip
    assert {"total_duration", "active_days", "recency_score"} <= integer_columns(
        TABLES["customer_content_stats"]
    )
