"""The whole benchmark in one invocation (`make bench`), judged against the targets.

Runs, in order and each step in its own processes: the content pipeline at SF1 (bare scan of the
raw JSON, cold run, one new day), the engines against a seed-style PySpark job at SF0.1 and the
warehouse loads into MariaDB and PostgreSQL (each a median of ``--repeat`` runs), and a cold run
at SF3 (out of core, once). Each step rewrites its section of docs/benchmarks.md and its key of
benchmarks/results.json; this script then writes a summary section with every target and whether
this run met it (`summary` in results.json).

    python benchmarks/suite.py                      # everything, as the targets define it
    python benchmarks/suite.py --only content       # one step (content, engines, warehouse, sf3,
                                                    # serving, streaming)
    make bench BENCH_ARGS="--only content --repeat 1"   # one step, once, through make

It runs from a source checkout with the virtualenv's python: the benchmarks are not part of the
installed package.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _harness import machine, median, read_results, write_section

HERE = Path(__file__).resolve().parent
STEPS = ("content", "engines", "warehouse", "sf3", "serving", "streaming")


def commands(args: argparse.Namespace) -> dict[str, list[str]]:
    py = [sys.executable]
    repeat = ["--repeat", str(args.repeat)]
    return {
        "content": [
            *py, str(HERE / "content_pipeline.py"), "--scale", str(args.scale), *repeat,
            "--seed-job", str(args.seed_job),
        ],
        "engines": [
            *py, str(HERE / "spark_engines.py"), "--scale", str(args.engines_scale), *repeat
        ],
        "warehouse": [*py, str(HERE / "warehouse_load.py"), "--rows", str(args.rows), *repeat],
        "sf3": [
            *py, str(HERE / "content_pipeline.py"), "--scale", str(args.out_of_core_scale),
            "--repeat", "1", "--cold-only", "--section", "content_sf3",
        ],
        "serving": [*py, str(HERE / "serving.py"), "--scale", str(args.scale)],
        "streaming": [*py, str(HERE / "streaming.py"), *repeat],
    }  # fmt: skip


def _walls(entry: dict[str, Any], key: str) -> float | None:
    values = entry.get(key, {}).get("wall_s") if isinstance(entry.get(key), dict) else None
    return median(values) if values else None


#: (target, the step that measures it, how to read the observed value from results.json, the
#: test — None for a figure that is only recorded — and how to show it)
Target = tuple[
    str, str, Callable[[dict[str, Any]], float | None], Callable[[float], bool] | None, str
]


def _ratio(results: dict[str, Any], engine: str) -> float | None:
    runs = results.get("spark_engines", {})
    base, mine = runs.get("baseline_s"), runs.get(f"{engine}_s")
    return median(base) / median(mine) if base and mine else None


def _load_rate(results: dict[str, Any], server: str) -> float | None:
    loads = results.get("warehouse_load", {})
    rates = [v["rows_per_s"] for k, v in loads.items() if k.startswith(server)]
    return rates[0] if rates else None


def _content_ratio(results: dict[str, Any], top: str, bottom: str) -> float | None:
    """The median wall time of step ``top`` over that of ``bottom`` (the content section)."""
    content = results.get("content_pipeline", {})
    high, low = _walls(content, top), _walls(content, bottom)
    return high / low if high and low else None


def _engines_at(results: dict[str, Any], scale: float, engine: str) -> float | None:
    """The engines step's median wall time of ``engine`` when it ran at ``scale``."""
    runs = results.get("spark_engines", {})
    walls = runs.get(f"{engine}_s")
    return median(walls) if walls and runs.get("scale") == scale else None


def _spark_vs_seed_sf1(results: dict[str, Any]) -> float | None:
    spark, seed = _engines_at(results, 1.0, "spark"), _engines_at(results, 1.0, "baseline")
    return spark / seed if spark and seed else None


