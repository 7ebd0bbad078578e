"""Engines against a seed-style PySpark job, on the same generated content logs (SF0.1).

The baseline is what the public projects do: read each day's JSON with schema inference,
``select("_source.*")``, map AppName to a category, pivot per day, union the days, then
aggregate per contract. Against it, in the same invocation and each in its own process (JVM and
interpreter start-up included): ``c360 run --engine spark`` and ``c360 run`` (DuckDB), cold, every
table, DuckDB warehouse. Targets (SPEC 7.2): the DuckDB run at SF0.1 ≤ 6 s; the Spark engine at SF1
(``--scale 1``) ≤ 1 × the baseline's time. The speed-ups at other scales are recorded only.

    python benchmarks/spark_engines.py --scale 0.1 --repeat 1
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from _harness import CACHE, Measurement, machine, measure, median, write_section
from content_pipeline import ensure_data, link_days

BIN = Path(sys.executable).parent
BASELINE = """
import sys
from functools import reduce
from pyspark.sql import SparkSession, functions as F

spark = SparkSession.builder.master("local[*]").config("spark.ui.enabled", "false").getOrCreate()
spark.sparkContext.setLogLevel("ERROR")
CATEGORY = {"CHANNEL": "Truyen Hinh", "DSHD": "Truyen Hinh", "KPLUS": "Truyen Hinh",
            "KPlus": "Truyen Hinh", "VOD": "Phim Truyen", "FIMS": "Phim Truyen",
            "FIMS_RES": "Phim Truyen", "BHD": "Phim Truyen", "BHD_RES": "Phim Truyen",
            "VOD_RES": "Phim Truyen", "DANET": "Phim Truyen", "RELAX": "Giai Tri",
            "CHILD": "Thieu Nhi", "SPORT": "The Thao"}

def category(app):
    expr = F.lit("Error")
    for name, cat in CATEGORY.items():
        expr = F.when(F.col(app) == name, cat).otherwise(expr)
    return expr

def process_day(path):
    df = spark.read.json(path)                       # schema inference: a full pass
    df = df.select("_source.*")
    df = df.withColumn("Type", category("AppName")).filter(F.col("Type") != "Error")
    # The generated junk ("12" as text) makes inference type the column as a string.
    df = df.select("Contract", "Type", F.col("TotalDuration").cast("long").alias("TotalDuration"))
    df = df.groupBy("Contract").pivot("Type").sum("TotalDuration")
    return df.withColumn("Date", F.lit(path[-13:-5]))

days = [process_day(p) for p in sys.argv[1:]]
merged = reduce(lambda a, b: a.unionByName(b, allowMissingColumns=True), days)
totals = merged.groupBy("Contract").agg(
    *[F.sum(c).alias(c) for c in merged.columns if c not in ("Contract", "Date")],
    F.countDistinct("Date").alias("Active_days"))
print(totals.count())
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()

    days, _ = ensure_data(args.scale)
    work = CACHE / "engines"
    content = work / "content"
    link_days(content, days)
    lines = sum(1 for p in days for _ in p.open("rb"))
    script = work / "baseline.py"
    script.write_text(BASELINE)
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable}

    def c360(engine: str) -> Measurement:
        shutil.rmtree(work / engine, ignore_errors=True)
        return measure(
            [str(BIN / "c360"), "run", "--engine", engine, "--content", str(content),
             "--lake", str(work / engine / "lake"),
             "--warehouse", str(work / engine / "c360.duckdb")],
            env=env,
        )  # fmt: skip

    runs: dict[str, list[Measurement]] = {"baseline": [], "spark": [], "duckdb": []}
    for i in range(args.repeat):
        runs["baseline"].append(
            measure([sys.executable, str(script), *[str(p) for p in days]], env=env)
        )
        runs["spark"].append(c360("spark"))
        runs["duckdb"].append(c360("duckdb"))
        print(f"run {i + 1}: " + ", ".join(f"{k} {v[-1].wall_s:.1f}s" for k, v in runs.items()))

    wall = {k: median([m.wall_s for m in v]) for k, v in runs.items()}
    info = machine()
    titles = {
        "baseline": "seed-style PySpark job (inferred schema, one read and pivot per day, union)",
        "spark": "`c360 run --engine spark`, cold, every table",
        "duckdb": "`c360 run` (DuckDB), cold, every table",
    }
    rows = "\n".join(
        f"| {titles[k]} | {wall[k]:.1f} | {median([m.cpu_s for m in runs[k]]):.1f} | "
        f"{median([m.peak_rss_mb for m in runs[k]]):,.0f} | {lines / wall[k]:,.0f} | "
        f"{wall['baseline'] / wall[k]:.1f} × |"
        for k in runs
    )
    markdown = f"""
## Engines against a seed-style PySpark job (`benchmarks/spark_engines.py`)

Measured {info["date"]} on {info["cores"]} cores / {info["ram_gb"]} GB RAM, scale {args.scale:g}:
{len(days)} days, {lines:,} lines; median of {args.repeat}, each in its own process (JVM start-up
included). CPU s and peak RSS count every process of a job: a Spark job's Python driver and its
JVM (the peak RSS is the sum of each one's peak). Targets (SPEC 7.2): the DuckDB run at SF0.1
≤ 6 s; the Spark engine at SF1 ≤ 1 × the baseline's time.

| job | wall s | CPU s | peak RSS MB | lines/s | speed-up vs baseline |
|---|---|---|---|---|---|
{rows}
"""
    write_section(
        "spark_engines",
        markdown,
        {"machine": info, "scale": args.scale, "lines": lines,
         **{f"{k}_s": [m.wall_s for m in v] for k, v in runs.items()},
         **{f"{k}_cpu_s": [m.cpu_s for m in v] for k, v in runs.items()},
         **{f"{k}_processes": [m.processes for m in v] for k, v in runs.items()}},
    )  # fmt: skip


if __name__ == "__main__":
    main()
