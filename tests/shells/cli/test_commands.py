"""The ``c360`` command (SPEC 5): help, one-line errors, a tiny run and a tiny generate."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from _support import content_line, write_day
from c360.shells.cli import app
from shells.cli.conftest import WIDE

SCRIPT = Path(sys.executable).with_name("c360")


def _invoke(cli: CliRunner, *args: str | Path, env: dict[str, str] | None = None) -> Result:
    return cli.invoke(app, [str(a) for a in args], env=env or WIDE)


def _assert_one_line_error(result: Result) -> str:
    assert result.exit_code != 0, result.output
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit), result.exception
    # Warnings may come first (each its own "warning:" line); the error is one line.
    text = re.sub(r"(?ms)^warning: .*?(?=^(?:warning|error): )", "", result.stderr)
    lines = text.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error:"), lines[0]
    assert result.stdout == ""
    return lines[0]


# -- help --------------------------------------------------------------------------------------


def test_script_help_lists_the_commands() -> None:
    # How fast `c360 --help` starts is measured by benchmarks, not asserted here.
    done = subprocess.run(
        [str(SCRIPT), "--help"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "120"},
    )
    assert done.returncode == 0, done.stderr
    for command in ("run", "generate", "demo"):
        assert command in done.stdout


#: Libraries `c360 --help` must not import (principle 9: heavy dependencies load lazily).
HEAVY = (
    "duckdb", "ibis", "pyarrow", "numpy", "pandas", "sklearn", "pyspark", "httpx", "fastapi",
    "uvicorn", "pymysql", "psycopg", "redis",
)  # fmt: skip
HELP_IMPORTS = """
import sys
sys.argv = ["c360", "--help"]
from c360.shells.cli import main
try:
    main()
except SystemExit:
    pass
