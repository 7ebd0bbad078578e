"""Warehouse load benchmark: a 2 M-row ``customer_content_stats`` into MariaDB and PostgreSQL.

Builds the table once (cached under benchmarks/.cache, deterministic, the real column types),
then ``--repeat`` times publishes it with each sink through its bulk path (staging table, load,
key, indexes, swap), in its own process. Medians go to docs/benchmarks.md and results.json.
A fresh database ``c360_bench`` is created on each server.

    python benchmarks/warehouse_load.py --rows 2000000 --repeat 3
"""

from __future__ import annotations

import argparse
import sys
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from _harness import CACHE, Measurement, machine, measure, median, write_section

TARGETS = {
    "MariaDB (LOAD DATA LOCAL INFILE)": "mysql://root@127.0.0.1:3306/c360_bench",
    "PostgreSQL (COPY FROM STDIN)": "postgresql://postgres@127.0.0.1:5432/c360_bench",
}
PUBLISH = """
import sys
from pathlib import Path
from c360.sinks import create_sink
create_sink(sys.argv[1]).publish({"customer_content_stats": Path(sys.argv[2])})
"""
#: For comparison: what a Spark job writing over JDBC gets (no staging, keys, indexes or swap).
JDBC_JAR = "/usr/share/java/mariadb-java-client.jar"  # Debian's libmariadb-java
JDBC_LABEL = "MariaDB via Spark JDBC, `rewriteBatchedStatements` (comparison, plain insert)"
JDBC_URL = "jdbc:mysql://127.0.0.1:3306/c360_bench?permitMysqlScheme&rewriteBatchedStatements=true"
JDBC = """
import sys
from pyspark.sql import SparkSession
spark = (SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false")
         .config("spark.jars", sys.argv[3]).getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
(spark.read.parquet(sys.argv[2]).write.format("jdbc").option("url", sys.argv[1])
    .option("dbtable", "customer_content_stats_jdbc").option("driver", "org.mariadb.jdbc.Driver")
    .option("user", "root").option("password", "").option("batchsize", 10000)
    .option("numPartitions", 2).mode("overwrite").save())
"""
TYPES = ["leaving", "need attention", "normal", "potential", "loyal", "vip", "anomaly"]


def build_table(rows: int) -> pa.Table:
    """A profile-shaped table: every column of customer_content_stats with plausible values, the
    contracts in no particular order (as the lake's gold files hold them: in hash-aggregation
    order), so that a load pays for the key order it gets."""
    rng = np.random.default_rng(7)
    order = np.random.default_rng(8).permutation(rows)
    seconds = rng.integers(0, 200_000, size=(5, rows))
    days = rng.integers(1, 31, size=rows)
    first = date(2022, 4, 1)
    last_active = pa.array([first + timedelta(days=int(d) - 1) for d in days], pa.date32())
    return pa.table(
        {
            "contract": pa.array([f"HN{i:09d}" for i in order]),
            "truyen_hinh": seconds[0],
            "phim_truyen": seconds[1],
            "giai_tri": seconds[2],
            "thieu_nhi": seconds[3],
            "the_thao": seconds[4],
            "total_duration": seconds.sum(axis=0),
            "active_days": days.astype(np.int64),
            "most_watch": pa.array(["Truyen Hinh"] * rows),
            "taste": pa.array(["Truyen Hinh-Phim Truyen"] * rows),
            "activeness": pa.array(["moderate"] * rows),
            "level_activeness": pa.array(["Medium"] * rows),
            "devices": rng.integers(0, 4, size=rows),
            "first_active": pa.array([first] * rows, pa.date32()),
            "last_active": last_active,
            "recency_days": (30 - days).astype(np.int64),
            "recency_score": rng.integers(1, 5, size=rows).astype(np.int8),
            "frequency_score": rng.integers(1, 5, size=rows).astype(np.int8),
            "monetary_score": rng.integers(1, 5, size=rows).astype(np.int8),
            "customer_type": pa.array([TYPES[i % len(TYPES)] for i in range(rows)]),
        }
    )


def create_databases() -> None:
    import psycopg
    import pymysql

    con = pymysql.connect(host="127.0.0.1", user="root", autocommit=True)
    con.cursor().execute("CREATE DATABASE IF NOT EXISTS c360_bench CHARACTER SET utf8mb4")
    con.close()
    pg = psycopg.connect(host="127.0.0.1", user="postgres", dbname="postgres", autocommit=True)
    if not pg.execute("SELECT 1 FROM pg_database WHERE datname = 'c360_bench'").fetchone():
        pg.execute("CREATE DATABASE c360_bench")
    pg.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    path = CACHE / f"customer_content_stats-{args.rows}-v3.parquet"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Row groups the size DuckDB writes for the lake's gold files.
        pq.write_table(build_table(args.rows), path, row_group_size=122_880)
    create_databases()
    commands = {
        label: [sys.executable, "-c", PUBLISH, url, str(path)] for label, url in TARGETS.items()
    }
    if Path(JDBC_JAR).exists():
        commands[JDBC_LABEL] = [sys.executable, "-c", JDBC, JDBC_URL, str(path), JDBC_JAR]
    runs: dict[str, list[Measurement]] = {label: [] for label in commands}
    for i in range(args.repeat):
        for label, command in commands.items():
            runs[label].append(measure(command))
            print(f"round {i + 1}: {label} {runs[label][-1].wall_s:.1f} s", flush=True)

    info = machine()
    lines = [
        "| target | wall s (median) | k rows/s | peak RSS MB | target ≥ 200 k rows/s |",
        "|---|---|---|---|---|",
    ]
    results: dict[str, object] = {"machine": info, "rows": args.rows, "runs": args.repeat}
    for label, measured in runs.items():
        wall = median([m.wall_s for m in measured])
        rate = args.rows / wall / 1000
        rss = median([m.peak_rss_mb for m in measured])
        verdict = "met" if rate >= 200 else "not met"
        lines.append(f"| {label} | {wall:.1f} | {rate:,.0f} | {rss:,.0f} | {verdict} |")
        results[label] = {"wall_s": [m.wall_s for m in measured], "rows_per_s": rate * 1000}
    markdown = f"""
## Warehouse loads (`benchmarks/warehouse_load.py`)

Measured {info["date"]} on {info["cores"]} cores / {info["ram_gb"]} GB RAM: a {args.rows:,}-row
`customer_content_stats` (contracts in no key order, as the lake holds them) published by
`c360`'s sinks (staging table, bulk load in 100 k-row batches, primary key and indexes, atomic
swap), each in its own process including the Python start-up and the driver import; median of
{args.repeat}. The Spark JDBC row (when Debian's
`libmariadb-java` is installed) is a Spark job writing the same Parquet file over JDBC into a
plain table (no staging, keys, indexes or swap; JVM start-up included), for comparison with the
path c360 uses for both engines.

{chr(10).join(lines)}
"""
    write_section("warehouse_load", markdown, results)
    print(markdown)


if __name__ == "__main__":
    main()
