"""What every shell's tests share: a CLI runner in an empty folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """A runner in an empty folder (no ./c360.toml) with no C360__ variables."""
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("C360__")]:
        monkeypatch.delenv(name)
    return CliRunner()
