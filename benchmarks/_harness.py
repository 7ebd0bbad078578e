"""Shared benchmark plumbing: timed subprocesses (their descendants included) with CPU time and
peak RSS, medians, and report sections."""

from __future__ import annotations

import ctypes
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

import psutil

ROOT = Path(__file__).resolve().parents[1]
# Overridable so that a small trial run (and its test) writes elsewhere than the real report.
REPORT = Path(os.environ.get("C360_BENCH_REPORT", ROOT / "docs" / "benchmarks.md"))
RESULTS = Path(os.environ.get("C360_BENCH_RESULTS", ROOT / "benchmarks" / "results.json"))
CACHE = Path(os.environ.get("C360_BENCH_CACHE", ROOT / "benchmarks" / ".cache"))


#: prctl(2) option: orphaned descendants are re-parented to this process, not to init.
PR_SET_CHILD_SUBREAPER = 36


@dataclass(frozen=True)
class Measurement:
    """One timed run of a command, its descendants included."""

    wall_s: float
    #: User + system CPU of the command and every process it started (a JVM included).
    cpu_s: float
    #: The sum of each process's own peak: an upper bound of the tree's peak, exact for one
    #: process (the driver and its JVM both hold their peak until the end of a Spark job).
    peak_rss_mb: float
    #: Processes counted: the command, and those it started that outlived their parent.
    processes: int = 1


def measure(cmd: list[str], *, env: dict[str, str] | None = None) -> Measurement:
    """Run ``cmd`` and return its wall time, CPU time and peak RSS, its descendants included.

    A process's resource usage covers the children it waited for, but not one that outlives
    it: PySpark's driver exits without waiting for its JVM, where Spark does the work. So this
    process becomes a child subreaper for the run (Linux): such orphans are re-parented to it,
    and their usage is added when they have exited too.
    """
    before = {child.pid for child in psutil.Process().children()}
    _set_subreaper(True)
    try:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        assert proc.stdout is not None
        output = proc.stdout.read()  # until every process holding the pipe has closed it
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        orphans = _reap_orphans(before)
    finally:
        _set_subreaper(False)
    if proc.returncode != 0:
        sys.stderr.write(output.decode(errors="replace"))
        raise SystemExit(f"benchmark step failed ({proc.returncode}): {' '.join(cmd)}")
    usages = [usage, *orphans]
    return Measurement(
        wall,
        sum(u.ru_utime + u.ru_stime for u in usages),
        sum(u.ru_maxrss for u in usages) / 1024,
        len(usages),
    )


def _set_subreaper(on: bool) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, int(on), 0, 0, 0) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"prctl(PR_SET_CHILD_SUBREAPER): {os.strerror(errno)}")


def _reap_orphans(before: set[int]) -> list[os.struct_rusage]:
    """Wait for every descendant re-parented here (and for theirs, in turn); their usage."""
    usages: list[os.struct_rusage] = []
    while orphans := [c.pid for c in psutil.Process().children() if c.pid not in before]:
        for pid in orphans:
            try:
                usages.append(os.wait4(pid, 0)[2])
            except ChildProcessError:  # reaped meanwhile (not ours to count)
                before.add(pid)
    return usages


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
