"""What the CLI tests share: a runner in an empty folder, one tiny content day, a wide console."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from _support import content_line, write_day

#: Wide enough that rich never wraps a message; the narrow case has its own test.
WIDE = {"COLUMNS": "400", "NO_COLOR": "1"}


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """A runner in an empty folder (no ./c360.toml) with no C360__ variables."""
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("C360__")]:
        monkeypatch.delenv(name)
    return CliRunner()


@pytest.fixture
def content(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    write_day(folder, date(2022, 4, 1), [content_line("HNH000001", record_id="a")])
    return folder
