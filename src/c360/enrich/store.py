"""Durable keyword answers: one SQLite file, each answer committed as it arrives.

SQLite in WAL mode with ``synchronous=FULL`` makes every committed answer survive a crash or a
``kill -9``; a torn write is rolled back by SQLite itself, never half-read. A re-run asks only
for keywords without an answer, so nothing is paid for twice.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from c360.errors import OutputError


@dataclass(frozen=True)
class Answer:
    """One keyword's category and who decided it."""

    keyword: str
    category: str
    source: str  # "llm", "model", "rule", "mapping"
    confidence: float
    version: str  # model and prompt version


class AnswerStore:
    """Answers by normalised keyword; the first answer for a keyword is kept."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()  # one writer at a time on the shared connection
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.con = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self.con.execute("PRAGMA journal_mode=WAL")
            self.con.execute("PRAGMA synchronous=FULL")
            self.con.execute(
                "CREATE TABLE IF NOT EXISTS answers (keyword TEXT PRIMARY KEY, category TEXT "
                "NOT NULL, source TEXT NOT NULL, confidence REAL NOT NULL, version TEXT NOT NULL, "
                "decided_at TEXT NOT NULL)"
            )
        except sqlite3.Error as exc:
            raise OutputError(f"cannot open the keyword answers {path}: {exc}") from exc

    def missing(self, keywords: Sequence[str]) -> list[str]:
        """The keywords without an answer, in the given order."""
        known = self.known()
        return [k for k in keywords if k not in known]

    def known(self) -> set[str]:
        return {row[0] for row in self.con.execute("SELECT keyword FROM answers")}

    def add(self, answers: Iterable[Answer]) -> int:
        """Store answers in one transaction (committed when this returns); returns how many."""
        now = datetime.now(UTC).isoformat()
        rows = [(a.keyword, a.category, a.source, a.confidence, a.version, now) for a in answers]
        with self._lock, self.con:
            self.con.execute("BEGIN IMMEDIATE")
            self.con.executemany("INSERT OR IGNORE INTO answers VALUES (?, ?, ?, ?, ?, ?)", rows)
        return len(rows)

    def all(self) -> list[Answer]:
        return [
            Answer(k, c, s, conf, v)
            for k, c, s, conf, v in self.con.execute(
                "SELECT keyword, category, source, confidence, version FROM answers ORDER BY 1"
            )
        ]

    def close(self) -> None:
        self.con.close()
