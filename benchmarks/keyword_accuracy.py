"""Offline keyword classifier: agreement with a reference label set, and its speed.

The reference is ``../shared/data/real/keyword_labels/mapping_vertex_gemini.csv`` (real search
keywords labelled by a large LLM), read in place: it is never copied into the project and no
model trained on it is kept.

(a) Out of the box: the classifier c360 ships (its lexicon, markers and a model trained on the
    lexicon only) on every keyword of the file.
(b) Distillation (label the frequent head with an LLM, the tail locally): the keywords whose
    SHA-256 first byte is even play the earlier LLM answers (lexicon + those labels train the
    model); the other half is evaluated.

Each figure is the agreement with every keyword answered (threshold 0) and at the default
threshold (below it the answer is Unknown, which counts as a disagreement).

    python benchmarks/keyword_accuracy.py --repeat 3
"""

from __future__ import annotations

import argparse
import hashlib
import time
from pathlib import Path

from _harness import ROOT, machine, median, write_section

LABELS = ROOT.parent / "shared" / "data" / "real" / "keyword_labels" / "mapping_vertex_gemini.csv"


HEADER = (
    "| setup | labels learned | keywords evaluated | agreement, all answered | agreement at "
    "threshold | answered at threshold | agreement of those answered | train s | keywords/s |\n"
    "|---|---|---|---|---|---|---|---|---|"
)


def in_training_half(keyword: str) -> bool:
    """The deterministic split of (b): by the first byte of the keyword's SHA-256."""
    return hashlib.sha256(keyword.encode("utf-8")).digest()[0] % 2 == 0


def main() -> None:
    from c360.config import C360Config
    from c360.enrich.evaluate import Evaluation, evaluate
    from c360.enrich.offline import Label, OfflineClassifier, lexicon_labels
    from c360.io.reference import read_keyword_labels

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--labels", type=Path, default=LABELS)
    args = parser.parse_args()

    threshold = C360Config().classify.threshold
    reference = read_keyword_labels(args.labels)
    train = {k: c for k, c in reference.items() if in_training_half(k)}
    test = {k: c for k, c in reference.items() if k not in train}
    setups = {
        "a": (lexicon_labels(), reference),
        "b": (lexicon_labels() + [Label(k, c, "llm") for k, c in train.items()], test),
    }
    results: dict[str, dict[str, object]] = {}
    evaluations: dict[str, tuple[Evaluation, Evaluation]] = {}
    for name, (labels, target) in setups.items():
        train_s, predict_s = [], []
        for _ in range(args.repeat):
            started = time.perf_counter()
            classifier = OfflineClassifier.train(labels)
            train_s.append(time.perf_counter() - started)
            started = time.perf_counter()
            everything = classifier.classify(list(target), threshold=0.0)
            predict_s.append(time.perf_counter() - started)
        sure = classifier.classify(list(target), threshold=threshold)
        evaluations[name] = (evaluate(everything, target), evaluate(sure, target))
        all_answered, thresholded = evaluations[name]
        results[name] = {
            "labels": classifier.labels,
            "keywords": len(target),
            "agreement_all_answered": round(all_answered.agreement, 4),
            "agreement_at_threshold": round(thresholded.agreement, 4),
            "coverage_at_threshold": round(thresholded.coverage, 4),
            "answered_agreement_at_threshold": round(thresholded.answered_agreement, 4),
            "train_s": round(median(train_s), 2),
            "keywords_per_s": round(len(target) / median(predict_s)),
        }
        print(name, results[name], flush=True)

    info = machine()
    a, b = results["a"], results["b"]
    rows = "\n".join(
        f"| {title} | {r['labels']:,} | {r['keywords']:,} | {r['agreement_all_answered']:.1%} | "
        f"{r['agreement_at_threshold']:.1%} | {r['coverage_at_threshold']:.1%} | "
        f"{r['answered_agreement_at_threshold']:.1%} | {r['train_s']:.1f} | "
        f"{r['keywords_per_s']:,} |"
        for title, r in (
            ("(a) out of the box: lexicon, markers, model on the lexicon", a),
            ("(b) distillation: + the training half's labels as LLM answers", b),
        )
    )
    per_genre = "\n".join(
        f"| {genre} | {n:,} | {agreed / n:.1%} |"
        for genre, (n, agreed) in evaluations["b"][0].per_genre().items()
    )
    markdown = f"""
## Keyword classification accuracy (`benchmarks/keyword_accuracy.py`)

Measured {info["date"]} on {info["cores"]} cores; median of {args.repeat} trainings. Reference:
`mapping_vertex_gemini.csv` ({len(reference):,} distinct normalised keywords labelled by a large
LLM), read in place. (b) trains on the {len(train):,} keywords whose SHA-256 first byte is even
and evaluates the other {len(test):,}. An `Unknown` answer counts as a disagreement; the default
threshold is {threshold}.

{HEADER}
{rows}

Agreement per reference genre, (b) with every keyword answered:

| genre | keywords | agreement |
|---|---|---|
{per_genre}
"""
    write_section("keyword_accuracy", markdown, {"machine": info, **results})


if __name__ == "__main__":
    main()
