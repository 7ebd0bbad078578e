"""Property: any bytes in a content file are accounted for, line by line, and never crash a run."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _support import content_line
from c360.config import ContentConfig
from c360.engines.duckdb import DuckDBEngine
from c360.io.files import SourceFile, scan
from c360.rules.content import line_counts, validate_content

DAY = date(2022, 4, 1)
CFG = ContentConfig()

valid_lines = st.builds(
    content_line,
    st.sampled_from(["HNH579912", "0", "", "sgj1", "113.182.209.48", "AB1234567"]),
    mac=st.one_of(st.none(), st.text(max_size=14)),
    duration=st.one_of(st.integers(-5, 90_000), st.floats(allow_nan=False), st.text(max_size=3)),
    app=st.one_of(st.sampled_from(["CHANNEL", "VOD", "APP", ""]), st.integers()),
)
junk_lines = st.text(alphabet=st.characters(blacklist_characters="\n\r"), max_size=40)
raw_bytes = st.binary(max_size=40).map(lambda b: b.replace(b"\n", b" ").replace(b"\r", b" "))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    lines=st.lists(
        st.one_of(valid_lines.map(str.encode), junk_lines.map(str.encode), raw_bytes), max_size=12
    )
)
def test_every_non_blank_line_is_accepted_or_quarantined(
    engine: DuckDBEngine, tmp_path_factory: pytest.TempPathFactory, lines: list[bytes]
) -> None:
    folder = tmp_path_factory.mktemp("fuzz")
    path = folder / "20220401.json"
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    file_scan = scan(path)
    stat = path.stat()
    source = SourceFile(path, DAY, stat.st_size, stat.st_mtime_ns)
    decoded = engine.decode_content([source], plain_text=file_scan.plain_text)
    validated = validate_content(
        decoded, contract_pattern=CFG.contract_pattern, max_duration=CFG.max_duration
    )
    bronze_path = folder / "bronze.parquet"
    written = engine.write_parquet(validated, bronze_path)
    assert written == len(lines), "one bronze row per physical line"
    counts = engine.to_pyarrow(line_counts(engine.read_parquet([bronze_path]))).to_pylist()
    # Blank = only ASCII whitespace (RE2's \s: space, tab, form feed; CR/LF never occur here).
    non_blank = sum(1 for line in lines if line.strip(b" \t\x0c"))
    if lines:
        [row] = counts
        assert row["rows_accepted"] + row["rows_quarantined"] == row["rows_read"]
        assert row["rows_read"] == non_blank
