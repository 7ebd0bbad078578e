"""Typed, layered configuration.

Precedence, lowest to highest: built-in defaults < ``c360.toml`` < ``C360__SECTION__KEY``
environment variables < CLI flags. Unknown keys are rejected, and a bad value is reported in one
line that names the key and the source that set it (the file, the variable or the flag).
Secrets never live here: they are read from the environment by the component that needs them.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from c360.errors import ConfigError

ENV_PREFIX = "C360__"
#: The CLI flag behind each configuration key the CLI can set, for error messages.
CLI_FLAGS = {
    "engine.name": "--engine",
    "engine.threads": "--threads",
    "engine.memory_limit": "--memory-limit",
    "engine.spark_master": "--spark-master",
    "paths.warehouse": "--warehouse",
    "paths.lake": "--lake",
    "quality.allow_failures": "--allow-dq-failures",
    "classify.llm_timeout": "--llm-timeout",
}
DEFAULT_CONFIG_FILE = "c360.toml"

#: The five content categories in canonical order (used for ties and for ``taste``), with the
#: column each one gets in ``customer_content_stats``.
CATEGORIES: tuple[tuple[str, str], ...] = (
    ("Truyen Hinh", "truyen_hinh"),
    ("Phim Truyen", "phim_truyen"),
    ("Giai Tri", "giai_tri"),
    ("Thieu Nhi", "thieu_nhi"),
    ("The Thao", "the_thao"),
)
OTHER_CATEGORY = "Other"

DEFAULT_APP_CATEGORIES: dict[str, str] = {
    "CHANNEL": "Truyen Hinh",
    "DSHD": "Truyen Hinh",
    "KPLUS": "Truyen Hinh",
    "KPlus": "Truyen Hinh",
    "VOD": "Phim Truyen",
    "FIMS": "Phim Truyen",
    "FIMS_RES": "Phim Truyen",
    "BHD": "Phim Truyen",
    "BHD_RES": "Phim Truyen",
    "VOD_RES": "Phim Truyen",
    "DANET": "Phim Truyen",
    "RELAX": "Giai Tri",
    "CHILD": "Thieu Nhi",
    "SPORT": "The Thao",
}


#: Upper bounds of the numeric settings: past them a value is a typo, not a choice, and would
#: fail later in an engine (an integer overflow, a thread that cannot start).
MAX_THREADS = 1024
MAX_DURATION = 2**31 - 1
#: The smallest DuckDB memory limit that reads a day of logs (below it every write fails).
MIN_MEMORY_BYTES = 128 * 10**6
_MEMORY_UNITS = {
    "b": 1, "byte": 1, "bytes": 1,
    "k": 10**3, "kb": 10**3, "kilobyte": 10**3, "kilobytes": 10**3,
    "m": 10**6, "mb": 10**6, "megabyte": 10**6, "megabytes": 10**6,
    "g": 10**9, "gb": 10**9, "gigabyte": 10**9, "gigabytes": 10**9,
    "t": 10**12, "tb": 10**12, "terabyte": 10**12, "terabytes": 10**12,
    "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40,
}  # fmt: skip


def memory_bytes(text: str) -> int:
    """Bytes of a memory size as DuckDB reads it (``4GB``, ``512 MiB``, ``1.5g``).

    >>> memory_bytes("4GB"), memory_bytes("1 KiB")
    (4000000000, 1024)
    """
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([A-Za-z]+)\s*", text)
    unit = _MEMORY_UNITS.get(match.group(2).lower()) if match else None
    if match is None or unit is None:
        raise ValueError(f"{text!r} is not a memory size; write e.g. 4GB or 512MB")
    return int(float(match.group(1)) * unit)


def _regex(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"{pattern!r} is not a regular expression ({exc})") from exc
    return pattern


class _Section(BaseModel):
    # nan and inf are refused everywhere: a nan threshold would pass every comparison unseen.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class ContentConfig(_Section):
    """Validation and categorisation of content rows (SPEC 2.1, 2.2)."""

    contract_pattern: str = r"^[A-Z]{2}[A-Z0-9]{3,14}$"
    max_duration: int = Field(86_400, ge=1, le=MAX_DURATION)
    #: A longer line is quarantined as ``line_too_long`` (not parsed; its first 4,096
    #: characters are kept).
    max_line_bytes: int = Field(1 << 20, ge=4096, le=1 << 30)
    app_categories: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_APP_CATEGORIES))

    @field_validator("contract_pattern")
    @classmethod
    def _pattern(cls, value: str) -> str:
        return _regex(value)

    @field_validator("app_categories")
    @classmethod
    def _known_categories(cls, value: dict[str, str]) -> dict[str, str]:
        allowed = {name for name, _ in CATEGORIES} | {OTHER_CATEGORY}
        for app, category in value.items():
            if category not in allowed:
                raise ValueError(
                    f"app {app!r} maps to {category!r}; allowed: {', '.join(sorted(allowed))}"
                )
        return value


#: The 13 genres and Other of the search taxonomy (SPEC 2.6), in a fixed order.
SEARCH_CATEGORIES: tuple[str, ...] = (
    "Action",
    "Romance",
    "Comedy",
    "Horror",
    "Animation",
    "Drama",
    "C Drama",
    "K Drama",
    "Sports",
    "Music",
    "Reality Show",
    "TV Channel",
    "News",
    "Other",
)


class SearchConfig(_Section):
    """Validation and normalisation of search rows (SPEC 2.5)."""

    user_pattern: str = r"^[0-9]{1,12}$"
    #: Keywords that are not searches (voice-search prompts), compared after normalisation.
    placeholders: tuple[str, ...] = ("tìm kiếm bằng giọng nói", "voice search")

    @field_validator("user_pattern")
    @classmethod
    def _pattern(cls, value: str) -> str:
        return _regex(value)


class ClassifyConfig(_Section):
    """The offline keyword classifier (SPEC 2.7)."""

    #: Answers the model is less sure of than this (probability of its best genre) are Unknown.
    threshold: float = Field(0.4, ge=0.0, le=1.0)
    #: Seconds an LLM request may take before it counts as a timeout (and is retried).
    llm_timeout: float = Field(60.0, gt=0.0, le=3600.0)
    #: The longest wait (seconds) a server's ``Retry-After`` is honoured for; a longer one is cut
    #: to it (and said).
    llm_max_wait: float = Field(120.0, ge=0.0, le=3600.0)


class ProfileConfig(_Section):
    """Thresholds of the customer profile (SPEC 2.3)."""

    #: Lower bounds (in active days) of the five activeness levels, ascending.
    activeness_bounds: tuple[int, int, int, int, int] = (1, 8, 15, 22, 29)
    activeness_labels: tuple[str, str, str, str, str] = (
        "very low",
        "low",
        "moderate",
        "high",
        "very high",
    )
    #: ``level_activeness``: High when active days > high_above, Low when < low_below.
    level_high_above: int = Field(20, ge=0, le=MAX_DURATION)
    level_low_below: int = Field(10, ge=0, le=MAX_DURATION)

    @model_validator(mode="after")
    def _ascending(self) -> ProfileConfig:
        if not all(0 <= bound <= MAX_DURATION for bound in self.activeness_bounds):
            raise ValueError(f"activeness_bounds must be between 0 and {MAX_DURATION}")
        if list(self.activeness_bounds) != sorted(set(self.activeness_bounds)):
            raise ValueError("activeness_bounds must be strictly ascending")
        if self.level_low_below > self.level_high_above:
            raise ValueError("level_low_below must not exceed level_high_above")
        return self


#: Data quality checks by name, with their default threshold and severity (see
#: :mod:`c360.quality.checks`, which declares what each one measures).
CHECK_DEFAULTS: dict[str, tuple[float, str]] = {
    "content_reject_rate": (0.05, "fail"),
    "content_missing_days": (0.0, "warn"),
    "search_reject_rate": (0.40, "fail"),
    "search_missing_days": (0.0, "warn"),
    "search_null_user_rate": (0.40, "warn"),
    "search_null_keyword_rate": (0.15, "warn"),
    "unknown_device_rate": (0.10, "warn"),
    "primary_key": (0.0, "fail"),
    "foreign_key": (0.0, "fail"),
    "value_domain": (0.0, "fail"),
    "row_drift": (0.50, "warn"),
}
Severity = Literal["fail", "warn", "off"]


class QualityConfig(_Section):
    """Data quality checks: thresholds, severities, and whether failures stop the publish."""

    #: Per check: the largest observed value that passes (rates are shares, 0.05 = 5 %).
    thresholds: dict[str, float] = Field(default_factory=dict)
    #: Per check: ``fail`` stops the run before publishing, ``warn`` reports, ``off`` skips.
    severity: dict[str, Severity] = Field(default_factory=dict)
    #: Earlier successful runs whose median row counts ``row_drift`` compares against.
    drift_runs: int = Field(5, ge=1, le=1000)
    #: Publish even when a check fails (the run record says so).
    allow_failures: bool = False

    @field_validator("thresholds", "severity")
    @classmethod
    def _known_checks(cls, value: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(value) - set(CHECK_DEFAULTS))
        if unknown:
            raise ValueError(
                f"unknown check {unknown[0]!r}; known: {', '.join(sorted(CHECK_DEFAULTS))}"
            )
        for name, limit in value.items():
            if isinstance(limit, float) and limit < 0:
                raise ValueError(f"threshold of {name} must be >= 0")
        return value

    def threshold(self, check: str) -> float:
        return self.thresholds.get(check, CHECK_DEFAULTS[check][0])

    def severity_of(self, check: str) -> Severity:
        default: Severity = CHECK_DEFAULTS[check][1]  # type: ignore[assignment]
        return self.severity.get(check, default)


class EngineConfig(_Section):
    """The compute engine and its resources."""

    name: Literal["duckdb", "spark"] = "duckdb"
    #: Worker threads; ``None`` uses every core.
    threads: int | None = Field(None, ge=1, le=MAX_THREADS)
    #: Engine memory limit such as ``"4GB"``; past it DuckDB spills to ``temp_directory``. The
    #: default keeps a month of logs (SF1) under 4 GB of peak RSS; raise it on bigger machines.
    memory_limit: str | None = "3GB"
    #: Where the engine may spill; ``None`` uses a folder inside the lake.
    temp_directory: str | None = None
    #: Spark: the master URL (``local[*]``, ``spark://host:7077``, ``yarn``, ``k8s://…``).
    spark_master: str = "local[*]"
    #: Spark: driver memory (executors take theirs from ``spark_conf`` or spark-submit);
    #: ``None`` sizes it from the machine (``local[*]`` runs every task in the driver).
    spark_driver_memory: str | None = None
    #: Spark: partitions after a shuffle; small data on a few cores wants few.
    spark_shuffle_partitions: int = Field(8, ge=1, le=100_000)
    #: Spark: any other setting, e.g. ``{"spark.executor.memory" = "4g"}``.
    spark_conf: dict[str, str] = Field(default_factory=dict)

    @field_validator("memory_limit")
    @classmethod
    def _memory(cls, value: str | None) -> str | None:
        if value is not None and memory_bytes(value) < MIN_MEMORY_BYTES:
            raise ValueError(f"{value!r} is too small: the engine needs 128MB or more (e.g. 4GB)")
        return value

    @field_validator("spark_driver_memory")
    @classmethod
    def _jvm_memory(cls, value: str | None) -> str | None:
        jvm_size = r"[0-9]+[kmgtp]?b?"
        if value is not None and not re.fullmatch(jvm_size, value.strip(), re.IGNORECASE):
            raise ValueError(f"{value!r} is not a JVM memory size; write e.g. 2g or 512m")
        return value


class PathsConfig(_Section):
    """Where outputs go."""

    warehouse: str = "c360.duckdb"
    lake: Path = Path("data/lake")


class StreamConfig(_Section):
    """The streaming processor (SPEC 8.2): event-time bounds and micro-batch sizes."""

    #: The watermark trails the latest event time by this much: the window state kept (the
    #: widest window is 10 minutes, so an event older than the watermark is in no window).
    lateness_s: int = Field(600, ge=600, le=86_400)
    #: An event time more than this ahead of the processor's clock is ``future_timestamp``.
    max_future_s: int = Field(300, ge=0, le=86_400)
    #: An event time more than this behind the stream's latest event time is ``too_old``.
    max_age_s: int = Field(86_400, ge=600, le=366 * 86_400)
    #: At most this many landed events in one micro-batch.
    max_batch_events: int = Field(200_000, ge=1, le=10_000_000)
    #: Events asked of the source in one poll.
    poll_count: int = Field(1000, ge=1, le=10_000)


class C360Config(_Section):
    """The whole configuration."""

    content: ContentConfig = Field(default_factory=ContentConfig)
    search: SearchConfig = Field(default_factory=SearchConfig)
    classify: ClassifyConfig = Field(default_factory=ClassifyConfig)
    profile: ProfileConfig = Field(default_factory=ProfileConfig)
    engine: EngineConfig = Field(default_factory=EngineConfig)
    quality: QualityConfig = Field(default_factory=QualityConfig)
    paths: PathsConfig = Field(default_factory=PathsConfig)
    stream: StreamConfig = Field(default_factory=StreamConfig)


def load_config(
    file: Path | str | None = None,
    *,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    flags: Mapping[str, str] | None = None,
) -> C360Config:
    """Build the configuration from its layers.

    Args:
        file: a TOML file; ``None`` reads ``./c360.toml`` when it exists.
        env: the environment to read ``C360__SECTION__KEY`` variables from (default ``os.environ``).
        overrides: CLI values as dotted keys, e.g. ``{"engine.name": "duckdb"}``; ``None`` values
            are ignored so unset flags do not override lower layers.

    Raises:
        ConfigError: a value is invalid; the message names the key and its source.

    >>> load_config(env={}, overrides={"engine.threads": 2}).engine.threads
    2
    """
    layered: dict[str, Any] = {}
    sources: dict[tuple[str, ...], str] = {}

    path = Path(file) if file is not None else Path(DEFAULT_CONFIG_FILE)
    if file is not None and not path.is_file():
        raise ConfigError(f"config file {path} does not exist")
    if path.is_file():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: not valid TOML ({exc})") from exc
        _merge(layered, data, sources, source=str(path), prefix=())

    environ = os.environ if env is None else env
    for name, raw in sorted(environ.items()):
        if not name.startswith(ENV_PREFIX):
            continue
        keys = tuple(part.lower() for part in name[len(ENV_PREFIX) :].split("__") if part)
        if len(keys) < 2:
            raise ConfigError(f"environment variable {name}: expected C360__SECTION__KEY")
        _set(layered, keys, _parse_env_value(raw), sources, source=f"environment variable {name}")

    for dotted, value in (overrides or {}).items():
        if value is None:
            continue
        keys = tuple(dotted.split("."))
        flag = {**CLI_FLAGS, **(flags or {})}.get(dotted) or "--" + keys[-1].replace("_", "-")
        _set(layered, keys, value, sources, source=f"command-line flag {flag}")

    try:
        return C360Config.model_validate(layered)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, sources)) from exc


def _parse_env_value(raw: str) -> Any:
    """Environment values are JSON when they parse as JSON (numbers, lists, objects), else text."""
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw


def _merge(
    target: dict[str, Any],
    data: Mapping[str, Any],
    sources: dict[tuple[str, ...], str],
    *,
    source: str,
    prefix: tuple[str, ...],
) -> None:
    for key, value in data.items():
        # A mapping such as content.app_categories is one value, not a section to descend into.
        if isinstance(value, Mapping) and len(prefix) == 0:
            _merge(target, value, sources, source=source, prefix=(*prefix, key))
        else:
            _set(target, (*prefix, key), value, sources, source=source)


def _set(
    target: dict[str, Any],
    keys: tuple[str, ...],
    value: Any,
    sources: dict[tuple[str, ...], str],
    *,
    source: str,
) -> None:
    node = target
    for key in keys[:-1]:
        child = node.setdefault(key, {})
        if not isinstance(child, dict):
            raise ConfigError(f"{source}: {'.'.join(keys)} is inside a value, not a section")
        node = child
    node[keys[-1]] = value
    sources[keys] = source


def _describe(exc: ValidationError, sources: Mapping[tuple[str, ...], str]) -> str:
    error = exc.errors()[0]
    loc = tuple(str(part) for part in error["loc"])
    key = ".".join(loc) or "(root)"
    message = error["msg"]
    if error["type"] == "value_error":
        message = str(error.get("ctx", {}).get("error", message))
    elif error["type"] == "extra_forbidden":
        message = _unknown(loc)
    more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
    return f"invalid configuration {key} from {_origin(loc, sources)}: {message}{more}"


def _origin(loc: tuple[str, ...], sources: Mapping[tuple[str, ...], str]) -> str:
    """Who set the value at ``loc``: the layer that set it or a section around it, else the
    layers that set keys inside it (an error about a whole section), else the defaults."""
    for depth in range(len(loc), 0, -1):
        if loc[:depth] in sources:
            return sources[loc[:depth]]
    inside = dict.fromkeys(src for keys, src in sources.items() if keys[: len(loc)] == loc)
    return " and ".join(inside) or "defaults"


def _unknown(loc: tuple[str, ...]) -> str:
    """``unknown key`` with the keys known where it is, and the nearest one."""
    model: type[BaseModel] = C360Config
    for part in loc[:-1]:
        field = model.model_fields.get(part)
        annotation = field.annotation if field is not None else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return "unknown key"
        model = annotation
    known = sorted(model.model_fields)
    what = "section" if len(loc) == 1 else "key"
    near = difflib.get_close_matches(loc[-1], known, n=1)
    hint = f"did you mean {near[0]}? " if near else ""
    return f"unknown {what}; {hint}known: {', '.join(known)}"
