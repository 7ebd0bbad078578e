"""Compute engines, by name. Heavy drivers are imported only when an engine is created."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from c360.errors import ConfigError, EngineError

if TYPE_CHECKING:
    from c360.config import EngineConfig
    from c360.engines.base import Engine

#: Engine name → "module:class". Every engine has the same shape (see engines/base.py).
ENGINES: dict[str, str] = {
    "duckdb": "c360.engines.duckdb:DuckDBEngine",
    "spark": "c360.engines.spark:SparkEngine",
}


def create_engine(config: EngineConfig, *, scratch: str | None = None) -> Engine:
    """Instantiate the configured engine.

    Raises:
        ConfigError: unknown engine name.
        EngineError: the engine's libraries are not installed or it cannot start.
    """
    target = ENGINES.get(config.name)
    if target is None:
        raise ConfigError(f"unknown engine {config.name!r}; choose one of {', '.join(ENGINES)}")
    module_name, _, class_name = target.partition(":")
    try:
        module = import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            raise EngineError(
                f"engine {config.name!r} is not available in this version of c360; "
                "use --engine duckdb"
            ) from exc
        raise EngineError(
            f"engine {config.name!r} is not available here ({exc.name} is not installed); "
            f"install it with: pip install 'c360[{config.name}]'"
        ) from exc
    engine_class: type[Engine] = getattr(module, class_name)
    return engine_class(config, scratch=scratch)
