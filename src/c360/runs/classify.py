"""A classification run: decide the genre of every searched keyword of the lake, most searched
first, keep each answer as it arrives, then republish the tables that show a keyword's genre.

Classifiers never write tables; they write *answers* (one per keyword, in the lake's answer
store). The tables are recomputed from the gold tables of the last run with the stored answers,
the user's mapping (as the last run used it) deciding first.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from c360.build.customer_360 import rebuild_customer_360
from c360.build.search_gold import keyword_frequencies, mapped_keywords, recategorise
from c360.enrich.store import AnswerStore
from c360.errors import InputError
from c360.reports import ClassifyReport
from c360.rules.keywords import UNKNOWN

if TYPE_CHECKING:
    from c360.config import C360Config
    from c360.console import Reporter
    from c360.engines.base import Engine
    from c360.enrich.offline import OfflineClassifier
    from c360.lake.layout import LakeLayout
    from c360.sinks.base import Sink, TableFiles


@dataclass(frozen=True)
class ClassifyRequest:
    """How to classify: offline (the default), with an LLM, or training from LLM answers."""

    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_options: dict[str, Any] | None = None
    train_from_llm: bool = False

    @property
    def with_llm(self) -> bool:
        return bool(self.llm_base_url or self.llm_model)


def classify_keywords(
    request: ClassifyRequest,
    *,
    engine: Engine,
    lake: LakeLayout,
    config: C360Config,
    sink: Sink,
    reporter: Reporter,
) -> ClassifyReport:
    """Classify the lake's keywords and republish the genre tables into ``sink``."""
    keywords = keyword_frequencies(engine, lake)
    # The user's mapping as the last run used it: it decides before any classifier.
    mapped = mapped_keywords(engine, lake)
    store = AnswerStore(lake.keyword_answers)
    try:
        reporter.stage("classify", total=1)
        if request.with_llm:
            from c360.enrich.llm import LLMClassifier, LLMSettings

            settings = LLMSettings.from_environment(
                request.llm_base_url or "", request.llm_model or "",
                timeout_s=config.classify.llm_timeout, max_wait_s=config.classify.llm_max_wait,
                **(request.llm_options or {}),
            )  # fmt: skip
            report = LLMClassifier(settings, store, reporter=reporter).classify(
                [k for k in keywords if k not in mapped]
            )
        else:
            report = _classify_offline(
                keywords, mapped, store, lake, config, reporter, train=request.train_from_llm
            )
        reporter.advance(f"{report.answered:,} keywords answered")
    finally:
        store.close()
    report.tables = republish(engine, lake, sink, mapped, reporter)
    return report


def _classify_offline(
    keywords: list[str],
    mapped: dict[str, str],
    store: AnswerStore,
    lake: LakeLayout,
    config: C360Config,
    reporter: Reporter,
    *,
    train: bool,
) -> ClassifyReport:
    started = time.perf_counter()
    classifier = offline_classifier(lake, reporter, mapped=mapped, train=train, store=store)
    final = store.known("llm")
    todo = [k for k in keywords if k not in final and k not in mapped]
    answers = classifier.classify(todo, threshold=config.classify.threshold)
    store.add(answers)
    report = ClassifyReport(asked=len(todo), seconds=time.perf_counter() - started)
    report.answered = sum(a.category != UNKNOWN for a in answers)
    report.model = classifier.version
    report.trained_on = classifier.labels
    return report


def offline_classifier(
    lake: LakeLayout,
    reporter: Reporter,
    *,
    mapped: dict[str, str],
    train: bool,
    store: AnswerStore | None = None,
) -> OfflineClassifier:
    """The lake's trained classifier; a new one from the stored LLM answers when ``train``;
    else one from the lexicon and the mapping."""
    from c360.enrich.offline import Label, OfflineClassifier, lexicon_labels

    path = lake.keyword_model
    if not train and path.exists():
        return OfflineClassifier.load(path)
    labels = lexicon_labels() + [Label(k, c, "mapping") for k, c in mapped.items()]
    if train:
        llm = store.all("llm") if store is not None else []
        if not llm:
            raise InputError(
                f"no LLM answers in {lake.root} to train from; run `c360 classify --llm-base-url "
                "URL --llm-model NAME` first"
            )
        labels += [Label(a.keyword, a.category, "llm") for a in llm]
    reporter.info(f"training the keyword model on {len(labels):,} labels")
    classifier = OfflineClassifier.train(labels)
    if train:
        classifier.save(path)
    return classifier


def republish(
    engine: Engine, lake: LakeLayout, sink: Sink, mapped: dict[str, str], reporter: Reporter
) -> dict[str, int]:
    """Recompute and publish the tables that show a keyword's genre (none when the last run had
    no search logs)."""
    if not lake.search_months.exists():
        reporter.warn(
            "the last run had no search logs: answers are kept for the next `c360 run --search`"
        )
        return {}
    sink.check()
    tables: dict[str, TableFiles] = {
        name: lake.gold(name) for name in recategorise(engine, lake, mapping=mapped)
    }
    tables["customer_360"] = rebuild_customer_360(engine, lake)
    return sink.publish(tables)
