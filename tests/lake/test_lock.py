"""One run per lake: a second run is refused while the first lives; a killed run's lock is not
stale."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from c360.errors import BusyError
from c360.lake.lock import lake_lock, lock_path

HOLD = """
import sys, time
from pathlib import Path
from c360.lake.lock import lake_lock
with lake_lock(Path(sys.argv[1]), command="run") as stale:
    print("held", flush=True)
    time.sleep(60)
"""


def _holder(lake: Path) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(lake)], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "held"
    return process


def test_a_second_run_is_refused_with_who_holds_the_lake(tmp_path: Path) -> None:
    holder = _holder(tmp_path)
    try:
        expected = (
            rf"another c360 run is using the lake {tmp_path} \(pid {holder.pid} on .*`c360 run`"
        )
        with pytest.raises(BusyError, match=expected), lake_lock(tmp_path, command="classify"):
            pass
    finally:
        holder.kill()
        holder.wait()


def test_a_killed_run_leaves_no_stale_lock_and_is_reported(tmp_path: Path) -> None:
    holder = _holder(tmp_path)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    with lake_lock(tmp_path, command="run") as stale:
        assert stale is not None and f"pid {holder.pid}" in stale
    # A clean release leaves nothing to report.
    with lake_lock(tmp_path, command="run") as stale:
        assert stale is None
    assert lock_path(tmp_path).read_text() == ""


def test_a_cli_run_on_a_held_lake_is_one_line_and_changes_nothing(tmp_path: Path) -> None:
    from datetime import date

    from typer.testing import CliRunner

    from _support import content_line, write_day
    from c360.shells.cli import app

    write_day(tmp_path / "in", date(2022, 4, 1), [content_line()])
    lake = tmp_path / "lake"
    holder = _holder(lake)
    try:
        result = CliRunner().invoke(
            app,
            ["run", "--content", str(tmp_path / "in"), "--lake", str(lake),
             "--warehouse", str(tmp_path / "w.duckdb")],
        )  # fmt: skip
    finally:
        holder.kill()
        holder.wait()
    assert result.exit_code == 1
    assert result.output.startswith("error: another c360 run is using the lake")
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "w.duckdb").exists() and not (lake / "bronze").exists()