def _serving(results: dict[str, Any], backend: str, figure: str) -> float | None:
    """``figure`` of ``backend`` served with the most workers measured."""
    measured = {
        int(key.rsplit("×", 1)[1]): value
        for key, value in results.get("serving", {}).items()
        if key.startswith(f"{backend} ×")
    }
    value = measured[max(measured)].get(figure) if measured else None
    return float(value) if value is not None else None


def _overview(results: dict[str, Any]) -> float | None:
    times = results.get("serving", {}).get("overview_s")
    return median(times) if times else None


def _stream(results: dict[str, Any], measure: str, figure: str) -> float | None:
    value = results.get("streaming", {}).get(measure, {}).get(figure)
    return float(value) if value is not None else None


def _peak(results: dict[str, Any], section: str) -> float | None:
    cold = results.get(section, {}).get("cold", {})
    return median(cold["peak_rss_mb"]) if cold.get("peak_rss_mb") else None


TARGETS: list[Target] = [
    ("SF1 cold run ≤ 80 s", "content", lambda r: _walls(r.get("content_pipeline", {}), "cold"),
     lambda v: v <= 80, "{:.1f} s"),
    ("SF1 cold ÷ the hand-written DuckDB query ≤ 4 ×", "content",
     lambda r: _content_ratio(r, "cold", "handwritten"), lambda v: v <= 4, "{:.2f} ×"),
    ("the seed-style PySpark job at SF1 ÷ SF1 cold ≥ 3 ×", "content",
     lambda r: _content_ratio(r, "seed_job", "cold"), lambda v: v >= 3, "{:.2f} ×"),
    ("SF0.1 cold run ≤ 6 s", "engines", lambda r: _engines_at(r, 0.1, "duckdb"),
     lambda v: v <= 6, "{:.1f} s"),
    ("one new day ≤ 8 s", "content", lambda r: _walls(r.get("content_pipeline", {}), "new_day"),
     lambda v: v <= 8, "{:.1f} s"),
    ("SF1 peak RSS ≤ 4 GB", "content", lambda r: _peak(r, "content_pipeline"),
     lambda v: v <= 4096, "{:,.0f} MB"),
    ("SF3 cold run completes", "sf3", lambda r: _walls(r.get("content_sf3", {}), "cold"),
     lambda v: v > 0, "{:.1f} s"),
    ("SF3 peak RSS", "sf3", lambda r: _peak(r, "content_sf3"), None, "{:,.0f} MB"),
    ("Spark engine at SF1 ÷ the seed-style job at SF1 ≤ 1 × (--engines-scale 1)", "engines",
     _spark_vs_seed_sf1, lambda v: v <= 1, "{:.2f} ×"),
    ("DuckDB engine vs the PySpark baseline (engines scale)", "engines",
     lambda r: _ratio(r, "duckdb"), None, "{:.1f} ×"),
    ("Spark engine vs the PySpark baseline (engines scale)", "engines",
     lambda r: _ratio(r, "spark"), None, "{:.2f} ×"),
    ("MariaDB load ≥ 200 k rows/s", "warehouse", lambda r: _load_rate(r, "MariaDB (LOAD"),
     lambda v: v >= 200_000, "{:,.0f} rows/s"),
    ("PostgreSQL load ≥ 200 k rows/s", "warehouse", lambda r: _load_rate(r, "PostgreSQL"),
     lambda v: v >= 200_000, "{:,.0f} rows/s"),
    ("Redis look-ups ≥ 3,000 req/s", "serving",
     lambda r: _serving(r, "Redis", "requests_per_s"), lambda v: v >= 3000, "{:,.0f} req/s"),
    ("Redis look-ups p99 ≤ 10 ms at 3,000 req/s", "serving",
     lambda r: _serving(r, "Redis", "paced_p99_ms"),
     lambda v: v <= 10, "{:.1f} ms"),
    ("DuckDB look-ups ≥ 500 req/s", "serving",
     lambda r: _serving(r, "DuckDB", "requests_per_s"), lambda v: v >= 500, "{:,.0f} req/s"),
    ("DuckDB look-ups p99 ≤ 50 ms", "serving", lambda r: _serving(r, "DuckDB", "p99_ms"),
     lambda v: v <= 50, "{:.1f} ms"),
    ("PostgreSQL look-ups", "serving", lambda r: _serving(r, "PostgreSQL", "requests_per_s"),
     None, "{:,.0f} req/s"),
    ("dashboard overview drawn ≤ 1.5 s", "serving", _overview, lambda v: v <= 1.5, "{:.2f} s"),
    ("DuckDB stream processor ≥ 50,000 events/s", "streaming",
     lambda r: _stream(r, "throughput", "events_per_s"), lambda v: v >= 50_000,
     "{:,.0f} events/s"),
    ("Spark stream processor ≥ 10,000 events/s", "streaming",
     lambda r: _stream(r, "throughput_spark", "events_per_s"), lambda v: v >= 10_000,
     "{:,.0f} events/s"),
    ("served → visible in live_leaderboard, p95 ≤ 2 s at 5,000 votes/s", "streaming",
     lambda r: _stream(r, "visibility", "p95_s"), lambda v: v <= 2, "{:.2f} s"),
]  # fmt: skip


