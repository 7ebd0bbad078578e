"""Warehouse sinks, chosen by the warehouse URL's scheme. Drivers load only when used."""

from __future__ import annotations

import re
from importlib import import_module
from typing import TYPE_CHECKING
from urllib.parse import SplitResult, urlsplit

from c360.errors import ConfigError, SinkError

if TYPE_CHECKING:
    from c360.sinks.base import Sink

#: URL scheme → "module:class". A bare path (``c360.duckdb``) means the DuckDB sink.
SINKS: dict[str, str] = {
    "duckdb": "c360.sinks.duckdb:DuckDBSink",
    "mysql": "c360.sinks.mysql:MySQLSink",
    "mariadb": "c360.sinks.mysql:MySQLSink",
    "postgresql": "c360.sinks.postgres:PostgresSink",
    "postgres": "c360.sinks.postgres:PostgresSink",
}
#: The extra that installs each scheme's driver.
EXTRAS = {"mysql": "mysql", "mariadb": "mysql", "postgresql": "postgres", "postgres": "postgres"}


def redact(url: str) -> str:
    """The URL with any password replaced by ``***`` (for messages and logs), even when the URL
    is malformed.

    >>> redact("mysql://me:secret@db:3306/c360")
    'mysql://me:***@db:3306/c360'
    >>> redact("postgresql://me:secret@[::1:5432/c360")
    'postgresql://me:***@[::1:5432/c360'
    """
    try:
        parts = urlsplit(url) if "://" in url else None
    except ValueError:
        return re.sub(r"(://[^/@:]*:)[^/@]*@", r"\1***@", url, count=1)
    if parts is None or parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


def split_url(url: str, *, what: str = "warehouse") -> SplitResult:
    """The parts of a server URL, its port checked.

    Raises:
        ConfigError: the URL cannot be parsed (an unclosed ``[`` of an IPv6 host) or its port
        is not a number from 1 to 65535.
    """
    scheme = url.partition("://")[0] or "postgresql"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        port, problem = None, str(exc)
    else:
        problem = "" if port != 0 else "port out of range"
    if problem:
        reason = (
            "the port is not a number from 1 to 65535"
            if "port" in problem.lower()
            else "an IPv6 host needs its closing bracket, e.g. [::1]:5432"
            if "IPv6" in problem
            else problem
        )
        raise ConfigError(
            f"{what} {redact(url)!r} is not a valid URL ({reason}); write it as "
            f"{scheme}://user@host:port/database"
        )
    return parts


def create_sink(url: str) -> Sink:
    """The sink for a warehouse URL or path.

    >>> create_sink("out/c360.duckdb").describe()
    'out/c360.duckdb'
    """
    scheme = split_url(url).scheme.lower() if "://" in url else "duckdb"
    target = SINKS.get(scheme)
    if target is None:
        raise ConfigError(
            f"unknown warehouse {redact(url)!r}: give a .duckdb file path or a URL "
            f"({', '.join(s + '://' for s in sorted(SINKS))})"
        )
    module_name, _, class_name = target.partition(":")
    try:
        module = import_module(module_name)
    except ModuleNotFoundError as exc:  # pragma: no cover - depends on the install
        raise SinkError(
            f"the {scheme} warehouse needs {exc.name}: pip install 'c360[{EXTRAS[scheme]}]'"
        ) from exc
    sink_class: type[Sink] = getattr(module, class_name)
    return sink_class(url)
