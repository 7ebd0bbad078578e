"""Keyword genres without an LLM (SPEC 2.7): known keywords, marker rules, then a local model.

A keyword is decided by the first of:

1. **a known keyword** — the same letters and digits, diacritics aside, as a training label
   (the lexicon, the user's mapping, earlier LLM answers): that label, confidence 1, source
   ``rule`` for the lexicon and ``model`` for learned labels;
2. **a marker** — a word that names the genre on its own (``phim hàn``, ``karaoke``, ``vtv3``):
   source ``rule``;
3. **the model** — character and word n-grams of the keyword with and without diacritics and a
   few shape flags, a linear SVM trained on the labels and calibrated into probabilities; the
   probability of its best genre is the confidence, and below the threshold the answer is
   ``Unknown``.

Training is deterministic (fixed seeds, sorted labels), so the same labels give the same answers.
"""

from __future__ import annotations

import pickle
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin

from c360.enrich.lexicon import COMPILED_MARKERS, LEXICON_VERSION, lexicon
from c360.enrich.store import Answer
from c360.errors import InputError
from c360.lake.ledger import digest
from c360.rules.keywords import UNKNOWN, compact, fold, normalise_text

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

#: Confidence given to marker rules (they are right most of the time, not always).
MARKER_CONFIDENCE = 0.9
#: Where the labels of a training set came from, in the order they win a tie on one keyword.
ORIGINS = ("mapping", "llm", "lexicon")
_FORMAT = 1


@dataclass(frozen=True)
class Label:
    """One training example: a normalised keyword and its genre."""

    keyword: str
    category: str
    origin: str  # one of ORIGINS


def lexicon_labels() -> list[Label]:
    """The project's own lexicon as training labels."""
    return [Label(normalise_text(k), g, "lexicon") for k, g in lexicon().items()]


