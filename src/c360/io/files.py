"""Finding daily input files and fingerprinting them."""

from __future__ import annotations

import codecs
import hashlib
import re
import zlib
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from c360.errors import InputError

if TYPE_CHECKING:
    import pyarrow as pa

#: The byte the fast line reader treats as a column delimiter (never valid inside JSON text).
DELIMITER = b"\x01"
#: A content file's name: its date and ``.json`` or ``.json.gz``, in any letter case.
CONTENT_NAME = re.compile(r"^(\d{8})\.json(\.gz)?$", re.IGNORECASE)
_CHUNK = 8 << 20


@dataclass(frozen=True)
class SourceFile:
    """One daily input file."""

    path: Path
    file_date: date
    size: int
    mtime_ns: int

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def gzip(self) -> bool:
        return self.name.lower().endswith(".gz")

    @property
    def usual_name(self) -> bool:
        """The suffix is in lower case: the engines' fast readers tell gzip by ``.gz``."""
        return self.name.endswith((".json", ".json.gz"))


@dataclass(frozen=True)
class Skipped:
    """An entry of an input folder that is not read, and why."""

    path: Path
    reason: str

    def __str__(self) -> str:
        return f"skipped {self.path}: {self.reason}"


def parse_day(text: str) -> date | None:
    """``20220401`` → ``date(2022, 4, 1)``; anything else → None.

    >>> parse_day("20220431") is None
    True
    """
    try:
        return datetime.strptime(text, "%Y%m%d").date()
    except ValueError:
        return None


class _Inflater:
    """Streaming gzip inflation that follows into further members (``cat a.gz b.gz`` is gzip)."""

    def __init__(self) -> None:
        self._inflate = zlib.decompressobj(wbits=31)

    def feed(self, data: bytes) -> bytes:
        out = []
        while data:
            if self._inflate.eof:
                self._inflate = zlib.decompressobj(wbits=31)
            out.append(self._inflate.decompress(data))
            data = self._inflate.unused_data if self._inflate.eof else b""
        return b"".join(out)

    @property
    def complete(self) -> bool:
        return self._inflate.eof


def _check_folder(folder: Path, kind: str) -> None:
    if not folder.exists():
        raise InputError(f"{kind} folder {folder} does not exist")
    if not folder.is_dir():
        raise InputError(f"{kind} path {folder} is not a folder")


def find_content_files(
    folder: Path, *, start: date | None = None, end: date | None = None
) -> tuple[list[SourceFile], list[Skipped]]:
    """Daily content files in ``folder`` within [start, end], sorted by date then name.

    Every entry of the folder is either a file returned here, outside the window, or skipped
    with its reason (a name that is not a day's, a folder, a broken link, a hidden file).

    Returns:
        The files, and the entries skipped (dates outside the window are not among them).

    Raises:
        InputError: the folder does not exist or is not a folder.
    """
    _check_folder(folder, "content")
    found: list[SourceFile] = []
    skipped: list[Skipped] = []
    for path in sorted(folder.iterdir()):
        match = CONTENT_NAME.match(path.name)
        day = parse_day(match.group(1)) if match else None
        reason = _not_a_day_file(path, day)
        if reason:
            skipped.append(Skipped(path, reason))
            continue
        assert day is not None  # _not_a_day_file said so
        if (start and day < start) or (end and day > end):
            continue
        stat = path.stat()
        found.append(SourceFile(path, day, stat.st_size, stat.st_mtime_ns))
    found.sort(key=lambda f: (f.file_date, f.name))
    return found, skipped


def _not_a_day_file(path: Path, day: date | None) -> str | None:
    """Why ``path`` is not read as a content file (None: it is one)."""
    if path.name.startswith((".", "_")):
        return "a hidden file"
    if day is None:
        if CONTENT_NAME.match(path.name) or path.name.lower().endswith((".json", ".json.gz")):
            return "the name is not a date (YYYYMMDD.json[.gz])"
        return "not a content file (YYYYMMDD.json or YYYYMMDD.json.gz)"
    if path.is_symlink() and not path.exists():
        return "a broken link (its target does not exist)"
    if path.is_dir():
        return "a folder, not a file"
    if not path.is_file():
        return "not a regular file"
    return None


