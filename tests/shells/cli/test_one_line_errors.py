"""User mistakes end in one line and a non-zero exit, never a traceback: malformed URLs, limits
out of range, settings out of range from any layer (the line names the layer)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from c360.shells.cli import app
from shells.cli.conftest import WIDE


def _error(cli: CliRunner, *args: str | Path, env: dict[str, str] | None = None) -> str:
    result: Result = cli.invoke(app, [str(a) for a in args], env={**WIDE, **(env or {})})
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert result.stdout == ""
    return lines[0]


def test_a_malformed_warehouse_url_is_one_line(cli: CliRunner, content: Path) -> None:
    line = _error(cli, "run", "--content", content, "--warehouse", "postgresql://u@[::1:5432/db")
    assert line == (
        "error: warehouse 'postgresql://u@[::1:5432/db' is not a valid URL (an IPv6 host needs "
        "its closing bracket, e.g. [::1]:5432); write it as postgresql://user@host:port/database"
    )


def test_a_malformed_load_target_is_one_line(cli: CliRunner, tmp_path: Path) -> None:
    line = _error(cli, "load", "--from", tmp_path / "w.duckdb", "--to", "mysql://u@h:70000/db")
    assert line.startswith("error: warehouse 'mysql://u@h:70000/db' is not a valid URL (the port")


@pytest.fixture
def warehouse(cli: CliRunner, content: Path, tmp_path: Path) -> Path:
    path = tmp_path / "w.duckdb"
    done = cli.invoke(app, ["run", "--content", str(content), "--warehouse", str(path)], env=WIDE)
    assert done.exit_code == 0, done.output
    return path


@pytest.mark.parametrize("command", ["quarantine", "runs"])
@pytest.mark.parametrize("limit", ["-5", "0"])
def test_a_limit_below_one_is_one_line(
    cli: CliRunner, warehouse: Path, command: str, limit: str
) -> None:
    line = _error(cli, command, "--warehouse", warehouse, "--limit", limit)
    assert line == f"error: --limit {limit}: ask for 1 row or more"


@pytest.mark.parametrize("command", ["quarantine", "runs"])
def test_a_limit_above_any_table_shows_every_row(
    cli: CliRunner, warehouse: Path, command: str
) -> None:
    result = cli.invoke(
        app, [command, "--warehouse", str(warehouse), "--limit", "99999999999999999999"], env=WIDE
    )
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("args", "env", "toml", "expected"),
    [
        pytest.param(
            [],
            {"C360__CONTENT__MAX_DURATION": "99999999999999999999"},
            None,
            "error: invalid configuration content.max_duration from environment variable "
            "C360__CONTENT__MAX_DURATION: Input should be less than or equal to 2147483647",
            id="max-duration",
        ),
        pytest.param(
            ["--memory-limit", "1KB"],
            {},
            None,
            "error: invalid configuration engine.memory_limit from command-line flag "
            "--memory-limit: '1KB' is too small: the engine needs 128MB or more (e.g. 4GB)",
            id="memory-limit",
        ),
        pytest.param(
            ["--threads", "100000000"],
            {},
            None,
            "error: invalid configuration engine.threads from command-line flag --threads: "
            "Input should be less than or equal to 1024",
            id="threads-flag",
        ),
        pytest.param(
            [],
            {},
            "[engine]\nthreads = 100000000\n",
            "error: invalid configuration engine.threads from c360.toml: Input should be less "
            "than or equal to 1024",
            id="threads-toml",
        ),
        pytest.param(
            [],
            {},
            "[engin]\nthreads = 2\n",
            "error: invalid configuration engin from c360.toml: unknown section; did you mean "
            "engine? known: classify, content, engine, paths, profile, quality, search, stream",
            id="typod-section",
        ),
        pytest.param(
            [],
            {},
            "[quality.thresholds]\ncontent_reject_rate = nan\n",
            "error: invalid configuration quality.thresholds.content_reject_rate from c360.toml: "
            "Input should be a finite number",
            id="nan-threshold",
        ),
    ],
)
def test_a_setting_out_of_range_is_one_line_naming_its_source(
    cli: CliRunner, content: Path, tmp_path: Path,
    args: list[str], env: dict[str, str], toml: str | None, expected: str,
) -> None:  # fmt: skip
    if toml is not None:
        (tmp_path / "c360.toml").write_text(toml)
    line = _error(
        cli, "run", "--content", content, "--warehouse", tmp_path / "w.duckdb", *args, env=env
    )
    assert line == expected
