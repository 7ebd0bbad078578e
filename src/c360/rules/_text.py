"""Text a warehouse can store: the same limits on every sink, applied by the rules."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

#: The longest text a key column holds on every warehouse (MariaDB indexes VARCHAR(255)).
MAX_TEXT = 255


@ibis.udf.scalar.builtin(name="chr")  # type: ignore[untyped-decorator]
def _chr(code: int) -> str:  # type: ignore[empty-body]
    """The character of ``code`` (DuckDB's and Spark's ``chr``): a NUL cannot be a literal in
    the SQL text."""


def storable(text: ir.StringValue) -> ir.BooleanValue:
    """Text every warehouse can hold in a key column: at most :data:`MAX_TEXT` characters and
    no NUL (PostgreSQL's text cannot hold one). Null when ``text`` is null."""
    return (text.length() <= MAX_TEXT) & ~text.contains(_chr(0))


def escape_nul(text: ir.StringValue) -> ir.StringValue:
    """``text`` with each NUL written as the JSON escape ``\\u0000``: for raw values kept in a
    quarantine, so what was read stays readable and every warehouse can hold it."""
    return text.replace(_chr(0), "\\u0000")
