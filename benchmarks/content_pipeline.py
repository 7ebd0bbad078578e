"""Content pipeline benchmark: SF-scale cold run and one new day, against a bare DuckDB scan.

Generates the data once (cached under benchmarks/.cache, git-ignored), then, ``--repeat`` times:
a bare scan of the raw JSON (the floor for anything that reads the files), a cold ``c360 run``
(fresh lake and warehouse), and the same state plus one new day. Each step runs in its own process
so peak RSS is that step's. Medians go to docs/benchmarks.md and benchmarks/results.json.

    python benchmarks/content_pipeline.py --scale 1 --repeat 3
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import sys
from datetime import date, timedelta
from pathlib import Path

from _harness import (
    CACHE,
    Measurement,
    machine,
    measure,
    median,
    stage_timings,
    write_section,
)

BIN = Path(sys.executable).parent
DAYS = 30
START = date(2022, 4, 1)
SEED = 42
GENERATOR_VERSION = 2  # bump when the generator's output changes

BARE_SCAN = """
import duckdb, sys
con = duckdb.connect()
files = sys.argv[1:]
con.execute(
    "SELECT sum(_source.TotalDuration), max(_source.Contract), max(_source.AppName), "
    "max(_source.Mac) FROM read_ndjson(?, columns = {'_source': "
    "'STRUCT(Contract VARCHAR, Mac VARCHAR, TotalDuration BIGINT, AppName VARCHAR)'}, "
    "ignore_errors = true)",
    [files],
).fetchall()
"""

# The peer an analyst would write by hand: one DuckDB query from the raw files to the profile
# (per-category seconds, active days, most watched, taste, devices, activeness, recency, RFM
# quartile scores and the IQR segment). No validation beyond the JSON reader's, no bronze, no
# de-duplication, no warehouse: malformed lines are skipped and junk contracts kept.
HANDWRITTEN = r"""
import duckdb, sys
con = duckdb.connect()
con.execute('''
CREATE TABLE profile AS
WITH rows AS (
    SELECT _source.Contract AS contract, _source.Mac AS mac, _source.TotalDuration AS d,
        CASE _source.AppName
            WHEN 'CHANNEL' THEN 'Truyen Hinh' WHEN 'DSHD' THEN 'Truyen Hinh'
            WHEN 'KPLUS' THEN 'Truyen Hinh' WHEN 'KPlus' THEN 'Truyen Hinh'
            WHEN 'VOD' THEN 'Phim Truyen' WHEN 'FIMS' THEN 'Phim Truyen'
            WHEN 'FIMS_RES' THEN 'Phim Truyen' WHEN 'BHD' THEN 'Phim Truyen'
            WHEN 'BHD_RES' THEN 'Phim Truyen' WHEN 'VOD_RES' THEN 'Phim Truyen'
            WHEN 'DANET' THEN 'Phim Truyen' WHEN 'RELAX' THEN 'Giai Tri'
            WHEN 'CHILD' THEN 'Thieu Nhi' WHEN 'SPORT' THEN 'The Thao' END AS category,
        strptime(regexp_extract(filename, '(\d{8})\.json', 1), '%Y%m%d')::DATE AS day
    FROM read_ndjson($files, filename = true, ignore_errors = true, columns = {'_source':
        'STRUCT(Contract VARCHAR, Mac VARCHAR, TotalDuration BIGINT, AppName VARCHAR)'})
), per AS (
    SELECT contract,
        coalesce(sum(d) FILTER (category = 'Truyen Hinh'), 0) AS truyen_hinh,
        coalesce(sum(d) FILTER (category = 'Phim Truyen'), 0) AS phim_truyen,
        coalesce(sum(d) FILTER (category = 'Giai Tri'), 0) AS giai_tri,
        coalesce(sum(d) FILTER (category = 'Thieu Nhi'), 0) AS thieu_nhi,
        coalesce(sum(d) FILTER (category = 'The Thao'), 0) AS the_thao,
        count(DISTINCT day) AS active_days, count(DISTINCT mac) AS devices,
        max(day) AS last_active
    FROM rows WHERE category IS NOT NULL AND d BETWEEN 0 AND 86400 GROUP BY contract
), scored AS (
    SELECT *, truyen_hinh + phim_truyen + giai_tri + thieu_nhi + the_thao AS total,
        (SELECT max(day) FROM rows) - last_active AS recency
    FROM per
), q AS (
    SELECT quantile_cont(active_days, [0.25, 0.5, 0.75]) AS f,
        quantile_cont(total, [0.25, 0.5, 0.75]) AS m,
        quantile_cont(recency, [0.25, 0.5, 0.75]) AS r
    FROM scored
)
SELECT s.*,
    CASE greatest(truyen_hinh, phim_truyen, giai_tri, thieu_nhi, the_thao)
        WHEN 0 THEN NULL WHEN truyen_hinh THEN 'Truyen Hinh' WHEN phim_truyen THEN 'Phim Truyen'
        WHEN giai_tri THEN 'Giai Tri' WHEN thieu_nhi THEN 'Thieu Nhi' ELSE 'The Thao'
        END AS most_watch,
    concat_ws('-', CASE WHEN truyen_hinh > 0 THEN 'Truyen Hinh' END,
        CASE WHEN phim_truyen > 0 THEN 'Phim Truyen' END,
        CASE WHEN giai_tri > 0 THEN 'Giai Tri' END,
        CASE WHEN thieu_nhi > 0 THEN 'Thieu Nhi' END,
        CASE WHEN the_thao > 0 THEN 'The Thao' END) AS taste,
    CASE WHEN active_days >= 29 THEN 'very high' WHEN active_days >= 22 THEN 'high'
        WHEN active_days >= 15 THEN 'moderate' WHEN active_days >= 8 THEN 'low'
        ELSE 'very low' END AS activeness,
    CASE WHEN recency <= r[1] THEN 4 WHEN recency <= r[2] THEN 3
        WHEN recency <= r[3] THEN 2 ELSE 1 END AS recency_score,
    CASE WHEN active_days <= f[1] THEN 1 WHEN active_days <= f[2] THEN 2
        WHEN active_days <= f[3] THEN 3 ELSE 4 END AS frequency_score,
    CASE WHEN total <= m[1] THEN 1 WHEN total <= m[2] THEN 2
        WHEN total <= m[3] THEN 3 ELSE 4 END AS monetary_score,
    CASE WHEN active_days < 8 AND total < m[1] THEN 'leaving'
        WHEN active_days BETWEEN 8 AND 14 AND total < m[2] THEN 'need attention'
        WHEN active_days BETWEEN 15 AND 21 AND total < m[2] THEN 'normal'
        WHEN active_days BETWEEN 15 AND 21 THEN 'potential'
        WHEN active_days BETWEEN 22 AND 28 AND total > m[1] THEN 'loyal'
        WHEN active_days >= 29 AND total > m[1] THEN 'vip' ELSE 'anomaly' END AS customer_type
FROM scored s, q
''', {"files": sys.argv[1:]})
print(con.execute("SELECT count(*) FROM profile").fetchone()[0], "customers")
"""


#: Bytes of NDJSON per generated line (SF1: 8.29 GB for 48.0 M lines), and the space a run's
#: lake and warehouse take next to the data (SF1: about 5 GB for 8.3 GB of JSON).
BYTES_PER_LINE = 175
WORK_SPACE_RATIO = 0.7


def space_needed(scale: float, missing_days: int) -> int:
    """Bytes of free disk the step needs: the days still to generate, plus a run's lake and
    warehouse for the whole month."""
    from c360.generate.content_logs import LINES_PER_DAY_SF1

    day = LINES_PER_DAY_SF1 * scale * BYTES_PER_LINE
    return int(day * missing_days + day * (DAYS + 1) * WORK_SPACE_RATIO)


def check_space(folder: Path, needed: int) -> None:
    """Stop with one line, before any work, when ``folder``'s disk cannot hold ``needed`` bytes."""
    existing = folder
    while not existing.exists():
        existing = existing.parent
    free = shutil.disk_usage(existing).free
    if free < needed:
        sys.exit(
            f"not enough disk space under {existing}: this step needs about "
            f"{needed / 1e9:.1f} GB (data and a run's lake), {free / 1e9:.1f} GB free; free "
            "some space or point C360_BENCH_CACHE at a larger disk"
        )