def summarise(ran: list[str], failed: list[str] | None = None) -> dict[str, Any]:
    """Judge every target on the figures in results.json that the steps of this invocation
    measured (``ran`` minus ``failed``); write the summary section.

    A figure left in results.json by an earlier invocation is not judged: its target is "not
    measured", like one whose step failed.
    """
    failed = failed or []
    measured = set(ran) - set(failed)
    results = read_results()
    rows, verdicts = [], {}
    for name, step, observe, test, shown in TARGETS:
        value = observe(results) if step in measured else None
        if value is None:
            verdict = "not measured"
        elif test is None:
            verdict = "recorded"
        else:
            verdict = "met" if test(value) else "not met"
        verdicts[name] = {"observed": value, "verdict": verdict}
        rows.append(f"| {name} | {'–' if value is None else shown.format(value)} | {verdict} |")
    info = machine()
    markdown = f"""
## Summary: the targets (`benchmarks/suite.py`)

Last suite run {info["date"]} on {info["cores"]} cores / {info["ram_gb"]} GB RAM (steps run:
{", ".join(ran)}{"; failed: " + ", ".join(failed) if failed else ""}); each figure comes from
the section below it of the same name, measured in that invocation.

| target | observed | verdict |
|---|---|---|
{chr(10).join(rows)}
"""
    summary = {"machine": info, "steps": ran, "failed": failed, "targets": verdicts}
    write_section("summary", markdown, summary)
    print(markdown)
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", choices=STEPS, help="run only these steps")
    parser.add_argument("--scale", type=float, default=1.0, help="content pipeline scale")
    parser.add_argument("--repeat", type=int, default=3, help="runs per step (median)")
    parser.add_argument(
        "--seed-job", type=int, default=1, help="runs of the seed-style job beside the content step"
    )
    parser.add_argument("--engines-scale", type=float, default=0.1)
    parser.add_argument("--out-of-core-scale", type=float, default=3.0)
    parser.add_argument("--rows", type=int, default=2_000_000, help="rows per warehouse load")
    args = parser.parse_args()
    steps = args.only or list(STEPS)
    todo = commands(args)
    failed = []
    for step in steps:
        print(f"== {step}: {' '.join(todo[step][1:])}", flush=True)
        code = subprocess.run(todo[step], check=False).returncode
        if code != 0:
            # The other steps still run; this one's targets are "not measured".
            print(
                f"step {step} failed (exit {code}); its targets are not measured", file=sys.stderr
            )
            failed.append(step)
    summarise(steps, failed)
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