print(" ".join(sorted({name.split(".")[0] for name in sys.modules})), file=sys.stderr)
"""


def test_help_imports_no_heavy_library() -> None:
    done = subprocess.run(
        [sys.executable, "-c", HELP_IMPORTS],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "120", "PYTHONPATH": ":".join(sys.path)},
    )
    assert done.returncode == 0, done.stderr
    assert "Usage" in done.stdout
    imported = set(done.stderr.split())
    assert "typer" in imported  # the listing is real
    assert imported.isdisjoint(HEAVY), sorted(imported & set(HEAVY))


def test_run_help_mentions_every_option(cli: CliRunner) -> None:
    result = _invoke(cli, "run", "--help")
    assert result.exit_code == 0
    for option in ("--content", "--warehouse", "--lake", "--from", "--to", "--engine"):
        assert option in result.stdout


def test_run_help_shows_the_defaults(cli: CliRunner) -> None:
    """The help strings say ``[default: c360.duckdb]`` and ``[default: data/lake]``."""
    result = _invoke(cli, "run", "--help")
    assert result.exit_code == 0
    assert "c360.duckdb" in result.stdout
    assert "data/lake" in result.stdout


def test_no_arguments_shows_help(cli: CliRunner) -> None:
    result = _invoke(cli)
    assert "run" in result.output
    assert "Traceback" not in result.output


# -- one-line errors -------------------------------------------------------------------------


def test_missing_content_folder(cli: CliRunner, tmp_path: Path) -> None:
    line = _assert_one_line_error(_invoke(cli, "run", "--content", tmp_path / "nope"))
    assert "nope" in line


def test_folder_without_input_files(cli: CliRunner, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("not a log\n", encoding="utf-8")
    result = _invoke(cli, "run", "--content", empty)
    line = _assert_one_line_error(result)
    assert "empty" in line
    assert "notes.txt: not a content file" in result.stderr.replace("\n", "")


def test_bad_from_date_is_a_usage_error(cli: CliRunner, content: Path) -> None:
    result = _invoke(cli, "run", "--content", content, "--from", "2022-13-01")
    line = _assert_one_line_error(result)
    assert result.exit_code == 2
    assert "--from" in line


def test_from_after_to(cli: CliRunner, content: Path) -> None:
    result = _invoke(cli, "run", "--content", content, "--from", "2022-04-05", "--to", "2022-04-01")
    line = _assert_one_line_error(result)
    assert "2022-04-05" in line


def test_unwritable_warehouse_path(cli: CliRunner, content: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("I am a file, not a folder\n", encoding="utf-8")
    warehouse = blocker / "w.duckdb"
    result = _invoke(
        cli, "run", "--content", content, "--warehouse", warehouse, "--lake", tmp_path / "lake"
    )
    line = _assert_one_line_error(result)
    assert "a-file" in line
    assert not warehouse.exists()


def test_unknown_engine(cli: CliRunner, content: Path) -> None:
    result = _invoke(cli, "run", "--content", content, "--engine", "pandas")
    line = _assert_one_line_error(result)
    assert "engine" in line
    assert "--engine" in line


@pytest.mark.mysql
def test_unknown_mysql_database_is_one_line_naming_it_and_the_remedy(
    cli: CliRunner, content: Path
) -> None:
    url = "mysql://root@127.0.0.1:3306/c360_no_such_db"
    line = _assert_one_line_error(_invoke(cli, "run", "--content", content, "--warehouse", url))
    assert f"database 'c360_no_such_db' does not exist on {url}" in line
    assert "CREATE DATABASE c360_no_such_db" in line


@pytest.mark.mysql
def test_wrong_mysql_password_is_one_line_and_never_shows_the_password(
    cli: CliRunner, content: Path
) -> None:
    url = "mysql://root:s3cret-pw@127.0.0.1:3306/test"
    result = _invoke(cli, "run", "--content", content, "--warehouse", url, "--verbose")
    assert result.exit_code == 1
    assert "access denied to mysql://root@127.0.0.1:3306/test" in result.stderr
    assert "C360_DB_PASSWORD" in result.stderr
    # Not in the message, the verbose traceback, the progress output or the lake's run record.
    assert "s3cret-pw" not in result.output + result.stderr
    runs = (Path("data/lake/_state/pipeline_runs.parquet")).read_bytes()
    assert b"s3cret-pw" not in runs


def test_error_stays_one_line_when_output_is_not_a_terminal(cli: CliRunner, tmp_path: Path) -> None:
    """80 columns (rich's width when stderr is a pipe or a log): a long message is not wrapped."""
    deep = tmp_path.joinpath(*["a-rather-long-folder-name"] * 4, "missing")
    result = cli.invoke(app, ["run", "--content", str(deep)], env={"COLUMNS": "80"})
    line = _assert_one_line_error(result)
    assert str(deep) in line


# -- successful commands -----------------------------------------------------------------------


@pytest.mark.slow
def test_run_prints_the_summary(cli: CliRunner, content: Path, tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    result = _invoke(
        cli, "run", "--content", content, "--warehouse", warehouse, "--lake", tmp_path / "lake"
    )
    assert result.exit_code == 0, result.output
    assert "rows read" in result.stdout
    assert "customers profiled" in result.stdout
    assert warehouse.is_file()
    assert (tmp_path / "lake" / "gold").is_dir()


@pytest.mark.slow
def test_generate_writes_content_search_and_bridge(cli: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "raw"
    result = _invoke(cli, "generate", "--scale", "0.0005", "--days", "2", "--out", out)
    assert result.exit_code == 0, result.output
    content = sorted(p.name for p in (out / "log_content").iterdir())
    assert content == ["20220401.json", "20220402.json"]
    search = [p for p in (out / "log_search").iterdir() if p.is_dir()]
    assert search
    assert all(any(day.glob("*.parquet")) for day in search)
    assert (out / "contract_user.csv").is_file()


def test_an_unknown_engine_is_one_clear_line(cli: CliRunner, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    write_day(folder, date(2022, 4, 1), [content_line()])
    result = _invoke(
        cli, "run", "--content", str(folder), "--engine", "flink",
        "--warehouse", str(tmp_path / "w.duckdb"), "--lake", str(tmp_path / "lake"),
    )  # fmt: skip
    assert result.exit_code == 1
    assert "engine.name" in result.output and "--engine" in result.output
    assert "Traceback" not in result.output
