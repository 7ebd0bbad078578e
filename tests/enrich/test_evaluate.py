"""Agreement with reference labels, by hand."""

from __future__ import annotations

import pytest

from c360.enrich.evaluate import evaluate
from c360.enrich.store import Answer


def _answer(keyword: str, category: str) -> Answer:
    return Answer(keyword, category, "model", 0.5, "v")


def test_agreement_coverage_per_genre_and_confusion() -> None:
    reference = {"a": "Drama", "b": "Drama", "c": "News", "d": "Action", "e": "Action"}
    answers = [
        _answer("a", "Drama"), _answer("b", "K Drama"), _answer("c", "News"),
        _answer("d", "Unknown"), _answer("zzz", "Drama"),  # not in the reference: ignored
    ]  # fmt: skip
    result = evaluate(answers, reference)
    assert (result.keywords, result.agreed, result.answered) == (5, 2, 3)
    assert result.agreement == pytest.approx(0.4)
    assert result.coverage == pytest.approx(0.6)
    assert result.answered_agreement == pytest.approx(2 / 3)
    # "e" has no answer at all: Unknown.
    assert result.confusion == {
        ("Drama", "Drama"): 1, ("Drama", "K Drama"): 1, ("News", "News"): 1,
        ("Action", "Unknown"): 2,
    }  # fmt: skip
    assert result.per_genre() == {"Action": (2, 0), "Drama": (2, 1), "News": (1, 1)}
    assert result.columns() == ["Drama", "K Drama", "News", "Unknown"]


def test_nothing_to_compare_is_zero_not_a_crash() -> None:
    result = evaluate([], {})
    assert (result.agreement, result.coverage, result.answered_agreement) == (0.0, 0.0, 0.0)
