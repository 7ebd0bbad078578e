"""The landing zone: what the ingester fetched, durably, in files the processor reads in order.

One folder per stream, one sub-folder per million positions; one JSON-lines file per poll,
named by the source positions it holds (``votes/000000/000000001000-000000002000.jsonl``:
positions 1000 to 1999). A file appears whole or not at all (written under a temporary name,
flushed to disk, then renamed), so the positions landed are exactly the files present, and the
ingester resumes after the last one. The processor keeps its checkpoint under ``_checkpoint/``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from c360.errors import InputError

_NAME = re.compile(r"^(\d{12})-(\d{12})\.jsonl$")
#: Source positions per folder of a stream: a folder holds a bounded number of files, so listing
#: the files after a position costs the same on a stream's first day and on its hundredth.
POSITIONS_PER_FOLDER = 1_000_000
#: The processor's own folder in the landing zone.
CHECKPOINT_DIR = "_checkpoint"


@dataclass(frozen=True, order=True)
class LandedFile:
    """One landed poll: source positions ``first`` to ``next - 1`` of ``stream``."""

    first: int
    next: int
    path: Path

    @property
    def events(self) -> int:
        return self.next - self.first


class LandingZone:
    """The landing folder; the only place that spells its layout."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    @property
    def checkpoint(self) -> Path:
        return self.root / CHECKPOINT_DIR

    def path(self, stream: str, first: int, next_position: int) -> Path:
        """Where the file of positions ``first`` to ``next_position - 1`` lands."""
        folder = self.root / stream / f"{first // POSITIONS_PER_FOLDER:06d}"
        return folder / f"{first:012d}-{next_position:012d}.jsonl"

    def glob(self, streams: Iterable[str]) -> str:
        """A Hadoop glob of every landed file of ``streams`` (a file source's path)."""
        return f"{self.root.resolve()}/{{{','.join(streams)}}}/[0-9]*/[0-9]*-[0-9]*.jsonl"

    @staticmethod
    def landed(path: str | Path) -> tuple[str, LandedFile] | None:
        """The stream and positions of a landed file's path (None: not a landed file)."""
        path = Path(str(path).removeprefix("file:"))
        match = _NAME.match(path.name)
        if match is None:
            return None
        return path.parent.parent.name, LandedFile(int(match[1]), int(match[2]), path)

    def files(self, stream: str, *, start: int = 0) -> list[LandedFile]:
        """The landed files of ``stream`` that may hold positions from ``start`` on, in
        position order (only their folders are listed)."""
        root = self.root / stream
        if not root.is_dir():
            return []
        # A file lands in the folder of its first position and holds far fewer positions than a
        # folder: one that holds ``start`` is in its folder or the one before.
        lowest = max(0, start // POSITIONS_PER_FOLDER - 1)
        found = []
        for folder in self._folders(root):
            if int(folder.name) < lowest:
                continue
            for path in folder.iterdir():
                match = _NAME.match(path.name)
                if match:
                    found.append(LandedFile(int(match[1]), int(match[2]), path))
        return sorted(found)

    @staticmethod
    def _folders(root: Path) -> list[Path]:
        return sorted(p for p in root.iterdir() if p.is_dir() and p.name.isdigit())

    def next_position(self, stream: str) -> int:
        """The first source position not landed yet (0 for a new stream), from the last two
        folders of the stream.

        Raises:
            InputError: files there overlap or leave a gap (the zone was edited by hand).
        """
        root = self.root / stream
        folders = self._folders(root) if root.is_dir() else []
        if not folders:
            return 0
        last = int(folders[-1].name)
        landed = self.files(stream, start=last * POSITIONS_PER_FOLDER)
        # The chain is checked from the stream's start when those folders reach back to it.
        position = landed[0].first if landed and last > 1 else 0
        for file in landed:
            if file.first != position:
                raise InputError(
                    f"landing zone {root}: {file.path.name} starts at position {file.first:,} "
                    f"but the files before it end at {position:,}; remove the files from there "
                    "on to fetch them again"
                )
            position = file.next
        return position

    def pending(self, stream: str, start: int, *, limit: int) -> list[LandedFile]:
        """Landed files of ``stream`` from position ``start`` on, consecutive, holding at most
        ``limit`` events (at least one file when there is one)."""
        chosen: list[LandedFile] = []
        total = 0
        for landed in self.files(stream, start=start):
            if landed.next <= start:
                continue
            expected = chosen[-1].next if chosen else start
            if landed.first != expected:
                break  # a gap: wait for it to be filled
            if chosen and total + landed.events > limit:
                break
            chosen.append(landed)
            total += landed.events
        return chosen

    def write(self, stream: str, first: int, events: Iterable[Any]) -> LandedFile:
        """Land ``events`` (JSON values, one per source position from ``first``) durably.

        Raises:
            OSError: the file could not be written (a full disk): nothing was landed.
        """
        lines = [json.dumps(event, ensure_ascii=False, separators=(",", ":")) for event in events]
        landed = LandedFile(first, first + len(lines), self.path(stream, first, first + len(lines)))
        folder = landed.path.parent
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{landed.path.name}.{os.getpid()}.tmp"
        try:
            with tmp.open("w", encoding="utf-8") as out:
                out.write("\n".join(lines) + "\n")
                out.flush()
                os.fsync(out.fileno())
            tmp.replace(landed.path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        _sync_folder(folder)
        return landed

    def clean(self) -> None:
        """Remove temporary files left by an ingester that was killed mid-write."""
        if self.root.is_dir():
            for tmp in self.root.glob("*/*/.*.tmp"):
                tmp.unlink(missing_ok=True)


def _sync_folder(folder: Path) -> None:
    """Flush a folder's entries (the rename) to disk."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
