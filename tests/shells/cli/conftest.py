"""What the CLI tests share: a runner in an empty folder, one tiny content day, a wide console."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from _support import content_line, write_day

#: Wide enough that rich never wraps a message; the narrow case has its own test.
WIDE = {"COLUMNS": "400", "NO_COLOR": "1"}


@pytest.fixture
def content(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    write_day(folder, date(2022, 4, 1), [content_line("HNH000001", record_id="a")])
    return folder
