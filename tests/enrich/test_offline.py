"""The offline classifier: known keywords, markers, a model with a confidence threshold."""

from __future__ import annotations

from pathlib import Path

import pytest

from c360.enrich.lexicon import MARKERS, lexicon
from c360.enrich.offline import Label, OfflineClassifier, lexicon_labels
from c360.errors import InputError

LABELS = [
    Label("người phán xử", "Drama", "llm"),
    Label("về nhà đi con", "Drama", "llm"),
    Label("thương ngày nắng về", "Drama", "llm"),
    Label("tây du ký", "C Drama", "llm"),
    Label("diên hi công lược", "C Drama", "llm"),
    Label("hoàn châu cách cách", "C Drama", "llm"),
    Label("doraemon", "Animation", "llm"),
    Label("conan", "Animation", "llm"),
    Label("pokemon", "Animation", "llm"),
    Label("doraemon nobita", "Animation", "llm"),
    Label("doraemon movie", "Animation", "llm"),
    Label("conan movie", "Animation", "llm"),
]


def _answers(classifier: OfflineClassifier, keywords: list[str], threshold: float = 0.0) -> dict:
    return {
        a.keyword: (a.category, a.source, a.confidence)
        for a in classifier.classify(keywords, threshold=threshold)
    }


@pytest.fixture(scope="module")
def small() -> OfflineClassifier:
    return OfflineClassifier.train(LABELS)


def test_a_known_keyword_matches_without_diacritics_spaces_or_case(
    small: OfflineClassifier,
) -> None:
    assert _answers(small, ["nguoi phan xu", "TAY DU KY", "dora emon"]) == {
        "nguoi phan xu": ("Drama", "model", 1.0),
        "TAY DU KY": ("C Drama", "model", 1.0),
        "dora emon": ("Animation", "model", 1.0),
    }


def test_a_marker_word_decides_as_a_rule(small: OfflineClassifier) -> None:
    answers = _answers(small, ["phim hàn quốc mới", "karaoke bolero", "vtv3", "mu vs chelsea"])
    assert answers == {
        "phim hàn quốc mới": ("K Drama", "rule", 0.9),
        "karaoke bolero": ("Music", "rule", 0.9),
        "vtv3": ("TV Channel", "rule", 0.9),
        "mu vs chelsea": ("Sports", "rule", 0.9),
    }


def test_the_model_generalises_and_below_the_threshold_says_unknown(
    small: OfflineClassifier,
) -> None:
    [answer] = small.classify(["doraemon tập 5"], threshold=0.0)
    assert (answer.category, answer.source) == ("Animation", "model")
    assert 0.0 < answer.confidence < 1.0
    [unsure] = small.classify(["doraemon tập 5"], threshold=answer.confidence + 0.01)
    assert (unsure.category, unsure.confidence) == ("Unknown", answer.confidence)


def test_training_is_deterministic_whatever_the_label_order(small: OfflineClassifier) -> None:
    again = OfflineClassifier.train(list(reversed(LABELS)))
    keywords = ["doraemon tập 5", "phim về nhà", "cách cách", "xyz"]
    assert again.version == small.version
    assert _answers(again, keywords) == _answers(small, keywords)


def test_a_mapping_beats_an_llm_answer_beats_the_lexicon() -> None:
    classifier = OfflineClassifier.train([
        Label("naruto", "Drama", "lexicon"),
        Label("naruto", "Comedy", "mapping"),
        Label("Naruto", "Action", "llm"),
        Label("conan", "Horror", "lexicon"),
        Label("conan", "Animation", "llm"),
    ])  # fmt: skip
    assert _answers(classifier, ["naruto", "conan"]) == {
        "naruto": ("Comedy", "model", 1.0),
        "conan": ("Animation", "model", 1.0),
    }


def test_a_saved_classifier_answers_the_same(tmp_path: Path, small: OfflineClassifier) -> None:
    path = small.save(tmp_path / "model.pickle")
    loaded = OfflineClassifier.load(path)
    keywords = ["doraemon tập 5", "nguoi phan xu", "karaoke", "xyz"]
    assert (loaded.version, loaded.labels) == (small.version, small.labels)
    assert _answers(loaded, keywords) == _answers(small, keywords)


def test_a_damaged_model_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "model.pickle"
    path.write_bytes(b"not a model")
    with pytest.raises(InputError, match=r"cannot read the keyword model .*retrain it"):
        OfflineClassifier.load(path)


def test_no_labels_is_a_clear_error() -> None:
    with pytest.raises(InputError, match="no labels to learn from"):
        OfflineClassifier.train([])


def test_the_lexicon_speaks_the_taxonomy_and_its_markers_compile() -> None:
    from c360.config import SEARCH_CATEGORIES

    entries = lexicon()
    assert set(entries.values()) == set(SEARCH_CATEGORIES)
    assert len(entries) > 1000
    assert {genre for _, genre in MARKERS} <= set(SEARCH_CATEGORIES)
    assert all(label.keyword == label.keyword.strip().lower() for label in lexicon_labels())
