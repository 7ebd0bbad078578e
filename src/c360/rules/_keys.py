"""Stable surrogate keys derived from natural keys (identical on every engine and every run)."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

KEY_LENGTH = 16
#: Natural key standing for an unknown member (e.g. a row whose Mac was unusable).
UNKNOWN = "~unknown"


def surrogate_key(natural: ir.StringValue) -> ir.StringValue:
    """The first 16 hex digits of the MD5 of the natural key (64 bits; collisions negligible).

    Null natural keys map to the key of the ``~unknown`` member so facts never hold a null key.
    """
    value: ir.StringValue = natural.fill_null(UNKNOWN)
    return value.hexdigest("md5").left(KEY_LENGTH)


def date_key(day: ir.DateValue) -> ir.IntegerValue:
    """``YYYYMMDD`` as an integer, the usual date-dimension key."""
    return (day.year() * 10_000 + day.month() * 100 + day.day()).cast("int32")


def literal_date_key(value: object) -> ir.IntegerValue:
    return date_key(ibis.literal(value, type="date"))
