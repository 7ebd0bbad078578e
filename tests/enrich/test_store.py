"""The answer store: LLM answers are final, offline answers are provisional."""

from __future__ import annotations

from pathlib import Path

from c360.enrich.store import Answer, AnswerStore


def _store(tmp_path: Path) -> AnswerStore:
    return AnswerStore(tmp_path / "answers.sqlite")


def _table(store: AnswerStore) -> dict[str, tuple[str, str, str]]:
    return {a.keyword: (a.category, a.source, a.version) for a in store.all()}


def test_an_offline_answer_is_replaced_by_a_newer_offline_answer(tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.add([Answer("naruto", "Drama", "model", 0.5, "offline-a")])
    store.add([Answer("naruto", "Animation", "rule", 0.9, "offline-b")])
    assert _table(store) == {"naruto": ("Animation", "rule", "offline-b")}


def test_an_llm_answer_replaces_an_offline_one_and_is_never_replaced(tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.add([Answer("naruto", "Unknown", "model", 0.2, "offline-a")])
    store.add([Answer("naruto", "Animation", "llm", 1.0, "m/genre-v1")])
    store.add([Answer("naruto", "Drama", "model", 0.99, "offline-b")])
    store.add([Answer("naruto", "Comedy", "llm", 1.0, "m2/genre-v1")])
    assert _table(store) == {"naruto": ("Animation", "llm", "m/genre-v1")}


def test_missing_means_without_an_llm_answer(tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.add([
        Answer("a", "Drama", "llm", 1.0, "m"),
        Answer("b", "Drama", "model", 0.7, "offline"),
    ])  # fmt: skip
    assert store.missing(["c", "b", "a"]) == ["c", "b"]
    assert store.missing(["c", "b", "a"], source="model") == ["c", "a"]
    assert store.known() == {"a", "b"}
    assert [a.keyword for a in store.all("llm")] == ["a"]


def test_answers_survive_a_reopen_with_their_decision_time(tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.add([Answer("a", "News", "llm", 1.0, "m")])
    store.close()
    again = _store(tmp_path)
    [answer] = again.all()
    assert (answer.keyword, answer.category) == ("a", "News")
    assert answer.decided_at is not None and answer.decided_at.endswith("+00:00")
