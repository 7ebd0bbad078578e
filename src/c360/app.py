"""The application façade: every use case of c360 as one object.

The CLI (and later the API and the dashboard) are thin shells over :class:`C360`; notebooks and
orchestrators call it directly::

    from c360.app import C360
    report = C360().run("data/raw/log_content", warehouse="c360.duckdb", lake="data/lake")
    stats = C360().read_table("customer_content_stats", warehouse="c360.duckdb")
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from c360.config import C360Config, load_config
from c360.console import NullReporter, Reporter

if TYPE_CHECKING:
    import pyarrow as pa

    from c360.enrich.llm import ClassifyReport
    from c360.generate.dataset import GenerateReport
    from c360.pipeline import RunReport


@dataclass(frozen=True)
class DemoReport:
    """A demo: the generated data and the run on it."""

    generated: GenerateReport
    run: RunReport
    warehouse: str


@dataclass(frozen=True)
class LoadReport:
    """A copy of one warehouse's tables into another."""

    target: str
    tables: dict[str, int]
    seconds: float


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
        with create_engine(self.config.engine, scratch=scratch) as engine:
            pipeline = ContentPipeline(engine, sink, self.config, reporter=self.reporter)
            return pipeline.run(request)

    def demo(self, out: Path | str, *, scale: float = 0.01, seed: int = 42) -> DemoReport:
        """Generate a small data set under ``out`` and run the whole pipeline on it."""
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
        return DemoReport(generated=generated, run=run, warehouse=warehouse)

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
        llm_base_url: str | None = None,
        llm_model: str | None = None,
        concurrency: int = 8,
        batch_size: int = 100,
        budget_requests: int | None = None,
        budget_tokens: int | None = None,
    ) -> ClassifyReport:
        """Classify the lake's search keywords, most searched first; answers are kept in the
        lake and used by the next ``run`` (``keyword_category`` and the search tables).

        The API key comes from ``C360_LLM_API_KEY``.
        """
        from c360.engines import create_engine
        from c360.enrich.llm import LLMClassifier, LLMSettings
        from c360.enrich.store import AnswerStore
        from c360.errors import ConfigError
        from c360.search import answers_path, keyword_frequencies

        if not llm_base_url or not llm_model:
            raise ConfigError(
                "classification needs an LLM for now: give --llm-base-url and --llm-model "
                "(the offline classifier is not part of this version)"
            )
        lake_path = Path(lake) if lake is not None else self.config.paths.lake
        with create_engine(self.config.engine) as engine:
            keywords = keyword_frequencies(engine, lake_path)
        settings = LLMSettings.from_environment(
            llm_base_url,
            llm_model,
            concurrency=concurrency,
            batch_size=batch_size,
            budget_requests=budget_requests,
            budget_tokens=budget_tokens,
        )
        store = AnswerStore(answers_path(lake_path))
        try:
            self.reporter.stage("classify", total=1)
            report = LLMClassifier(settings, store).classify(keywords)
            self.reporter.advance(f"{report.answered:,} keywords answered")
            return report
        finally:
            store.close()

    def read_table(
        self, table: str, *, warehouse: str | None = None, limit: int | None = None
    ) -> pa.Table:
        """A published table as Arrow (``.to_pandas()`` for a DataFrame)."""
        from c360.sinks import create_sink

        return create_sink(warehouse or self.config.paths.warehouse).read(table, limit=limit)
