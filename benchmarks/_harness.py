"""Shared benchmark plumbing: timed subprocesses with peak RSS, medians, and report sections."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# Overridable so that a small trial run (and its test) writes elsewhere than the real report.
REPORT = Path(os.environ.get("C360_BENCH_REPORT", ROOT / "docs" / "benchmarks.md"))
RESULTS = Path(os.environ.get("C360_BENCH_RESULTS", ROOT / "benchmarks" / "results.json"))
CACHE = Path(os.environ.get("C360_BENCH_CACHE", ROOT / "benchmarks" / ".cache"))


@dataclass(frozen=True)
class Measurement:
    """One timed run of a command."""

    wall_s: float
    cpu_s: float
    peak_rss_mb: float


def measure(cmd: list[str], *, env: dict[str, str] | None = None) -> Measurement:
    """Run ``cmd`` and return its wall time, CPU time and peak RSS (the child's own)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert proc.stdout is not None
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.stderr.write(output.decode(errors="replace"))
        raise SystemExit(f"benchmark step failed ({proc.returncode}): {' '.join(cmd)}")
    return Measurement(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def machine() -> dict[str, object]:
    mem_kb = 0
    with Path("/proc/meminfo").open() as fh:
        for line in fh:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    return {
        "cores": os.cpu_count(),
        "ram_gb": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
    }


def write_section(name: str, markdown: str, results: dict[str, object]) -> None:
    """Replace this benchmark's section of docs/benchmarks.md and its key in results.json."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    text = REPORT.read_text(encoding="utf-8") if REPORT.exists() else "# Benchmarks\n"
    if text.count(start) > 1:  # only the first copy would be updated: the other would go stale
        raise SystemExit(f"{REPORT}: the section {name!r} appears twice; remove one copy")
    block = f"{start}\n{markdown.strip()}\n{end}"
    if start in text and end in text:
        before, rest = text.split(start, 1)
        _, after = rest.split(end, 1)
        text = before + block + after
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(text, encoding="utf-8")
    data = read_results()
    data[name] = results
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def read_results() -> dict[str, Any]:
    """Every benchmark's last recorded figures (``benchmarks/results.json``)."""
    return json.loads(RESULTS.read_text()) if RESULTS.exists() else {}


def stage_timings(lake: Path) -> dict[str, float]:
    """The stage and step timings of the last run recorded in a lake (``pipeline_runs``)."""
    import pyarrow.parquet as pq

    runs = pq.read_table(lake / "_state" / "pipeline_runs.parquet")
    timings: dict[str, float] = {}
    for column in ("timings", "step_timings"):
        if column in runs.column_names and (value := runs.column(column)[-1].as_py()):
            timings.update({k: float(v) for k, v in json.loads(value).items()})
    return timings