@dataclass(frozen=True)
class FileScan:
    """What one pass over a file's bytes tells."""

    checksum: str  # SHA-256 of the bytes on disk
    #: The text is valid UTF-8 and free of the byte the fast line reader uses as a delimiter;
    #: when False the engine reads the file with the exact (slower) line splitter.
    plain_text: bool
    #: A line may be longer than the scan's ``long_line`` bytes (every longer line is caught;
    #: a line of at least half that may be flagged too). The exact splitter takes any length.
    long_line: bool = False


#: Lines longer than this are refused by default (``content.max_line_bytes``).
MAX_LINE_BYTES = 1 << 20


class _LineLengths:
    """Watches the distance between line ends across chunks, at memchr speed: each chunk is
    searched for a newline in windows of half the limit, so a longer line (which covers a
    whole window) cannot pass unseen."""

    def __init__(self, limit: int) -> None:
        self.window = max(1, limit // 2)
        self.limit = limit
        self.run = 0  # bytes since the last line end
        self.over = False

    def feed(self, text: bytes) -> None:
        if self.over:
            return
        first = text.find(b"\n")
        if first < 0:
            self.run += len(text)
            self.over = self.run > self.limit
            return
        if self.run + first > self.limit:
            self.over = True
            return
        last = text.rfind(b"\n")
        for start in range(first, last, self.window):
            if text.find(b"\n", start + 1, min(start + 1 + self.window, last + 1)) < 0:
                self.over = True
                return
        self.run = len(text) - last - 1

    def finish(self) -> bool:
        """Whether a line over the limit was seen (the last one, without a line end, too)."""
        self.over = self.over or self.run > self.limit
        return self.over


def scan(path: Path, *, long_line: int = MAX_LINE_BYTES) -> FileScan:
    """Checksum a file and check its text in one pass (~1.3 GB/s; gzip files are inflated).

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "20220401.json"
    >>> _ = p.write_bytes(b'{"a":1}\\n\\xff\\n')
    >>> scan(p).plain_text
    False
    """
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    inflate = _Inflater() if path.name.lower().endswith(".gz") else None
    lengths = _LineLengths(long_line)
    plain = True
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
            try:
                text = inflate.feed(chunk) if inflate else chunk
            except zlib.error as exc:
                raise InputError(f"{path}: corrupt gzip data ({exc}); replace the file") from exc
            lengths.feed(text)
            if not plain:
                continue
            try:
                # ASCII needs no decoding unless a multi-byte character is pending.
                if not (text.isascii() and not decoder.getstate()[0]):
                    decoder.decode(text)
            except UnicodeDecodeError:
                plain = False
                continue
            # The fast reader's delimiter, or a lone carriage return (the fast reader would end a
            # line there; the exact reader ends lines at "\n" only).
            # `in` first: both tests are rare hits, and a memchr is ~10x cheaper than a count.
            if DELIMITER in text or (b"\r" in text and text.count(b"\r") != text.count(b"\r\n")):
                plain = False
    if inflate is not None and not inflate.complete:
        if path.stat().st_size == 0:
            raise InputError(
                f"{path}: the file is empty (0 bytes), not a gzip stream (an interrupted "
                "export?); replace it, or remove it if the day has no data"
            )
        raise InputError(f"{path}: the gzip stream is truncated; replace the file")
    if plain:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            plain = False
    return FileScan(checksum=digest.hexdigest(), plain_text=plain, long_line=lengths.finish())


@dataclass(frozen=True)
class SearchDay:
    """One day folder of search logs: its Parquet parts (``_SUCCESS`` and ``.crc`` ignored)."""

    folder: Path
    day: date
    parts: tuple[Path, ...]

    @property
    def name(self) -> str:
        return self.folder.name

    def fingerprint(self) -> str:
        """Names, sizes and mtimes of the parts: changes when a part is added, removed or
        rewritten (Spark rewrites a day's folder whole)."""
        digest = hashlib.sha256()
        for part in self.parts:
            stat = part.stat()
            digest.update(f"{part.name}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
        return digest.hexdigest()[:16]


def find_search_days(
    folder: Path, *, start: date | None = None, end: date | None = None
) -> tuple[list[SearchDay], list[Skipped]]:
    """Day folders (``YYYYMMDD/``) of search logs within [start, end], sorted by date.

    Every entry of the folder is either a day read, outside the window, or skipped with its
    reason. Inside a day folder the parts are its ``*.parquet`` files; Spark's bookkeeping
    files (``_SUCCESS``, hidden ``.crc`` files) are left alone, anything else is skipped with
    its reason.

    Returns:
        The days that hold at least one Parquet part, and the entries skipped.

    Raises:
        InputError: the folder does not exist or is not a folder.
    """
    _check_folder(folder, "search")
    found: list[SearchDay] = []
    skipped: list[Skipped] = []
    for path in sorted(folder.iterdir()):
        day = parse_day(path.name) if re.fullmatch(r"\d{8}", path.name) else None
        if path.name.startswith((".", "_")):
            skipped.append(Skipped(path, "a hidden file"))
            continue
        if not path.is_dir():
            skipped.append(Skipped(path, "not a day folder (YYYYMMDD/) of Parquet parts"))
            continue
        if day is None:
            skipped.append(Skipped(path, "the name is not a date (YYYYMMDD)"))
            continue
        if (start and day < start) or (end and day > end):
            continue
        parts = []
        for part in sorted(path.iterdir()):
            if part.name.startswith((".", "_")):
                continue  # Spark's _SUCCESS and .crc files
            if not part.name.lower().endswith(".parquet"):
                skipped.append(Skipped(part, "not a Parquet part (*.parquet)"))
            elif not part.is_file():
                skipped.append(Skipped(part, "a broken link or a folder, not a Parquet file"))
            else:
                parts.append(part)
        if parts:
            found.append(SearchDay(path, day, tuple(parts)))
        else:
            skipped.append(Skipped(path, "a day folder without Parquet parts"))
    return found, skipped


def inspect_search_parts(day: SearchDay, columns: Collection[str]) -> tuple[SearchDay, list[str]]:
    """Check each Parquet part's footer before a day is read (no data is read).

    Text is text however it is stored: plain, large, ``string_view`` or dictionary-encoded
    (Spark and pandas write all of these); a column of nulls only (type ``null``) reads as null.

    Returns:
        The day without its parts that hold no columns at all (there is nothing to read in
        them), and warnings: such parts, and the expected ``columns`` a part lacks (they read as
        null).

    Raises:
        InputError: a part is not readable Parquet, or holds one of ``columns`` with a type other
        than text (a number cannot be read back as the text it was, e.g. a user id's leading
        zeros are gone), or no part of the day holds any column.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    warnings = []
    kept = []
    for part in day.parts:
        where = f"search part {day.name}/{part.name}"
        try:
            schema = pq.read_schema(part)
        except (OSError, pa.ArrowException) as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise InputError(
                f"{where} is not readable Parquet ({first}); replace it or move it out of "
                f"{day.folder}"
            ) from exc
        if not schema.names:
            warnings.append(f"{where} has no columns: skipped")
            continue
        kept.append(part)
        names = set(schema.names)
        for name in columns:
            if name in names and not _is_text(schema.field(name).type):
                raise InputError(
                    f"{where}: column {name} is {schema.field(name).type}, not text; rewrite "
                    f"the part with text columns or move it out of {day.folder}"
                )
        missing = [name for name in columns if name not in names]
        if missing:
            warnings.append(f"{where} has no column {', '.join(missing)}: read as null")
    if not kept:
        raise InputError(
            f"search day {day.folder}: none of its parts has any column; replace them or move "
            "the folder out of the search folder"
        )
    return SearchDay(day.folder, day.day, tuple(kept)), warnings


def _is_text(kind: pa.DataType) -> bool:
    """Text in any Arrow layout (dictionary-encoded text judged by its values), or all null."""
    import pyarrow as pa

    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    return bool(
        pa.types.is_string(kind)
        or pa.types.is_large_string(kind)
        or pa.types.is_string_view(kind)
        or pa.types.is_null(kind)
    )