class OfflineClassifier:
    """Known keywords, markers and a trained model; see the module docstring."""

    def __init__(
        self,
        *,
        known: Mapping[str, tuple[str, str]],
        model: Pipeline,
        version: str,
        labels: int,
    ) -> None:
        self.known = dict(known)
        self.model = model
        self.version = version
        self.labels = labels

    @classmethod
    def train(cls, labels: Iterable[Label]) -> OfflineClassifier:
        """Train on ``labels``; on one keyword, a mapping beats an LLM answer beats the lexicon."""
        rank = {origin: i for i, origin in enumerate(ORIGINS)}
        best: dict[str, Label] = {}
        for label in sorted(labels, key=lambda x: (rank[x.origin], x.keyword, x.category)):
            best.setdefault(normalise_text(label.keyword), label)
        if not best:
            raise InputError("the offline classifier has no labels to learn from")
        keywords = sorted(best)
        genres = [best[k].category for k in keywords]
        known: dict[str, tuple[str, str]] = {}
        for k in sorted(keywords, key=lambda k: rank[best[k].origin]):
            known.setdefault(compact(k), (best[k].category, best[k].origin))
        model = _pipeline(genres)
        model.fit(keywords, genres)
        version = f"offline-{LEXICON_VERSION}/{digest(sorted(best.items()))[:8]}"
        return cls(known=known, model=model, version=version, labels=len(best))

    def classify(self, keywords: Sequence[str], *, threshold: float) -> list[Answer]:
        """An answer for every keyword (``Unknown`` when the model is less sure than
        ``threshold``), in the given order."""
        answers: list[Answer | None] = []
        unsure: list[int] = []
        for i, keyword in enumerate(keywords):
            answer = self._known_or_marked(keyword)
            answers.append(answer)
            if answer is None:
                unsure.append(i)
        if unsure:
            probabilities = self.model.predict_proba([keywords[i] for i in unsure])
            classes = self.model.classes_
            for i, row in zip(unsure, probabilities, strict=True):
                best = int(row.argmax())
                confidence = round(float(row[best]), 4)
                genre = str(classes[best]) if confidence >= threshold else UNKNOWN
                answers[i] = Answer(keywords[i], genre, "model", confidence, self.version)
        return [a for a in answers if a is not None]

    def _known_or_marked(self, keyword: str) -> Answer | None:
        hit = self.known.get(compact(keyword))
        if hit is not None:
            genre, origin = hit
            source = "rule" if origin == "lexicon" else "model"
            return Answer(keyword, genre, source, 1.0, self.version)
        folded = fold(keyword)
        for pattern, genre in COMPILED_MARKERS:
            if pattern.search(folded):
                return Answer(keyword, genre, "rule", MARKER_CONFIDENCE, self.version)
        return None

    def save(self, path: Path) -> Path:
        """Keep the trained classifier in the lake (temp file + rename)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        state = {"format": _FORMAT, "known": self.known, "model": self.model,
                 "version": self.version, "labels": self.labels}  # fmt: skip
        tmp.write_bytes(pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL))
        tmp.replace(path)
        return path

    @classmethod
    def load(cls, path: Path) -> OfflineClassifier:
        """A classifier saved by :meth:`save` (this lake's own file: pickle is trusted here)."""
        try:
            state: dict[str, Any] = pickle.loads(path.read_bytes())
        except (OSError, pickle.UnpicklingError, AttributeError, ImportError) as exc:
            raise InputError(
                f"cannot read the keyword model {path} ({exc}); retrain it with "
                "`c360 classify --train-from-llm` or delete it"
            ) from exc
        if state.get("format") != _FORMAT:
            raise InputError(
                f"the keyword model {path} was written by another c360 version; retrain it "
                "with `c360 classify --train-from-llm` or delete it"
            )
        return cls(
            known=state["known"], model=state["model"], version=state["version"],
            labels=state["labels"],
        )  # fmt: skip


def _pipeline(labels: Sequence[str]) -> Pipeline:
    """Features → linear SVM, calibrated into probabilities (sigmoid, stratified folds)."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.model_selection import StratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import LinearSVC

    svm = LinearSVC(C=0.2, random_state=0)
    # Calibration needs every genre in every fold: as many folds as the rarest genre allows.
    folds = min(5, min(Counter(labels).values()))
    if folds < 2:
        return make_pipeline(KeywordFeatures(), _Softmax(svm))
    calibrated = CalibratedClassifierCV(
        svm, method="sigmoid", cv=StratifiedKFold(folds, shuffle=True, random_state=0),
        ensemble=False,
    )  # fmt: skip
    return make_pipeline(KeywordFeatures(), calibrated)


class KeywordFeatures(BaseEstimator, TransformerMixin):  # type: ignore[misc]
    """TF-IDF blocks of a keyword, each L2-normalised with sublinear term frequencies:
    character 1–5-grams within words and character 3–6-grams of the letters alone (both without
    diacritics), word 1–2-grams with and without diacritics; plus 8 flags of the keyword's shape
    (typed with or without diacritics, number of words, length, digits)."""

    def fit(self, keywords: Sequence[str], y: object = None) -> KeywordFeatures:
        from sklearn.feature_extraction.text import TfidfVectorizer

        folded = [fold(k) for k in keywords]
        self.chars_ = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 5), sublinear_tf=True)
        self.words_ = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, token_pattern=_TOKEN)
        self.folded_words_ = TfidfVectorizer(
            ngram_range=(1, 2), sublinear_tf=True, token_pattern=_TOKEN
        )
        self.letters_ = TfidfVectorizer(analyzer="char", ngram_range=(3, 6), sublinear_tf=True)
        self.chars_.fit(folded)
        self.words_.fit(keywords)
        self.folded_words_.fit(folded)
        self.letters_.fit([f.replace(" ", "") for f in folded])
        return self

    def transform(self, keywords: Sequence[str]) -> Any:
        import numpy as np
        import scipy.sparse as sp

        folded = [fold(k) for k in keywords]
        flags = np.array([_flags(k, f) for k, f in zip(keywords, folded, strict=True)], float)
        return sp.hstack([
            self.chars_.transform(folded),
            self.words_.transform(keywords),
            self.folded_words_.transform(folded),
            self.letters_.transform([f.replace(" ", "") for f in folded]),
            sp.csr_matrix(flags.reshape(len(keywords), len(_FLAG_NAMES))),
        ]).tocsr()  # fmt: skip


_TOKEN = r"(?u)\b\w+\b"
_FLAG_NAMES = ("diacritics", "plain_letters", "one_word", "two_words", "four_words_or_more",
               "short", "digit", "plain_latin")  # fmt: skip


def _flags(keyword: str, folded: str) -> list[bool]:
    words = len(keyword.split())
    plain = keyword == folded
    return [
        not plain, plain and any(c.isalpha() for c in keyword), words == 1, words == 2,
        words >= 4, len(keyword) <= 4, any(c.isdigit() for c in keyword),
        plain and any("a" <= c <= "z" for c in keyword),
    ]  # fmt: skip


class _Softmax(BaseEstimator, ClassifierMixin):  # type: ignore[misc]
    """Probabilities from a linear model's scores when there are too few labels to calibrate."""

    def __init__(self, estimator: Any) -> None:
        self.estimator = estimator

    def fit(self, x: Any, y: Sequence[str]) -> _Softmax:
        self.estimator.fit(x, y)
        self.classes_ = self.estimator.classes_
        return self

    def predict_proba(self, x: Any) -> Any:
        import numpy as np

        scores = self.estimator.decision_function(x)
        if scores.ndim == 1:  # two genres: one score
            scores = np.column_stack([-scores, scores])
        exp = np.exp(scores - scores.max(axis=1, keepdims=True))
        return exp / exp.sum(axis=1, keepdims=True)
