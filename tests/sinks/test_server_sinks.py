"""MySQL/MariaDB and PostgreSQL warehouses, against the real servers on 127.0.0.1.

Every output table goes through each server and comes back equal, value by value, to the DuckDB
warehouse's; re-runs replace rows; a load cut off half-way leaves the previous tables readable.
"""

from __future__ import annotations

import datetime as dt
import shutil
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from _support import REAL_DATA, TOLERANT, content_line, write_day
from c360.app import C360
from c360.catalog import RECORD_TABLES
from c360.config import load_config
from c360.errors import C360Error, ConfigError, SinkError, TransientError
from c360.sinks import create_sink
from c360.sinks._server import PASSWORD_VARIABLE, ServerAddress
from c360.sinks.duckdb import DuckDBSink
from sinks.conftest import Server

pytestmark = pytest.mark.slow

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "bad"
VIETNAMESE = "Tìm kiếm bằng giọng nói — Cô Gái Đến Từ Hôm Qua 🎬"


def _facade() -> C360:
    return C360(config=load_config(env={}, overrides=TOLERANT))


def _normalise(value: Any) -> Any:
    """Equal values look equal whatever the driver returns (MySQL: 1/0 and naive UTC times)."""
    if isinstance(value, dt.datetime):
        return (
            value.replace(tzinfo=None)
            if value.tzinfo is None
            else value.astimezone(dt.UTC).replace(tzinfo=None)
        )
    if isinstance(value, bool):
        return int(value)
    return value


def _sorted_rows(table: pa.Table) -> list[tuple[Any, ...]]:
    rows = [tuple(_normalise(v) for v in row.values()) for row in table.to_pylist()]
    return sorted(rows, key=lambda r: tuple((v is None, str(v)) for v in r))


def _content(folder: Path) -> Path:
    """The real samples plus crafted lines: Vietnamese, backslashes, tabs and quotes in raw text."""
    shutil.copytree(REAL_DATA / "log_content_sample", folder)
    extra = [
        content_line(VIETNAMESE, record_id="vi-1"),  # bad contract: raw text in quarantine
        content_line("HNH000001", app="KPlus", record_id="kp-1"),  # KPlus and KPLUS both exist
        '{"_id":"tab",\t"_source":{"Contract":"x\\\\y","Mac":"A","TotalDuration":1}}',
        '{"_id": "q", "_source": {"Contract": "it\'s", "TotalDuration": 9007199254740993}}',
    ]
    write_day(folder, date(2022, 4, 30), extra)
    return folder