def ensure_data(scale: float) -> tuple[list[Path], Path]:
    """The cached days, generating them if needed; returns (30 days, the extra day).

    Generation runs in a child process: a child forked from a big parent reports the parent's
    pages in its peak RSS until it execs, so the measuring process must stay small.
    """
    folder = CACHE / f"content-sf{scale:g}-seed{SEED}-v{GENERATOR_VERSION}"
    days = [START + timedelta(days=i) for i in range(DAYS + 1)]
    paths = [folder / "days" / f"{d:%Y%m%d}.json" for d in days]
    check_space(CACHE, space_needed(scale, sum(not p.exists() for p in paths)))
    if not all(p.exists() for p in paths):
        context = multiprocessing.get_context("spawn")
        with context.Pool(1) as pool:
            pool.apply(_generate, (scale, days, paths))
    return paths[:DAYS], paths[DAYS]


def _generate(scale: float, days: list[date], paths: list[Path]) -> None:
    from c360.generate.content_logs import LINES_PER_DAY_SF1, contracts_per_sf1, write_content_day
    from c360.generate.population import make_population

    lines = max(1, round(LINES_PER_DAY_SF1 * scale))
    population = make_population(contracts_per_sf1(lines), seed=SEED)
    for day, path in zip(days, paths, strict=True):
        if not path.exists():
            print(f"generating {path.name}", flush=True)
            write_content_day(path.parent, day, population, lines=lines, seed=SEED)


