"""Warehouse sinks, chosen by the warehouse URL's scheme. Drivers load only when used."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from c360.errors import ConfigError, SinkError

if TYPE_CHECKING:
    from c360.sinks.base import Sink

#: URL scheme → "module:class". A bare path (``c360.duckdb``) means the DuckDB sink.
SINKS: dict[str, str] = {
    "duckdb": "c360.sinks.duckdb:DuckDBSink",
}
PLANNED = {"mysql", "mariadb", "postgresql", "postgres"}


def create_sink(url: str) -> Sink:
    """The sink for a warehouse URL or path.

    >>> create_sink("out/c360.duckdb").describe()
    'out/c360.duckdb'
    """
    scheme = urlsplit(url).scheme.lower() if "://" in url else "duckdb"
    target = SINKS.get(scheme)
    if target is None:
        if scheme in PLANNED:
            raise ConfigError(
                f"warehouse {scheme}:// is not supported yet; use a .duckdb file path"
            )
        raise ConfigError(
            f"unknown warehouse {url!r}: give a .duckdb file path "
            f"(schemes: {', '.join(sorted(SINKS))})"
        )
    module_name, _, class_name = target.partition(":")
    try:
        module = import_module(module_name)
    except ModuleNotFoundError as exc:  # pragma: no cover - depends on the install
        raise SinkError(
            f"the {scheme} sink needs {exc.name}: pip install 'c360[{scheme}]'"
        ) from exc
    sink_class: type[Sink] = getattr(module, class_name)
    return sink_class(url)