@pytest.fixture(scope="module")
def duckdb_result(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("source")
    content = _content(root / "in")
    _facade().run(content, warehouse=str(root / "w.duckdb"), lake=root / "lake")
    return root, content


def _assert_same_tables(server: Server, warehouse: Path, *, state: bool = True) -> None:
    """Every table equal; ``state=False`` skips the run records (other runs, other times)."""
    origin = DuckDBSink(str(warehouse))
    target = create_sink(server.url)
    names = list(origin.tables())
    assert sorted(target.tables()) == sorted(names)
    for name in names:
        if not state and name in ("ingested_files", *RECORD_TABLES):
            continue
        expected = origin.read(name)
        got = target.read(name)
        assert got.column_names == expected.column_names, name
        assert _sorted_rows(got) == _sorted_rows(expected), name


def test_load_round_trips_every_table_value_by_value(
    server: Server, duckdb_result: tuple[Path, Path]
) -> None:
    root, _ = duckdb_result
    report = _facade().load(root / "w.duckdb", to=server.url)
    assert report.target == server.url
    assert report.tables["fact_usage"] > 0
    _assert_same_tables(server, root / "w.duckdb")
    raw = server.rows("SELECT raw FROM quarantine_content")
    assert any(VIETNAMESE in str(r[0]) for r in raw), "utf8mb4 text must round-trip exactly"
    assert any("\t" in str(r[0]) and "\\\\" in str(r[0]) for r in raw)
    apps = {r[0] for r in server.rows("SELECT app_name FROM dim_app")}
    assert {"KPLUS", "KPlus"} <= apps, "keys differing only by case stay distinct"


def test_load_twice_replaces_rows(server: Server, duckdb_result: tuple[Path, Path]) -> None:
    root, _ = duckdb_result
    first = _facade().load(root / "w.duckdb", to=server.url).tables
    second = _facade().load(root / "w.duckdb", to=server.url).tables
    assert first == second
    assert server.rows("SELECT count(*) FROM customer_content_stats") == [
        (first["customer_content_stats"],)
    ]
    leftovers = [t for t in create_sink(server.url).tables() if "__c360" in t]
    assert leftovers == []


def test_run_into_the_server_then_add_a_day(server: Server, tmp_path: Path) -> None:
    content = tmp_path / "in"
    days = [date(2022, 4, d) for d in (1, 2)]
    for i, day in enumerate(days):
        write_day(content, day, [content_line("HNH000001", duration=10 + i, record_id=f"{i}")])
    facade = _facade()
    facade.run(content, warehouse=server.url, lake=tmp_path / "lake")
    facade.run(content, warehouse=str(tmp_path / "w.duckdb"), lake=tmp_path / "lake2")
    _assert_same_tables(server, tmp_path / "w.duckdb", state=False)

    # A new day: the fact table is updated partition by partition, the rest swapped.
    write_day(content, date(2022, 4, 3), [content_line("SGJ000002", record_id="n")])
    facade.run(content, warehouse=server.url, lake=tmp_path / "lake")
    facade.run(content, warehouse=str(tmp_path / "w.duckdb"), lake=tmp_path / "lake2")
    _assert_same_tables(server, tmp_path / "w.duckdb", state=False)
    assert server.rows("SELECT count(*) FROM fact_usage") == [(3,)]

    # The same window again: nothing is duplicated.
    facade.run(content, warehouse=server.url, lake=tmp_path / "lake")
    assert server.rows("SELECT count(*) FROM fact_usage") == [(3,)]


def _big_table(path: Path, rows: int) -> Path:
    pq.write_table(
        pa.table(
            {
                "contract": pa.array([f"HN{i:09d}" for i in range(rows)]),
                "total_duration": pa.array(range(rows), pa.int64()),
            }
        ),
        path,
    )
    return path


def _kill_loader(server: Server, stop: threading.Event) -> None:
    """Kill the session that is bulk-loading, as soon as it shows up."""
    if server.kind == "mysql":
        find = "SELECT id FROM information_schema.processlist WHERE info LIKE 'LOAD DATA%'"
        kill = "KILL {}"
    else:
        find = "SELECT pid FROM pg_stat_activity WHERE query LIKE 'COPY%'"
        kill = "SELECT pg_terminate_backend({})"
    while not stop.is_set():
        sessions = server.rows(find)
        if sessions:
            server.rows(kill.format(sessions[0][0]))
            return
        time.sleep(0.005)


def test_a_load_killed_half_way_keeps_the_previous_table(server: Server, tmp_path: Path) -> None:
    sink = create_sink(server.url)
    small = _big_table(tmp_path / "small.parquet", 3)
    sink.publish({"scratch_table": small})
    big = _big_table(tmp_path / "big.parquet", 1_500_000)
    stop = threading.Event()
    killer = threading.Thread(target=_kill_loader, args=(server, stop))
    killer.start()
    try:
        with pytest.raises(C360Error, match=r"previous tables kept|lost|cannot reach"):
            sink.publish({"scratch_table": big})
    finally:
        stop.set()
        killer.join()
    assert server.rows("SELECT count(*) FROM scratch_table") == [(3,)]
    # The next publish completes and leaves no staging table behind.
    assert sink.publish({"scratch_table": small}) == {"scratch_table": 3}
    assert [t for t in sink.tables() if "__c360" in t] == []


@pytest.mark.parametrize(
    ("url", "message", "error"),
    [
        pytest.param(
            "mysql://root@127.0.0.1:1/test",
            "cannot reach the warehouse mysql://root@127.0.0.1:1/test",
            TransientError,
            marks=pytest.mark.mysql,
            id="mysql-down",
        ),
        pytest.param(
            "postgresql://postgres@127.0.0.1:1/test",
            "cannot reach the warehouse postgresql://postgres@127.0.0.1:1/test",
            TransientError,
            marks=pytest.mark.postgres,
            id="postgres-down",
        ),
        pytest.param(
            "postgresql://postgres@127.0.0.1:5432/c360_nope",
            "database 'c360_nope' does not exist",
            SinkError,
            marks=pytest.mark.postgres,
            id="postgres-unknown-db",
        ),
        pytest.param(
            "postgresql://c360_nobody@127.0.0.1:5432/test",
            "access denied to postgresql://c360_nobody@127.0.0.1:5432/test",
            SinkError,
            marks=pytest.mark.postgres,
            id="postgres-unknown-user",
        ),
    ],
)
def test_connection_errors_name_the_url_and_the_remedy(
    url: str, message: str, error: type[Exception]
) -> None:
    with pytest.raises(error, match=message):
        create_sink(url).check()


def test_no_privilege_is_a_clear_error(server: Server, tmp_path: Path) -> None:
    table = _big_table(tmp_path / "t.parquet", 2)
    user = f"c360_ro_{server.database[-6:]}"
    con = server.admin()
    try:
        cur = con.cursor()  # type: ignore[attr-defined]
        if server.kind == "mysql":
            cur.execute(f"CREATE USER '{user}'@'%' IDENTIFIED BY 'pw'")
            cur.execute(f"GRANT SELECT ON {server.database}.* TO '{user}'@'%'")
            url = f"mysql://{user}:pw@127.0.0.1:3306/{server.database}"
        else:
            cur.execute(f"CREATE ROLE {user} LOGIN")
            url = f"postgresql://{user}@127.0.0.1:5432/{server.database}"
        with pytest.raises(SinkError, match=f"user '{user}' lacks privileges"):
            create_sink(url).publish({"customer_content_stats": table})
    finally:
        cur.execute(f"DROP USER '{user}'@'%'" if server.kind == "mysql" else f"DROP ROLE {user}")
        con.close()  # type: ignore[attr-defined]


def test_password_comes_from_the_environment_and_never_shows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(PASSWORD_VARIABLE, "from-env")
    address = ServerAddress.parse("mysql://me@db:3306/c360", default_port=3306, default_user="x")
    assert address.password == "from-env"
    typed = ServerAddress.parse("mysql://me:typed@db/c360", default_port=3306, default_user="x")
    assert typed.password == "typed"
    assert "typed" not in typed.describe() and "from-env" not in address.describe()
    assert create_sink("mysql://me:typed@db/c360").describe() == "mysql://me@db:3306/c360"
    with pytest.raises(ConfigError, match=r"mysql://me:\*\*\*@db"):
        create_sink("mysql://me:typed@db")


#: Values the CSV encoding must carry exactly: quotes, separators, backslashes, the servers'
#: null spellings as strings, empty strings next to nulls, and the extremes of each type.
EDGE_STRINGS = [
    "plain",
    "",
    None,
    "NULL",
    "null",
    "\\N",
    "\\",
    "\\.",
    'say "hi"',
    '"',
    '""',
    '",',
    "a,b\tc",
    "line\nbreak\r\n",
    "\r",
    "C:\\new\\table",
    "it's",
    '\\"',
    " padded ",
    VIETNAMESE,
]


def _edge_table(path: Path) -> Path:
    n = len(EDGE_STRINGS)
    utc = [dt.datetime(2022, 4, 1, 10, 0, 0, 123456, tzinfo=dt.UTC), None]
    utc += [dt.datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC)] * (n - 2)
    doubles = [0.1 + 0.2, None, 5e-324, 1.7976931348623157e308, -2.5e-300, 1e21, -0.0]
    pq.write_table(
        pa.table(
            {
                "id": pa.array(range(n), pa.int64()),
                "s": pa.array(EDGE_STRINGS, pa.string()),
                "big": pa.array([2**63 - 1, -(2**63), None] + [0] * (n - 3), pa.int64()),
                "f": pa.array(doubles + [1.5] * (n - len(doubles))),
                "f32": pa.array([0.1, None] + [3.4028234663852886e38] * (n - 2), pa.float32()),
                "b": pa.array([True, False, None] * (n // 3) + [True] * (n % 3), pa.bool_()),
                "tiny": pa.array([127, -128, None] + [0] * (n - 3), pa.int8()),
                "d": pa.array([dt.date(1, 1, 1), None] + [dt.date(9999, 12, 31)] * (n - 2)),
                "t": pa.array(utc, pa.timestamp("us", tz="UTC")),
                "local": pa.array(utc, pa.timestamp("us", tz="UTC")).cast(
                    pa.timestamp("us", tz="Asia/Ho_Chi_Minh")
                ),
                "naive": pa.array([dt.datetime(2000, 2, 29, 0, 0, 0, 1), None] * (n // 2)),
            }
        ),
        path,
    )
    return path


def test_edge_values_round_trip_exactly(server: Server, tmp_path: Path) -> None:
    sink = create_sink(server.url)
    table = _edge_table(tmp_path / "edge.parquet")
    # One string column alone: a null row is a line holding only the null word (empty for
    # PostgreSQL), and ``\.`` alone on a line is PostgreSQL's end-of-data marker unless quoted.
    alone = tmp_path / "alone.parquet"
    pq.write_table(pa.table({"s": pa.array(EDGE_STRINGS, pa.string())}), alone)
    assert sink.publish({"scratch_edges": table, "scratch_alone": alone}) == {
        "scratch_edges": len(EDGE_STRINGS),
        "scratch_alone": len(EDGE_STRINGS),
    }
    for name, path in (("scratch_edges", table), ("scratch_alone", alone)):
        assert _sorted_rows(sink.read(name)) == _sorted_rows(pq.read_table(path)), name


def test_values_no_warehouse_could_hold_are_quarantined_before_the_publish(
    server: Server, tmp_path: Path
) -> None:
    """A 256-character or NUL-bearing AppName, a raw NUL byte and a 2 MB line publish on every
    server: the rules quarantine or escape them, the same way for every sink."""
    content = tmp_path / "content"
    content.mkdir()
    shutil.copy(CORPUS / "unstorable_values" / "content" / "20220401.json", content)
    shutil.copy(
        CORPUS / "line_too_long" / "content" / "20220401.json.gz", content / "20220402.json.gz"
    )
    report = _facade().run(content, warehouse=server.url, lake=tmp_path / "lake")
    assert report.quarantine_reasons == {
        "bad_app_name": 2, "malformed_json": 1, "line_too_long": 1,
    }  # fmt: skip
    rows = dict(server.rows("SELECT reason, raw FROM quarantine_content WHERE line_no > 21"))
    assert rows["malformed_json"] == (
        '{"_id":"n1","_source":{"Contract":"HNH000001","AppName":"KPLUS\\u0000"}}'
    )
    assert len(str(rows["line_too_long"])) == 4096


def test_a_value_the_server_refuses_names_the_table_and_row(server: Server, tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    refused = "K" * 300 if server.kind == "mysql" else "a\x00b"  # a key too long; a NUL
    pq.write_table(pa.table({"contract": ["HNH1", refused], "n": [1, 2]}), path)
    with pytest.raises(SinkError) as caught:
        create_sink(server.url).publish({"customer_content_stats": path})
    message = str(caught.value)
    assert "previous tables kept" in message and "customer_content_stats" in message
    if server.kind == "mysql":
        assert "column 'contract' at row 2" in message
    else:  # PostgreSQL checks the encoding before it splits columns: the row is all it says
        assert "(table customer_content_stats, row 2)" in message


def _kinds(server: Server) -> dict[str, str]:
    schema = "DATABASE()" if server.kind == "mysql" else "current_schema()"
    rows = server.rows(
        "SELECT table_name, table_type FROM information_schema.tables "
        f"WHERE table_schema = {schema}"
    )
    return {str(name): str(kind) for name, kind in rows if not str(name).startswith("_")}


def test_a_table_held_by_another_is_published_as_its_view(server: Server, tmp_path: Path) -> None:
    """As in the DuckDB warehouse (D103): ``customer_content_stats`` is a view of
    ``customer_360`` when both are published with the same rows; a view survives the swap of
    the table it reads (PostgreSQL binds a view to a table, not a name); alone, or with other
    rows, the profile is a table again."""
    sink = create_sink(server.url)

    def files(rows: int) -> tuple[Path, Path]:
        stats = {"contract": [f"C{i}" for i in range(rows)], "active_days": list(range(rows))}
        profile = tmp_path / f"p{rows}.parquet"
        unified = tmp_path / f"u{rows}.parquet"
        pq.write_table(pa.table(stats), profile)
        pq.write_table(pa.table({**stats, "user_id": [f"u{i}" for i in range(rows)]}), unified)
        return profile, unified

    def profile_rows() -> list[tuple[Any, ...]]:
        return server.rows("SELECT contract, active_days FROM customer_content_stats ORDER BY 1")

    two, two_360 = files(2)
    three, three_360 = files(3)
    sink.publish({"customer_content_stats": two, "customer_360": two_360})
    assert _kinds(server) == {"customer_content_stats": "VIEW", "customer_360": "BASE TABLE"}
    assert profile_rows() == [("C0", 0), ("C1", 1)]

    sink.publish({"customer_360": three_360})  # a reclassification republishes it alone
    assert _kinds(server)["customer_content_stats"] == "VIEW"
    assert len(profile_rows()) == 3

    sink.publish({"customer_content_stats": two, "customer_360": three_360})  # other rows
    assert _kinds(server)["customer_content_stats"] == "BASE TABLE"
    assert profile_rows() == [("C0", 0), ("C1", 1)]

    sink.publish({"customer_content_stats": three, "customer_360": three_360})
    assert _kinds(server)["customer_content_stats"] == "VIEW"
    sink.publish({"customer_content_stats": two})
    assert _kinds(server)["customer_content_stats"] == "BASE TABLE"
    assert profile_rows() == [("C0", 0), ("C1", 1)]
    assert [t for t in _kinds(server) if "__c360" in t] == []
