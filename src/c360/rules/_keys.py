"""Stable surrogate keys derived from natural keys (identical on every engine and every run)."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

#: Hex digits of the MD5 kept in a key: 15 × 4 = 60 bits, a positive BIGINT everywhere.
KEY_DIGITS = 15
#: Natural key standing for an unknown member (e.g. a row whose Mac was unusable).
UNKNOWN = "~unknown"
#: Name of the engine function that computes a key; every engine defines it in its session
#: (see ``KEY_FUNCTION_SQL`` in the engines), so the rules stay one portable expression.
KEY_FUNCTION = "c360_key"


@ibis.udf.scalar.builtin(name=KEY_FUNCTION)  # type: ignore[untyped-decorator]
def _engine_key(value: str) -> int:  # type: ignore[empty-body]
    """``int(md5(value).hexdigest()[:15], 16)``, computed by the engine."""


def surrogate_key(value: ir.StringValue) -> ir.IntegerValue:
    """The first 60 bits of the MD5 of ``value`` as a BIGINT; null takes the key of ``~unknown``.

    MD5 gives the same digest on DuckDB, Spark, MySQL and PostgreSQL, so keys agree across
    engines and runs. The hex-to-integer step is an engine function (one native expression
    instead of fifteen string operations: cheap enough to run on every fact row).
    """
    return _engine_key(value.fill_null(UNKNOWN)).cast("int64")


def with_surrogate_key(table: ir.Table, column: str, *, name: str) -> ir.Table:
    """Add ``name``: :func:`surrogate_key` of ``column``."""
    return table.mutate(**{name: surrogate_key(table[column])})


def date_key(day: ir.DateValue) -> ir.IntegerValue:
    """``YYYYMMDD`` as an integer, the usual date-dimension key."""
    return (day.year() * 10_000 + day.month() * 100 + day.day()).cast("int32")
