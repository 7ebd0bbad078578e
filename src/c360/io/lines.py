"""The exact line splitter, for files the fast reader cannot take as they are.

Files with bytes that are not UTF-8, or with the fast reader's delimiter byte, are split here: every
physical line is kept, in order, with undecodable bytes replaced (U+FFFD) and flagged, so such a
line is quarantined with its reason instead of stopping the run. It holds one file in memory, which
is fine for the rare file that needs it.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pyarrow as pa


def read_lines(path: Path) -> pa.Table:
    """Columns ``line`` (str) and ``encoding_ok`` (bool), one row per physical line."""
    data = path.read_bytes()
    if path.name.lower().endswith(".gz"):
        data = gzip.decompress(data)
    pieces = data.split(b"\n")
    if pieces and pieces[-1] == b"":
        pieces.pop()  # the newline that ends the last line does not start another
    lines: list[str] = []
    ok: list[bool] = []
    for piece in pieces:
        if piece.endswith(b"\r"):
            piece = piece[:-1]
        try:
            lines.append(piece.decode("utf-8"))
            ok.append(True)
        except UnicodeDecodeError:
            lines.append(piece.decode("utf-8", errors="replace"))
            ok.append(False)
    return pa.table({"line": pa.array(lines, pa.string()), "encoding_ok": pa.array(ok, pa.bool_())})
