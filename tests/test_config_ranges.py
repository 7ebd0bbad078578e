"""Every setting is range-checked when the configuration is loaded, and an error names the layer
that really set the value (the file, the variable or the flag), not the defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from c360.config import load_config, memory_bytes
from c360.errors import ConfigError


@pytest.fixture(autouse=True)
def _empty_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No ./c360.toml unless a test writes one."""
    monkeypatch.chdir(tmp_path)


def _error(**layers: object) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(**layers)  # type: ignore[arg-type]
    message = str(caught.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        pytest.param(
            "C360__CONTENT__MAX_DURATION",
            "99999999999999999999",
            "content.max_duration from environment variable C360__CONTENT__MAX_DURATION: "
            "Input should be less than or equal to 2147483647",
            id="max-duration-overflows-int64",
        ),
        pytest.param(
            "C360__ENGINE__THREADS",
            "100000000",
            "engine.threads from environment variable C360__ENGINE__THREADS: "
            "Input should be less than or equal to 1024",
            id="threads",
        ),
        pytest.param(
            "C360__ENGINE__SPARK_SHUFFLE_PARTITIONS",
            "1e12",
            "engine.spark_shuffle_partitions from environment variable "
            "C360__ENGINE__SPARK_SHUFFLE_PARTITIONS: Input should be less than or equal to 100000",
            id="shuffle-partitions",
        ),
        pytest.param(
            "C360__QUALITY__DRIFT_RUNS",
            "5000",
            "quality.drift_runs from environment variable C360__QUALITY__DRIFT_RUNS: Input "
            "should be less than or equal to 1000",
            id="drift-runs",
        ),
        pytest.param(
            "C360__PROFILE__LEVEL_LOW_BELOW",
            "-3",
            "profile.level_low_below from environment variable C360__PROFILE__LEVEL_LOW_BELOW: "
            "Input should be greater than or equal to 0",
            id="level-below-zero",
        ),
        pytest.param(
            "C360__CLASSIFY__LLM_TIMEOUT",
            "0",
            "classify.llm_timeout from environment variable C360__CLASSIFY__LLM_TIMEOUT: Input "
            "should be greater than 0",
            id="llm-timeout",
        ),
    ],
)
def test_a_number_out_of_range_is_refused(variable: str, value: str, expected: str) -> None:
    assert _error(env={variable: value}) == f"invalid configuration {expected}"


def test_threads_out_of_range_in_the_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "c360.toml"
    path.write_text("[engine]\nthreads = 100000000\n")
    assert _error(env={}) == (
        f"invalid configuration engine.threads from {path.name}: "
        "Input should be less than or equal to 1024"
    )


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_a_threshold_that_is_not_a_finite_number_is_refused(tmp_path: Path, value: str) -> None:
    path = tmp_path / "c360.toml"
    path.write_text(f"[quality.thresholds]\ncontent_reject_rate = {value}\n")
    assert _error(env={}) == (
        f"invalid configuration quality.thresholds.content_reject_rate from {path.name}: "
        "Input should be a finite number"
    )


def test_a_nan_classifier_threshold_is_refused() -> None:
    assert _error(env={"C360__CLASSIFY__THRESHOLD": "NaN"}) == (
        "invalid configuration classify.threshold from environment variable "
        "C360__CLASSIFY__THRESHOLD: Input should be a finite number"
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1KB", "'1KB' is too small: the engine needs 128MB or more (e.g. 4GB)"),
        ("100MB", "'100MB' is too small: the engine needs 128MB or more (e.g. 4GB)"),
        ("80%", "'80%' is not a memory size; write e.g. 4GB or 512MB"),
        ("4000000000", "'4000000000' is not a memory size; write e.g. 4GB or 512MB"),
        ("lots", "'lots' is not a memory size; write e.g. 4GB or 512MB"),
    ],
)
def test_a_memory_limit_duckdb_cannot_run_with_is_refused(value: str, expected: str) -> None:
    message = _error(env={}, overrides={"engine.memory_limit": value})
    assert message == (
        f"invalid configuration engine.memory_limit from command-line flag --memory-limit: "
        f"{expected}"
    )


@pytest.mark.parametrize("value", ["4GB", "4 GB", "512mb", "1.5GiB", "2g", "128MB"])
def test_memory_limits_duckdb_reads_are_accepted(value: str) -> None:
    assert (
        load_config(env={}, overrides={"engine.memory_limit": value}).engine.memory_limit == value
    )


def test_memory_sizes_use_duckdbs_units() -> None:
    assert memory_bytes("4GB") == 4 * 10**9
    assert memory_bytes("512 MiB") == 512 * 2**20
    assert memory_bytes("1.5g") == 15 * 10**8


def test_a_spark_driver_memory_the_jvm_cannot_read_is_refused() -> None:
    assert _error(env={"C360__ENGINE__SPARK_DRIVER_MEMORY": "two gigs"}) == (
        "invalid configuration engine.spark_driver_memory from environment variable "
        "C360__ENGINE__SPARK_DRIVER_MEMORY: 'two gigs' is not a JVM memory size; write e.g. 2g "
        "or 512m"
    )


@pytest.mark.parametrize("key", ["content.contract_pattern", "search.user_pattern"])
def test_a_pattern_that_is_not_a_regular_expression_is_refused(key: str) -> None:
    message = _error(env={}, overrides={key: "[0-9"})
    assert message.startswith(f"invalid configuration {key} from command-line flag")
    assert "'[0-9' is not a regular expression (unterminated character set" in message


# -- the true source of an error ----------------------------------------------------------------


def test_a_typod_section_in_the_file_names_the_file_and_the_section_meant(tmp_path: Path) -> None:
    path = tmp_path / "c360.toml"
    path.write_text("[engin]\nthreads = 2\n")
    assert _error(env={}) == (
        f"invalid configuration engin from {path.name}: unknown section; did you mean engine? "
        "known: classify, content, engine, paths, profile, quality, search, stream"
    )


def test_a_typod_section_in_the_environment_names_the_variable() -> None:
    assert _error(env={"C360__ENGIN__THREADS": "2"}).startswith(
        "invalid configuration engin from environment variable C360__ENGIN__THREADS: "
        "unknown section; did you mean engine?"
    )


def test_a_typod_key_names_the_key_meant() -> None:
    message = _error(env={"C360__ENGINE__THRAEDS": "2"})
    assert message.startswith(
        "invalid configuration engine.thraeds from environment variable C360__ENGINE__THRAEDS: "
        "unknown key; did you mean threads? known: memory_limit, name,"
    )


def test_an_error_about_a_whole_section_names_every_layer_that_set_it(tmp_path: Path) -> None:
    path = tmp_path / "c360.toml"
    path.write_text("[profile]\nlevel_high_above = 5\n")
    assert _error(env={}) == (
        f"invalid configuration profile from {path.name}: level_low_below must not exceed "
        "level_high_above"
    )
    assert _error(env={"C360__PROFILE__LEVEL_LOW_BELOW": "7"}) == (
        f"invalid configuration profile from {path.name} and environment variable "
        "C360__PROFILE__LEVEL_LOW_BELOW: level_low_below must not exceed level_high_above"
    )
