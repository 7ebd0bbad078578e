"""The throw-away MariaDB and PostgreSQL databases of the sink tests, for the serving ones."""

from sinks.conftest import server

__all__ = ["server"]
