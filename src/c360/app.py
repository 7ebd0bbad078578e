"""The application façade: every use case of c360 as one object.

The CLI (and later the API and the dashboard) are thin shells over :class:`C360`; notebooks and
orchestrators call it directly::

    from c360.app import C360
    report = C360().run("data/raw/log_content", warehouse="c360.duckdb", lake="data/lake")
    stats = C360().read_table("customer_content_stats", warehouse="c360.duckdb")
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from c360.config import C360Config, load_config
from c360.console import NullReporter, Reporter
from c360.reports import ClassifyReport, DemoReport, LoadReport, RunReport

if TYPE_CHECKING:
    from c360.engines.base import Engine
    from c360.enrich.evaluate import Evaluation
    from c360.enrich.offline import OfflineClassifier
    from c360.enrich.store import AnswerStore
    from c360.generate.dataset import GenerateReport
    from c360.reports import ClassifyReport, RunReport


class C360:
    """c360's use cases over one configuration."""

    def __init__(
        self,
        config: C360Config | None = None,
        *,
        config_file: Path | str | None = None,
        overrides: Mapping[str, Any] | None = None,
        flags: Mapping[str, str] | None = None,
        reporter: Reporter | None = None,
    ) -> None:
        self.config = config or load_config(config_file, overrides=overrides, flags=flags)
        self.reporter: Reporter = reporter or NullReporter()

    def generate(
        self,
        out: Path | str,
        *,
        scale: float = 0.01,
        seed: int = 42,
        days: int = 30,
        gzip: bool = False,
    ) -> GenerateReport:
        """Write a synthetic data set (content, search, bridge) under ``out``."""
        from c360.generate.dataset import GenerateRequest, generate_dataset

        request = GenerateRequest(
            out=Path(out), scale=scale, seed=seed, content_days=days, gzip=gzip
        )
        return generate_dataset(request, reporter=self.reporter)

    def run(
        self,
        content: Path | str,
        *,
        warehouse: str | None = None,
        lake: Path | str | None = None,
        start: date | None = None,
        end: date | None = None,
        search: Path | str | None = None,
        mapping: Path | str | None = None,
        bridge: Path | str | None = None,
    ) -> RunReport:
        """Ingest new content (and search) files, rebuild the window's tables, publish them."""
        from c360.engines import create_engine
        from c360.errors import ConfigError
        from c360.pipeline import ContentPipeline, LakeLayout, RunRequest
        from c360.sinks import create_sink

        if start and end and start > end:
            raise ConfigError(f"--from {start} is after --to {end}")
        lake_path = Path(lake) if lake is not None else self.config.paths.lake
        sink = create_sink(warehouse or self.config.paths.warehouse)
        request = RunRequest(
            content=Path(content),
            lake=lake_path,
            start=start,
            end=end,
            search=Path(search) if search is not None else None,
            mapping=Path(mapping) if mapping is not None else None,
            bridge=Path(bridge) if bridge is not None else None,
        )
        scratch = str(LakeLayout(lake_path).scratch)
        with (
            self._locked(lake_path, "run"),
            create_engine(self.config.engine, scratch=scratch) as engine,
        ):
            pipeline = ContentPipeline(engine, sink, self.config, reporter=self.reporter)
            return pipeline.run(request)

    @contextmanager
    def _locked(self, lake: Path, command: str) -> Iterator[None]:
        """One run per lake at a time (see :mod:`c360.io.lock`)."""
        from c360.io.lock import lake_lock

        with lake_lock(lake, command=command) as stale:
            if stale:
                self.reporter.warn(
                    f"the previous run on this lake stopped without finishing ({stale}); "
                    "this run completes its work"
                )
            yield

    def demo(self, out: Path | str, *, scale: float = 0.01, seed: int = 42) -> DemoReport:
        """Generate a small data set under ``out``, run the whole pipeline on it and classify
        its search keywords offline."""
        root = Path(out)
        generated = self.generate(root / "raw", scale=scale, seed=seed)
        warehouse = str(root / "c360.duckdb")
        run = self.run(
            generated.content_dir,
            warehouse=warehouse,
            lake=root / "lake",
            search=generated.search_dir,
            bridge=generated.bridge,
        )
        classified = self.classify(lake=root / "lake", warehouse=warehouse)
        return DemoReport(generated=generated, run=run, classify=classified, warehouse=warehouse)

    def load(self, source: Path | str, *, to: str) -> LoadReport:
        """Publish every table of the DuckDB warehouse ``source`` into the warehouse ``to``."""
        import tempfile
        import time

        from c360.sinks import create_sink
        from c360.sinks.duckdb import DuckDBSink

        started = time.perf_counter()
        origin = DuckDBSink(str(source))
        target = create_sink(to)
        self.reporter.stage("load", total=1)
        with tempfile.TemporaryDirectory(prefix="c360-load-") as folder:
            files = origin.export(Path(folder))
            tables = target.publish(files)
        self.reporter.advance(target.describe())
        return LoadReport(target.describe(), tables, time.perf_counter() - started)

    def classify(
        self,
        *,
        lake: Path | str | None = None,
        warehouse: str | None = None,
        llm_base_url: str | None = None,
        llm_model: str | None = None,
        concurrency: int = 8,
        batch_size: int = 100,
        budget_requests: int | None = None,
        budget_tokens: int | None = None,
        train_from_llm: bool = False,
    ) -> ClassifyReport:
        """Classify the lake's search keywords and republish the tables that show a keyword's
        genre (``keyword_category``, ``search_monthly_top``, ``customer_search_stats``,
        ``customer_360``).

        Offline by default: known keywords, marker rules and a local model. With an LLM
        (``llm_base_url`` and ``llm_model``; the API key comes from ``C360_LLM_API_KEY``) every
        keyword without an LLM answer is asked, most searched first, and answers are kept as they
        arrive. ``train_from_llm`` retrains the local model from the stored LLM answers (plus the
        lexicon and the user's mapping), keeps it in the lake, and classifies the rest with it.
        """
        from c360.errors import ConfigError

        if train_from_llm and (llm_base_url or llm_model):
            raise ConfigError("--train-from-llm works offline: give it without --llm-base-url")
        lake_path = Path(lake) if lake is not None else self.config.paths.lake
        with self._locked(lake_path, "classify"):
            return self._classify(
                lake_path, warehouse, llm_base_url, llm_model,
                {"concurrency": concurrency, "batch_size": batch_size,
                     "budget_requests": budget_requests, "budget_tokens": budget_tokens},
                train_from_llm=train_from_llm,
            )  # fmt: skip

    def _classify(
        self,
        lake_path: Path,
        warehouse: str | None,
        llm_base_url: str | None,
        llm_model: str | None,
        llm_options: dict[str, Any],
        *,
        train_from_llm: bool,
    ) -> ClassifyReport:
        from c360.engines import create_engine
        from c360.enrich.store import AnswerStore
        from c360.pipeline import LakeLayout
        from c360.search import answers_path, keyword_frequencies, mapped_keywords

        scratch = str(LakeLayout(lake_path).scratch)
        with create_engine(self.config.engine, scratch=scratch) as engine:
            keywords = keyword_frequencies(engine, lake_path)
            # The user's mapping as the last run used it: it decides before any classifier.
            mapped = mapped_keywords(engine, lake_path)
            store = AnswerStore(answers_path(lake_path))
            try:
                self.reporter.stage("classify", total=1)
                if llm_base_url or llm_model:
                    from c360.enrich.llm import LLMClassifier, LLMSettings

                    settings = LLMSettings.from_environment(
                        llm_base_url or "", llm_model or "", **llm_options
                    )
                    report = LLMClassifier(settings, store).classify(
                        [k for k in keywords if k not in mapped]
                    )
                else:
                    report = self._classify_offline(
                        keywords, mapped, store, lake_path, train=train_from_llm
                    )
                self.reporter.advance(f"{report.answered:,} keywords answered")
            finally:
                store.close()
            report.tables = self._republish(engine, lake_path, warehouse, mapped)
        return report

    def evaluate(self, labels: Path | str, *, lake: Path | str | None = None) -> Evaluation:
        """Agreement of the offline classifier (the lake's trained one, else the out-of-the-box
        one) with a ``keyword,category`` CSV: overall, per genre, confusion matrix."""
        from c360.enrich.evaluate import evaluate
        from c360.io.reference import read_keyword_labels

        reference = read_keyword_labels(Path(labels))
        lake_path = Path(lake) if lake is not None else self.config.paths.lake
        classifier = self._offline_classifier(lake_path, mapped={}, train=False)
        answers = classifier.classify(list(reference), threshold=self.config.classify.threshold)
        return evaluate(answers, reference)

    def _classify_offline(
        self,
        keywords: list[str],
        mapped: dict[str, str],
        store: AnswerStore,
        lake: Path,
        *,
        train: bool,
    ) -> ClassifyReport:
        import time

        from c360.rules.keywords import UNKNOWN

        started = time.perf_counter()
        classifier = self._offline_classifier(lake, mapped=mapped, train=train, store=store)
        final = store.known("llm")
        todo = [k for k in keywords if k not in final and k not in mapped]
        answers = classifier.classify(todo, threshold=self.config.classify.threshold)
        store.add(answers)
        report = ClassifyReport(asked=len(todo), seconds=time.perf_counter() - started)
        report.answered = sum(a.category != UNKNOWN for a in answers)
        report.model = classifier.version
        report.trained_on = classifier.labels
        return report

    def _offline_classifier(
        self,
        lake: Path,
        *,
        mapped: dict[str, str],
        train: bool,
        store: AnswerStore | None = None,
    ) -> OfflineClassifier:
        """The lake's trained classifier; a new one from the stored LLM answers when ``train``;
        else one from the lexicon and the mapping."""
        from c360.enrich.offline import Label, OfflineClassifier, lexicon_labels
        from c360.errors import InputError
        from c360.search import model_path

        path = model_path(lake)
        if not train and path.exists():
            return OfflineClassifier.load(path)
        labels = lexicon_labels() + [Label(k, c, "mapping") for k, c in mapped.items()]
        if train:
            llm = store.all("llm") if store is not None else []
            if not llm:
                raise InputError(
                    f"no LLM answers in {lake} to train from; run `c360 classify --llm-base-url "
                    "URL --llm-model NAME` first"
                )
            labels += [Label(a.keyword, a.category, "llm") for a in llm]
        self.reporter.info(f"training the keyword model on {len(labels):,} labels")
        classifier = OfflineClassifier.train(labels)
        if train:
            classifier.save(path)
        return classifier

    def _republish(
        self, engine: Engine, lake: Path, warehouse: str | None, mapped: dict[str, str]
    ) -> dict[str, int]:
        """Recompute and publish the tables that show a keyword's genre (none when the last
        run had no search logs)."""
        from c360.pipeline import ContentPipeline
        from c360.search import months_path
        from c360.sinks import create_sink

        if not months_path(lake).exists():
            self.reporter.warn(
                "the last run had no search logs: answers are kept for the next `c360 run --search`"
            )
            return {}
        sink = create_sink(warehouse or self.config.paths.warehouse)
        pipeline = ContentPipeline(engine, sink, self.config, reporter=self.reporter)
        return pipeline.reclassify(lake, mapping=mapped)

    def spark_submit_script(self) -> Path:
        """The script ``spark-submit`` runs to start c360 on a cluster."""
        from c360.engines.spark import SUBMIT_SCRIPT

        return Path(SUBMIT_SCRIPT)

    def runs(self, *, warehouse: str | None = None, limit: int | None = 20) -> pa.Table:
        """Past runs, newest first: window, inputs, rows in and out, timings, checks, status."""
        runs = self.read_table("pipeline_runs", warehouse=warehouse)
        runs = runs.sort_by([("started_at", "descending")])
        return runs.slice(0, limit) if limit else runs

    def quality(self, *, warehouse: str | None = None, run_id: str | None = None) -> pa.Table:
        """The data quality checks of one run (default: the latest), failures first."""
        import pyarrow as pa

        from c360.errors import InputError

        if run_id is None:
            latest = self.runs(warehouse=warehouse, limit=1)
            if latest.num_rows == 0:
                raise InputError("the warehouse has no runs yet; run `c360 run` first")
            run_id = str(latest.column("run_id")[0].as_py())
        checks = self.read_table("dq_results", warehouse=warehouse, where={"run_id": run_id})
        if checks.num_rows == 0:
            raise InputError(f"no data quality results for run {run_id!r} in the warehouse")
        order = {"fail": 0, "warn": 1, "skipped": 2, "pass": 3}
        rank = pa.array([order.get(str(v), 4) for v in checks.column("status").to_pylist()])
        checks = checks.append_column("_rank", rank)
        checks = checks.sort_by([("_rank", "ascending"), ("stage", "ascending")])
        return checks.drop_columns(["_rank"])

    def quarantine(
        self,
        *,
        warehouse: str | None = None,
        source: str = "content",
        reason: str | None = None,
        limit: int | None = 20,
    ) -> pa.Table:
        """Quarantined rows of the last run's window (``source``: content or search), with
        their file, line, reason and raw values; ``reason`` keeps one reason code."""
        from c360.errors import ConfigError

        if source not in ("content", "search"):
            raise ConfigError(f"--source {source!r}: use content or search")
        where = {"reason": reason} if reason else None
        return self.read_table(
            f"quarantine_{source}", warehouse=warehouse, limit=limit, where=where
        )

    def read_table(
        self,
        table: str,
        *,
        warehouse: str | None = None,
        limit: int | None = None,
        where: Mapping[str, object] | None = None,
    ) -> pa.Table:
        """A published table as Arrow (``.to_pandas()`` for a DataFrame)."""
        from c360.sinks import create_sink

        sink = create_sink(warehouse or self.config.paths.warehouse)
        return sink.read(table, limit=limit, where=where)
