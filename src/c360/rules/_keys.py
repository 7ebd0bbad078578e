"""Stable surrogate keys derived from natural keys (identical on every engine and every run)."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

#: Hex digits of the MD5 kept in a key: 15 × 4 = 60 bits, a positive BIGINT everywhere.
KEY_DIGITS = 15
#: Natural key standing for an unknown member (e.g. a row whose Mac was unusable).
UNKNOWN = "~unknown"
_HEX = "0123456789abcdef"


def with_surrogate_key(table: ir.Table, column: str, *, name: str) -> ir.Table:
    """Add ``name``: the first 60 bits of the MD5 of ``column`` as a BIGINT.

    MD5 gives the same digest on DuckDB, Spark, MySQL and PostgreSQL, and the hex digits are turned
    into an integer with portable string functions, so keys agree across engines and runs. Null
    natural keys take the key of ``~unknown``. Meant for dimensions (one MD5 per member); facts get
    their keys by joining to the dimensions.
    """
    digested = table.mutate(_digest=table[column].fill_null(UNKNOWN).hexdigest("md5"))
    key: ir.IntegerValue | None = None
    for position in range(KEY_DIGITS):
        digit = ibis.literal(_HEX).find(digested._digest.substr(position, 1)).cast("int64")
        key = digit if key is None else key * 16 + digit
    assert key is not None
    return digested.mutate(**{name: key}).drop("_digest")


def date_key(day: ir.DateValue) -> ir.IntegerValue:
    """``YYYYMMDD`` as an integer, the usual date-dimension key."""
    return (day.year() * 10_000 + day.month() * 100 + day.day()).cast("int32")
