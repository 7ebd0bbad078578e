"""Durable keyword answers: one SQLite file, each answer committed as it arrives.

SQLite in WAL mode with ``synchronous=FULL`` makes every committed answer survive a crash or a
``kill -9``; a torn write is rolled back by SQLite itself, never half-read. A re-run asks the
LLM only for keywords without an LLM answer, so nothing is paid for twice.

An LLM answer is final. Offline answers (``model``, ``rule``) are provisional: a later offline
run (a retrained model) replaces them, and an LLM answer replaces them.
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
    decided_at: str | None = None  # UTC, ISO 8601; set by the store


#: The source whose answers are final.
FINAL = "llm"


class AnswerStore:
    """Answers by normalised keyword: the first LLM answer is kept, offline ones are replaced."""

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

    def missing(self, keywords: Sequence[str], *, source: str = FINAL) -> list[str]:
        """The keywords without an answer from ``source``, in the given order."""
        known = self.known(source)
        return [k for k in keywords if k not in known]

    def known(self, source: str | None = None) -> set[str]:
        """Keywords with an answer (from ``source`` when given)."""
        if source is None:
            return {row[0] for row in self.con.execute("SELECT keyword FROM answers")}
        query = "SELECT keyword FROM answers WHERE source = ?"
        return {row[0] for row in self.con.execute(query, (source,))}

    def add(self, answers: Iterable[Answer]) -> int:
        """Store answers in one transaction (committed when this returns); returns how many.

        An answer never replaces an LLM answer; it replaces any other answer.
        """
        now = datetime.now(UTC).isoformat(timespec="seconds")
        rows = [(a.keyword, a.category, a.source, a.confidence, a.version, now) for a in answers]
        with self._lock, self.con:
            self.con.execute("BEGIN IMMEDIATE")
            self.con.executemany(
                "INSERT INTO answers VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (keyword) DO UPDATE "
                "SET category = excluded.category, source = excluded.source, "
                "confidence = excluded.confidence, version = excluded.version, "
                "decided_at = excluded.decided_at WHERE answers.source <> ?",
                [(*row, FINAL) for row in rows],
            )
        return len(rows)

    def all(self, source: str | None = None) -> list[Answer]:
        """Every answer (from ``source`` when given), by keyword."""
        where, params = ("WHERE source = ?", (source,)) if source else ("", ())
        return [
            Answer(*row)
            for row in self.con.execute(
                "SELECT keyword, category, source, confidence, version, decided_at FROM answers "
                f"{where} ORDER BY keyword",
                params,
            )
        ]

    def close(self) -> None:
        self.con.close()