def link_days(target: Path, days: list[Path]) -> None:
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for path in days:
        (target / path.name).symlink_to(path)


def seed_job(days: list[Path]) -> Measurement:
    """The seed-style PySpark job over ``days`` (the script of ``spark_engines.py``)."""
    from spark_engines import BASELINE

    script = CACHE / "seed_job.py"
    script.write_text(BASELINE, encoding="utf-8")
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable}
    return measure([sys.executable, str(script), *map(str, days)], env=env)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--cold-only", action="store_true", help="time the cold run only (no scan, no new day)"
    )
    parser.add_argument("--section", default="content_pipeline", help="report section name")
    parser.add_argument(
        "--seed-job", type=int, default=1, metavar="N",
        help="runs of the seed-style PySpark job over the same days (0: none; minutes at SF1)",
    )  # fmt: skip
    args = parser.parse_args()

    days, extra = ensure_data(args.scale)
    size_gb = sum(p.stat().st_size for p in days) / 1e9
    lines = sum(1 for p in days for _ in p.open("rb"))
    work = CACHE / "work"
    content, lake, warehouse = work / "content", work / "lake", work / "c360.duckdb"
    c360 = [str(BIN / "c360"), "run", "--content", str(content), "--lake", str(lake)]
    c360 += ["--warehouse", str(warehouse)]

    steps: dict[str, list[Measurement]] = {
        "bare": [], "handwritten": [], "cold": [], "new_day": [], "seed_job": [],
    }  # fmt: skip
    stages: dict[str, list[dict[str, float]]] = {"cold": [], "new_day": []}
    for i in range(args.repeat):
        print(f"round {i + 1}/{args.repeat}", flush=True)
        if not args.cold_only:
            steps["bare"].append(measure([sys.executable, "-c", BARE_SCAN, *map(str, days)]))
            steps["handwritten"].append(
                measure([sys.executable, "-c", HANDWRITTEN, *map(str, days)])
            )
        link_days(content, days)
        shutil.rmtree(lake, ignore_errors=True)
        warehouse.unlink(missing_ok=True)
        steps["cold"].append(measure(c360))
        stages["cold"].append(stage_timings(lake))
        if not args.cold_only:
            (content / extra.name).symlink_to(extra)
            steps["new_day"].append(measure(c360))
            stages["new_day"].append(stage_timings(lake))
        if i < args.seed_job and not args.cold_only:
            steps["seed_job"].append(seed_job(days))
        print("  " + ", ".join(f"{k} {v[-1].wall_s:.1f}s" for k, v in steps.items() if v))
    shutil.rmtree(work, ignore_errors=True)  # SF3's lake alone is ~15 GB

    bare = median([m.wall_s for m in steps["bare"]])
    per_day = lines // DAYS
    rows_of = {
        "bare": lines, "handwritten": lines, "cold": lines, "new_day": per_day, "seed_job": lines,
    }  # fmt: skip
    titles = {
        "bare": "bare DuckDB scan of the raw JSON (4 fields)",
        "handwritten": "hand-written single DuckDB query of the profile (peer)",
        "cold": f"c360 run, cold ({DAYS} days → every table, DuckDB warehouse)",
        "new_day": "c360 run, one new day on the processed month",
        "seed_job": "seed-style PySpark job (peer: inferred schema, a pivot per day, union)",
    }
    table = [
        "| step | wall s (median) | CPU s | peak RSS MB | M lines/s | × bare scan |",
        "|---|---|---|---|---|---|",
    ]
    info = machine()
    results: dict[str, object] = {
        "machine": info, "scale": args.scale, "lines": lines,
        "bytes": int(size_gb * 1e9), "runs": args.repeat,
    }  # fmt: skip
    for key, runs in steps.items():
        if not runs:
            continue
        wall = median([m.wall_s for m in runs])
        ratio = f"{wall / bare:.2f}" if steps["bare"] else "–"
        table.append(
            f"| {titles[key]} | {wall:.1f} | {median([m.cpu_s for m in runs]):.1f} | "
            f"{median([m.peak_rss_mb for m in runs]):,.0f} | {rows_of[key] / wall / 1e6:.2f} | "
            f"{ratio} |"
        )
        results[key] = {
            "wall_s": [m.wall_s for m in runs],
            "cpu_s": [m.cpu_s for m in runs],
            "peak_rss_mb": [m.peak_rss_mb for m in runs],
            "rows": rows_of[key],
        }
    stage_rows = []
    for key, recorded in stages.items():
        if recorded:
            medians = {k: median([r.get(k, 0.0) for r in recorded]) for k in recorded[0]}
            results[key]["stages_s"] = medians  # type: ignore[index]
            shown = ", ".join(f"{k} {v:.1f}" for k, v in medians.items() if k != "transform")
            stage_rows.append(f"* {titles[key]}: {shown}")
    markdown = f"""
## Content pipeline, scale {args.scale:g} (`benchmarks/content_pipeline.py`)

Measured {info["date"]} on {info["cores"]} cores / {info["ram_gb"]} GB RAM, Python {info["python"]},
scale {args.scale:g}: {DAYS} days, {lines:,} lines, {size_gb:.2f} GB of NDJSON; median of
{args.repeat} runs (the seed-style job: {len(steps["seed_job"])}), each step in its own process.
Targets (SPEC 7.2, SF1): cold ≤ 80 s, ≤ 4 × the hand-written query, the seed-style job ≥ 3 × the
cold run; one new day ≤ 8 s; peak RSS ≤ 4 GB; SF3 completes.

{chr(10).join(table)}

Stage seconds (median, from `pipeline_runs.timings`):

{chr(10).join(stage_rows)}
"""
    write_section(args.section, markdown, results)
    print(markdown)


if __name__ == "__main__":
    main()
