"""Layered configuration: defaults < c360.toml < C360__SECTION__KEY < CLI flags (SPEC 5)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from c360.config import DEFAULT_APP_CATEGORIES, load_config
from c360.errors import ConfigError


@pytest.fixture(autouse=True)
def _empty_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No ./c360.toml unless a test writes one."""
    monkeypatch.chdir(tmp_path)


def _toml(folder: Path, text: str, name: str = "c360.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


THREADS_3 = "[engine]\nthreads = 3\n"


def test_defaults() -> None:
    config = load_config(env={})
    assert config.engine.name == "duckdb"
    assert config.engine.threads is None
    assert config.engine.memory_limit == "3GB"
    assert config.content.max_duration == 86_400
    assert config.content.contract_pattern == r"^[A-Z]{2}[A-Z0-9]{3,14}$"
    assert config.content.app_categories == DEFAULT_APP_CATEGORIES
    assert config.profile.level_high_above == 20
    assert config.profile.level_low_below == 10
    assert config.paths.warehouse == "c360.duckdb"
    assert config.paths.lake == Path("data/lake")


def test_default_app_categories_follow_the_spec() -> None:
    mapping = load_config(env={}).content.app_categories
    assert mapping == {
        **dict.fromkeys(["CHANNEL", "DSHD", "KPLUS", "KPlus"], "Truyen Hinh"),
        **dict.fromkeys(
            ["VOD", "FIMS", "FIMS_RES", "BHD", "BHD_RES", "VOD_RES", "DANET"], "Phim Truyen"
        ),
        "RELAX": "Giai Tri",
        "CHILD": "Thieu Nhi",
        "SPORT": "The Thao",
    }


def test_toml_file_overrides_defaults(tmp_path: Path) -> None:
    path = _toml(tmp_path, THREADS_3 + '[paths]\nwarehouse = "out/c.duckdb"\n', "my.toml")
    config = load_config(path, env={})
    assert config.engine.threads == 3
    assert config.paths.warehouse == "out/c.duckdb"
    assert config.engine.name == "duckdb"  # untouched keys keep their defaults


def test_c360_toml_in_the_working_folder_is_read(tmp_path: Path) -> None:
    _toml(tmp_path, THREADS_3)
    assert load_config(env={}).engine.threads == 3


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    path = _toml(tmp_path, THREADS_3)
    config = load_config(path, env={"C360__ENGINE__THREADS": "5"})
    assert config.engine.threads == 5


def test_environment_text_value(tmp_path: Path) -> None:
    config = load_config(env={"C360__ENGINE__MEMORY_LIMIT": "4GB"})
    assert config.engine.memory_limit == "4GB"


def test_cli_overrides_beat_the_environment(tmp_path: Path) -> None:
    path = _toml(tmp_path, THREADS_3)
    config = load_config(path, env={"C360__ENGINE__THREADS": "5"}, overrides={"engine.threads": 7})
    assert config.engine.threads == 7


def test_none_override_is_ignored(tmp_path: Path) -> None:
    path = _toml(tmp_path, THREADS_3)
    env = {"C360__ENGINE__THREADS": "5"}
    assert load_config(path, env=env, overrides={"engine.threads": None}).engine.threads == 5
    assert load_config(path, env={}, overrides={"engine.threads": None}).engine.threads == 3
    assert load_config(env={}, overrides={"engine.name": None}).engine.name == "duckdb"


def test_invalid_value_in_the_file_names_key_and_file(tmp_path: Path) -> None:
    path = _toml(tmp_path, "[engine]\nthreads = 0\n")
    with pytest.raises(ConfigError) as err:
        load_config(path, env={})
    message = str(err.value)
    assert "engine.threads" in message
    assert str(path) in message
    assert "\n" not in message


def test_invalid_value_in_the_environment_names_key_and_variable() -> None:
    with pytest.raises(ConfigError) as err:
        load_config(env={"C360__ENGINE__THREADS": "many"})
    message = str(err.value)
    assert "engine.threads" in message
    assert "environment variable C360__ENGINE__THREADS" in message


def test_invalid_value_on_the_command_line_names_key_and_flag(tmp_path: Path) -> None:
    path = _toml(tmp_path, THREADS_3)
    with pytest.raises(ConfigError) as err:
        load_config(path, env={"C360__ENGINE__THREADS": "5"}, overrides={"engine.threads": 0})
    message = str(err.value)
    assert "engine.threads" in message
    assert "command-line flag --threads" in message


def test_invalid_engine_flag_names_the_engine_flag() -> None:
    """The ``run --engine`` flag sets ``engine.name``; the message must name ``--engine``."""
    with pytest.raises(ConfigError) as err:
        load_config(env={}, overrides={"engine.name": "pandas"})
    message = str(err.value)
    assert "engine.name" in message
    assert "command-line flag --engine" in message


def test_invalid_engine_name_in_the_environment() -> None:
    with pytest.raises(ConfigError, match="C360__ENGINE__NAME"):
        load_config(env={"C360__ENGINE__NAME": "pandas"})


def test_unknown_key_in_the_file_is_rejected(tmp_path: Path) -> None:
    path = _toml(tmp_path, "[engine]\nthread = 2\n")
    with pytest.raises(ConfigError) as err:
        load_config(path, env={})
    message = str(err.value)
    assert "engine.thread" in message
    assert "unknown key" in message
    assert str(path) in message


def test_unknown_section_is_rejected(tmp_path: Path) -> None:
    path = _toml(tmp_path, "[engines]\nthreads = 2\n")
    with pytest.raises(ConfigError, match="engines"):
        load_config(path, env={})


def test_unknown_key_in_the_environment_is_rejected() -> None:
    with pytest.raises(ConfigError) as err:
        load_config(env={"C360__ENGINE__SPEED": "3"})
    assert "engine.speed" in str(err.value)
    assert "C360__ENGINE__SPEED" in str(err.value)


def test_environment_variable_without_a_key_is_rejected() -> None:
    with pytest.raises(ConfigError, match="C360__ENGINE"):
        load_config(env={"C360__ENGINE": "duckdb"})


def test_unrelated_environment_variables_are_ignored() -> None:
    config = load_config(env={"C360_ENGINE__THREADS": "x", "PATH": "/bin", "ENGINE": "spark"})
    assert config.engine.threads is None
    assert config.engine.name == "duckdb"


def test_app_categories_table_replaces_the_mapping(tmp_path: Path) -> None:
    path = _toml(
        tmp_path,
        '[content.app_categories]\nCHANNEL = "Truyen Hinh"\nAPP = "Giai Tri"\nNEWS = "Other"\n',
    )
    config = load_config(path, env={})
    assert config.content.app_categories == {
        "CHANNEL": "Truyen Hinh",
        "APP": "Giai Tri",
        "NEWS": "Other",
    }
    assert config.content.max_duration == 86_400


def test_app_category_outside_the_five_and_other_is_rejected(tmp_path: Path) -> None:
    path = _toml(tmp_path, '[content.app_categories]\nAPP = "Music"\n')
    with pytest.raises(ConfigError) as err:
        load_config(path, env={})
    message = str(err.value)
    assert "content.app_categories" in message
    assert "Music" in message
    assert str(path) in message


def test_missing_explicit_config_file_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.toml"
    with pytest.raises(ConfigError, match=r"nowhere\.toml"):
        load_config(missing, env={})


def test_invalid_toml_is_an_error(tmp_path: Path) -> None:
    path = _toml(tmp_path, "[engine\nthreads = 2\n")
    with pytest.raises(ConfigError, match=re.escape(str(path))):
        load_config(path, env={})


def test_profile_thresholds_are_validated(tmp_path: Path) -> None:
    path = _toml(tmp_path, "[profile]\nlevel_high_above = 5\nlevel_low_below = 10\n")
    with pytest.raises(ConfigError, match="profile"):
        load_config(path, env={})
