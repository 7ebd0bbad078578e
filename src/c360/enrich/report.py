"""What a classification run did (shared by the LLM and the offline classifier)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ClassifyReport:
    """What a classification run did."""

    asked: int = 0
    answered: int = 0
    requests: int = 0
    retries: int = 0
    tokens: int = 0
    budget_exhausted: bool = False
    failed_batches: int = 0
    seconds: float = 0.0
    errors: dict[str, int] = field(default_factory=dict)
    #: The offline classifier's version and how many labels it learned from (offline runs).
    model: str | None = None
    trained_on: int = 0
    #: Tables republished with the new genres, and their rows.
    tables: dict[str, int] = field(default_factory=dict)
