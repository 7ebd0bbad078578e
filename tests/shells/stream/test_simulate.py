"""``c360 simulate`` as a user runs it: the help, a bad flag in one line, and a real server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
from typer.testing import CliRunner

from _support import free_port, wait_until_up
from c360.shells.cli import app
from shells.cli.conftest import WIDE

#: `c360` of this checkout, whatever the installed script points at.
C360 = [sys.executable, "-c", "from c360.shells.cli import main; main()"]


def test_help_lists_the_options() -> None:
    result = CliRunner().invoke(app, ["simulate", "--help"], env=WIDE)
    assert result.exit_code == 0, result.output
    options = "--seed --rate --port --total --dump --error-rate --duplicate-rate --late-rate"
    for option in [*options.split(), "--junk-rate", "--faults", "--start"]:
        assert option in result.stdout


def test_a_bad_start_is_one_line() -> None:
    result = CliRunner().invoke(app, ["simulate", "--start", "tomorrow"], env=WIDE)
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "error: --start 'tomorrow' is not a time; use ISO 8601, e.g. 2026-12-02T18:00:00Z"
    ]


def test_simulate_serves_over_http(tmp_path: Path) -> None:
    port = free_port()
    dump = tmp_path / "truth.jsonl"
    args = ["simulate", "--port", str(port), "--rate", "0", "--total", "40", "--faults",
            "--error-rate", "0", "--dump", dump, "--start", "2026-12-02T18:00:00Z"]  # fmt: skip
    process = subprocess.Popen(
        [*C360, *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), **WIDE}, cwd=tmp_path,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{base}/healthz", process)
        data = httpx.get(f"{base}/votes", params={"count": 100}).json()["data"]
        assert (data["count"], data["next"], data["done"]) == (40, 40, True)
        assert data["votes"][0]["timestamp"] == "2026-12-02T18:00:00.000000Z"
    finally:
        process.terminate()
        out, err = process.communicate(timeout=20)
    assert f"simulating votes and viewing events on {base} (seed 7, no rate limit)" in out, err
    assert len(dump.read_text().splitlines()) == 40
