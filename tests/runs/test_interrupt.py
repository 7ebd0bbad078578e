"""Ctrl-C ends a run as interrupted, whether Python or DuckDB (mid-query) sees it first: one line,
exit code 130, and the run recorded as ``interrupted``, never as ``failed``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from _support import content_line, write_day
from c360.config import load_config
from c360.console import NullReporter
from c360.context import RunRequest
from c360.errors import EngineError, is_interrupt
from c360.lake.layout import LakeLayout
from c360.runs.batch import open_run
from c360.runs.stage import stage

SCRIPT = Path(sys.executable).with_name("c360")
#: A query DuckDB needs minutes for: Ctrl-C always lands inside it.
ENDLESS = "SELECT count(*) FROM range(1000000000000) t(x) WHERE x % 7 = 3"


class CtrlC:
    """Presses Ctrl-C (SIGINT to this process) every 0.3 s while ``inside`` is set, so one
    signal landing before the query or lost by it cannot leave the query running; after 30 s
    it interrupts the connection instead (the test then fails rather than hangs)."""

    def __init__(self, con: object) -> None:
        self.inside, self.done = threading.Event(), threading.Event()
        self.con = con
        self.thread = threading.Thread(target=self._press, daemon=True)
        self.thread.start()

    def _press(self) -> None:
        for _ in range(100):
            if self.done.wait(0.3):
                return
            if self.inside.is_set():
                os.kill(os.getpid(), signal.SIGINT)
        self.con.interrupt()  # type: ignore[attr-defined]

    def stop(self) -> None:
        self.done.set()
        self.thread.join()


def test_ctrl_c_during_a_duckdb_query_ends_the_stage_as_an_interrupt(tmp_path: Path) -> None:
    config = load_config(env={}, overrides={"engine.threads": 1})
    request = RunRequest(lake=tmp_path / "lake", content=tmp_path)
    lake = LakeLayout(tmp_path / "lake")
    with open_run(
        request, lake=lake, config=config, reporter=NullReporter(), command="test"
    ) as ctx:
        con = ctx.engine.con.con  # type: ignore[attr-defined]
        # A runner started in the background inherits SIGINT ignored: take Python's own.
        previous = signal.signal(signal.SIGINT, signal.default_int_handler)
        ctrl_c = CtrlC(con)
        try:
            with pytest.raises(KeyboardInterrupt) as caught, stage(ctx, "transform"):
                ctrl_c.inside.set()
                try:
                    con.execute(ENDLESS).fetchall()
                finally:
                    ctrl_c.inside.clear()
        finally:
            ctrl_c.stop()
            signal.signal(signal.SIGINT, previous)
    # DuckDB's own answer to Ctrl-C, kept as the cause.
    assert repr(caught.value.__cause__) == "RuntimeError('Query interrupted')"
    assert ctx.report.failed_stage == "transform"


def test_an_error_raised_because_of_ctrl_c_is_an_interrupt() -> None:
    try:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as exc:
            raise RuntimeError("Query interrupted") from exc
    except RuntimeError as driver:
        try:
            raise EngineError("DuckDB failed writing x") from driver
        except EngineError as wrapped:
            assert is_interrupt(driver) and is_interrupt(wrapped)
    assert not is_interrupt(RuntimeError("Query interrupted"))
    assert not is_interrupt(EngineError("out of memory"))


@pytest.mark.slow
@pytest.mark.parametrize("marker", ["· ingest", "· build", "· gold", "· checks"])
def test_ctrl_c_during_a_run_is_one_line_exit_130_and_recorded_as_interrupted(
    tmp_path: Path, marker: str
) -> None:
    content = tmp_path / "in"
    # Days big enough that every stage outlasts the signal's way to the run (with a few
    # hundred lines a stage ended within milliseconds and the run finished first).
    line = content_line("HNH010000", record_id="{}")
    for day in range(1, 4):
        write_day(
            content,
            date(2022, 4, day),
            [line.replace('"{}"', f'"{day}-{i}"') for i in range(60_000)],
        )
    lake = tmp_path / "lake"
    env = {k: v for k, v in os.environ.items() if not k.startswith("C360__")}
    proc = subprocess.Popen(
        [str(SCRIPT), "run", "--verbose", "--content", str(content), "--lake", str(lake),
         "--warehouse", str(tmp_path / "w.duckdb")],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env={**env, "COLUMNS": "300", "NO_COLOR": "1"},
        # As from a terminal: a runner started in the background passes SIGINT on ignored.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    assert proc.stderr is not None
    seen = []
    for line in proc.stderr:
        seen.append(line.rstrip())
        if line.startswith(marker):
            proc.send_signal(signal.SIGINT)
            break
    rest = proc.stderr.read()
    proc.wait()
    assert any(s.startswith(marker) for s in seen), seen
    if proc.returncode == 0:  # the run finished before the signal: nothing to judge
        pytest.skip("the run ended before Ctrl-C arrived")
    assert "Traceback" not in rest, rest
    assert rest.strip().splitlines()[-1:] == ["interrupted"], rest
    assert proc.returncode == 130
    (record,) = pq.read_table(lake / "_state" / "pipeline_runs.parquet").to_pylist()
    assert record["status"] == "interrupted"
