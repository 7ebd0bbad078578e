"""Landed stream events on Spark (SPEC 8.2): the shapes of ``rules.live``'s DECODED_*_COLUMNS,
read as the DuckDB engine reads them (``engines.duckdb.VOTE_DECODE_SQL`` and
``VIEW_DECODE_SQL``).

A landed file arrives whole (the file source's ``wholetext``) and is split here into its lines,
numbered from 1; blank lines are dropped, as the DuckDB processor drops them. One
``try_parse_json`` a line; a field is kept as text only when its JSON type is a string, as
DuckDB's ``json_type`` tells it. A line Spark's parser refuses but DuckDB's reads (a duplicated
key, ``NaN``) is ``malformed_json`` here and decoded again by DuckDB's reader (D78).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from c360.engines.duckdb import EVENT_TIME_PATTERN

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

#: JSON integer types as Spark's ``schema_of_variant`` names them.
_INTEGERS = "('BIGINT', 'INT', 'SMALLINT', 'TINYINT')"


def _fields(stream: str, fields: dict[str, str]) -> str:
    """The stream's lines with their JSON value ``v`` and ``s``: the object's ``fields`` (name →
    Spark type; ``variant`` keeps the JSON type) from one traversal, null when ``v`` is not an
    object; and ``ts_text``, the ``timestamp`` when it is a JSON string."""
    struct = ", ".join(f"`{name}`: {kind}" for name, kind in fields.items())
    return f"""
    SELECT *, CASE WHEN schema_of_variant(s.timestamp) = 'STRING'
        THEN try_variant_get(s.timestamp, '$', 'string') END AS ts_text
    FROM (
        SELECT *, v IS NOT NULL AS json_ok,
            coalesce(schema_of_variant(v) LIKE 'OBJECT%', FALSE) AS is_object,
            try_variant_get(v, '$', 'struct<{struct}>') AS s
        FROM (SELECT *, try_parse_json(line) AS v FROM {{relation}} WHERE stream = '{stream}')
    )"""


def _text(field: str) -> str:
    """``s.field`` when it is a JSON string."""
    value = f"s.{field}"
    return (
        f"CASE WHEN schema_of_variant({value}) = 'STRING' "
        f"THEN try_variant_get({value}, '$', 'string') END"
    )


# The pattern admits only what both engines read alike; a cast then reads the date and time
# (null for a day or an hour that does not exist), faster than a parser per format.
_EVENT_TIME = (
    f"CASE WHEN ts_text RLIKE '{EVENT_TIME_PATTERN.replace(chr(92), chr(92) * 2)}' THEN "
    "try_cast(regexp_replace(ts_text, '(Z|[+]00:00)$', '') AS TIMESTAMP_NTZ) END"
)
_VOTE_FIELDS = dict.fromkeys(("id", "user_id", "song", "vote", "timestamp"), "variant")
VOTE_DECODE_SQL = f"""
SELECT file, line_no, line AS raw, json_ok, is_object,
    {_text("id")} AS record_id, {_text("user_id")} AS user_id, {_text("song")} AS song,
    coalesce(schema_of_variant(s.vote) = 'BOOLEAN' AND try_variant_get(s.vote, '$', 'boolean'),
        FALSE) AS vote_true,
    {_EVENT_TIME} AS ts
FROM ({_fields("votes", _VOTE_FIELDS)})
"""
# Contract and Mac are read as text whatever their JSON type, as the content decoders read
# `_source`'s.
_VIEW_FIELDS = {
    "id": "variant", "timestamp": "variant", "Contract": "string", "Mac": "string",
    "AppName": "variant", "TotalDuration": "variant",
}  # fmt: skip
VIEW_DECODE_SQL = f"""
SELECT file, line_no, line AS raw, json_ok, is_object,
    {_text("id")} AS record_id, {_EVENT_TIME} AS ts,
    s.Contract AS contract, s.Mac AS mac, {_text("AppName")} AS app_name,
    coalesce(schema_of_variant(s.TotalDuration) IN {_INTEGERS}, FALSE) AS duration_is_int,
    CASE WHEN schema_of_variant(s.TotalDuration) IN {_INTEGERS}
        THEN try_variant_get(s.TotalDuration, '$', 'bigint') END AS duration
FROM ({_fields("events", _VIEW_FIELDS)})
"""


def landed_lines(files: DataFrame) -> DataFrame:
    """``stream, file, line_no, line`` of the file source's rows (``value``: a whole landed
    file; ``path``: its path), blank lines left out."""
    from pyspark.sql import functions as f

    # A landed file's path is <landing>/<stream>/<folder>/<name>.
    parts = f.split("path", "/")
    lines = files.select(
        f.element_at(parts, -3).alias("stream"),
        f.element_at(parts, -1).alias("file"),
        f.posexplode(f.split("value", "\n")).alias("position", "line"),
    )
    return lines.select(
        "stream", "file", (f.col("position") + 1).cast("bigint").alias("line_no"), "line"
    ).where(~f.col("line").rlike(r"(?U)^\s*$"))
