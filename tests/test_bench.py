"""`benchmarks/suite.py` (`make bench`): the benchmark suite runs end to end and judges its targets
(at a tiny scale)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import psutil
import pytest

#: The suite as `make bench` runs it: with the virtualenv's python, from the checkout.
SUITE = [sys.executable, str(Path(__file__).resolve().parents[1] / "benchmarks" / "suite.py")]


@pytest.mark.slow
def test_bench_runs_the_content_step_and_judges_the_targets(tmp_path: Path) -> None:
    report, results = tmp_path / "benchmarks.md", tmp_path / "results.json"
    env = _bench_env(tmp_path)
    # Figures of an earlier invocation's engines step: not this invocation's to judge.
    results.write_text(json.dumps({"spark_engines": {"baseline_s": [60.0], "spark_s": [10.0]}}))
    done = subprocess.run(
        [*SUITE, "--only", "content", "--scale", "0.0003", "--repeat", "1", "--seed-job", "0"],
        env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]

    figures = json.loads(results.read_text())
    content = figures["content_pipeline"]
    assert content["lines"] > 0 and content["runs"] == 1
    for step in ("bare", "handwritten", "cold", "new_day"):
        assert len(content[step]["wall_s"]) == 1 and content[step]["wall_s"][0] > 0
        assert content[step]["cpu_s"][0] > 0 and content[step]["peak_rss_mb"][0] > 0
    # Stage timings come from the run's own record in the lake.
    assert {"ingest", "transform.build", "publish"} <= set(content["cold"]["stages_s"])
    assert content["new_day"]["rows"] == content["lines"] // 30

    targets = figures["summary"]["targets"]
    cold = targets["SF1 cold run ≤ 80 s"]
    assert cold["observed"] == pytest.approx(content["cold"]["wall_s"][0])
    assert cold["verdict"] == ("met" if cold["observed"] <= 80 else "not met")
    peer = targets["SF1 cold ÷ the hand-written DuckDB query ≤ 4 ×"]
    assert peer["observed"] == pytest.approx(
        content["cold"]["wall_s"][0] / content["handwritten"]["wall_s"][0]
    )
    # Steps that did not run are reported as such, never as met.
    assert targets["the seed-style PySpark job at SF1 ÷ SF1 cold ≥ 3 ×"]["verdict"] == (
        "not measured"
    )
    assert targets["SF0.1 cold run ≤ 6 s"]["verdict"] == "not measured"
    assert targets["SF3 cold run completes"]["verdict"] == "not measured"

    text = report.read_text()
    assert "| SF1 cold run ≤ 80 s |" in text and "## Content pipeline, scale 0.0003" in text


def _bench_env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "C360_BENCH_REPORT": str(tmp_path / "benchmarks.md"),
        "C360_BENCH_RESULTS": str(tmp_path / "results.json"),
        "C360_BENCH_CACHE": str(tmp_path / "cache"),
    }


def test_a_failing_step_is_one_line_and_its_targets_are_not_measured(tmp_path: Path) -> None:
    """A step that cannot run (here: no disk for a huge scale) stops before any work with one
    line; the suite still writes its summary, judges nothing of that step and exits non-zero."""
    done = subprocess.run(
        [*SUITE, "--only", "content", "--scale", "1000000", "--repeat", "1"],
        env=_bench_env(tmp_path), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert "not enough disk space" in done.stderr and "C360_BENCH_CACHE" in done.stderr
    assert "step content failed" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "cache").exists()  # nothing generated

    summary = json.loads((tmp_path / "results.json").read_text())["summary"]
    assert summary["failed"] == ["content"]
    assert {t["verdict"] for t in summary["targets"].values()} == {"not measured"}
    assert "failed: content" in (tmp_path / "benchmarks.md").read_text()


def _harness() -> ModuleType:
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "_harness.py"
    spec = importlib.util.spec_from_file_location("bench_harness", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


#: A process that burns 0.5 s of its own CPU time and holds 300 MB at once.
BURN = """
import time
block = b"x" * (300 * 2**20)
while time.process_time() < 0.5:
    pass
"""
#: A driver that starts the burner and exits at once, as PySpark's driver leaves its JVM.
LEAVE = "import subprocess, sys; subprocess.Popen([sys.executable, '-c', sys.argv[1]])"
#: A driver that starts the burner and waits for it.
WAIT = "import subprocess, sys; subprocess.run([sys.executable, '-c', sys.argv[1]], check=True)"


@pytest.mark.parametrize("driver", [LEAVE, WAIT], ids=["orphaned", "waited-for"])
def test_measure_counts_the_cpu_and_memory_of_a_process_the_command_started(
    driver: str,
) -> None:
    # Processes this test did not start (a Spark test's JVM in the same worker) may remain.
    before = {child.pid for child in psutil.Process().children()}
    measured = _harness().measure([sys.executable, "-c", driver, BURN])
    # The burner's own CPU clock read 0.5 s when it stopped; its 300 MB were resident at once.
    assert measured.cpu_s >= 0.5
    assert measured.peak_rss_mb >= 300
    assert measured.processes == (2 if driver == LEAVE else 1)
    # The orphan was waited for, not left a zombie.
    assert [c for c in psutil.Process().children() if c.pid not in before] == []
