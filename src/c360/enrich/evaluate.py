"""Agreement of a classifier with reference labels: overall, per genre, and a confusion matrix."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from c360.config import SEARCH_CATEGORIES
from c360.enrich.store import Answer
from c360.rules.keywords import UNKNOWN


@dataclass(frozen=True)
class Evaluation:
    """How often the answers agree with the reference labels.

    ``Unknown`` answers count as disagreements (``answered`` tells how many were not Unknown;
    the reference never says Unknown, so every agreement is an answered one).
    """

    keywords: int
    agreed: int
    answered: int
    #: (reference genre, answered genre) → keywords.
    confusion: Mapping[tuple[str, str], int] = field(default_factory=dict)

    @property
    def agreement(self) -> float:
        return self.agreed / self.keywords if self.keywords else 0.0

    @property
    def coverage(self) -> float:
        """Share of keywords answered with a genre (not Unknown)."""
        return self.answered / self.keywords if self.keywords else 0.0

    @property
    def answered_agreement(self) -> float:
        return self.agreed / self.answered if self.answered else 0.0

    def per_genre(self) -> dict[str, tuple[int, int]]:
        """Reference genre → (keywords, agreed), in taxonomy order."""
        totals: Counter[str] = Counter()
        agreed: Counter[str] = Counter()
        for (truth, answer), n in self.confusion.items():
            totals[truth] += n
            agreed[truth] += n if truth == answer else 0
        return {g: (totals[g], agreed[g]) for g in SEARCH_CATEGORIES if totals[g]}

    def columns(self) -> list[str]:
        """The answered genres of the confusion matrix: the taxonomy, then Unknown if any."""
        seen = {answer for _, answer in self.confusion}
        return [g for g in (*SEARCH_CATEGORIES, UNKNOWN) if g in seen]


def evaluate(answers: Sequence[Answer], reference: Mapping[str, str]) -> Evaluation:
    """Compare ``answers`` with ``reference`` (normalised keyword → genre) on the keywords of
    ``reference``; a keyword without an answer counts as ``Unknown``."""
    given = {a.keyword: a.category for a in answers}
    confusion: Counter[tuple[str, str]] = Counter()
    for keyword, truth in reference.items():
        confusion[(truth, given.get(keyword, UNKNOWN))] += 1
    agreed = sum(n for (truth, answer), n in confusion.items() if truth == answer)
    answered = sum(n for (_, answer), n in confusion.items() if answer != UNKNOWN)
    return Evaluation(
        keywords=len(reference), agreed=agreed, answered=answered,
        confusion=dict(confusion),
    )  # fmt: skip
