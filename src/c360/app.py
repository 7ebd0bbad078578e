"""The application façade: every use case of c360 as one object.

The shells (the CLI, and the API, the stream commands and the Airflow DAG to come) are thin
layers over :class:`C360`; notebooks and orchestrators call it directly::

    from c360.app import C360
    report = C360().run("data/raw/log_content", warehouse="c360.duckdb", lake="data/lake")
    stats = C360().read_table("customer_content_stats", warehouse="c360.duckdb")

A run is four stages, each also a method that an orchestrator task can call alone on a lake (the
run in progress is kept in the lake between them)::

    app = C360()
    app.ingest("data/raw/log_content", lake="data/lake", search="data/raw/log_search")
    app.transform(lake="data/lake")
    app.check(lake="data/lake")
    app.publish(lake="data/lake", warehouse="c360.duckdb")
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from c360.config import C360Config, load_config
from c360.console import NullReporter, Reporter
from c360.context import STAGES, RunRequest
from c360.errors import ConfigError, InputError

# A value the shells pass to simulator(): they reach c360 only through this module.
from c360.generate.stream_events import FaultRates as FaultRates
from c360.reports import ClassifyReport, DemoReport, LoadReport, RunReport

if TYPE_CHECKING:
    from c360.enrich.evaluate import Evaluation
    from c360.generate.dataset import GenerateReport
    from c360.serving.online import OnlinePublish
    from c360.serving.service import Service
    from c360.stream.ingest import IngestReport
    from c360.stream.state import Processor, ProcessReport


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

    # -- a batch run and its stages -----------------------------------------------------------

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
        """Ingest new content (and search) files, rebuild the window's tables, check them and
        publish them: the four stages below, in one go."""
        request = self._request(content, lake, start, end, search, mapping, bridge)
        return self._stages(STAGES, request=request, lake=request.lake, warehouse=warehouse)

    def ingest(
        self,
        content: Path | str,
        *,
        lake: Path | str | None = None,
        start: date | None = None,
        end: date | None = None,
        search: Path | str | None = None,
        mapping: Path | str | None = None,
        bridge: Path | str | None = None,
    ) -> RunReport:
        """Stage 1 of a run: start a run of the window and bring its new or changed inputs into
        the lake's bronze, checked. ``mapping`` and ``bridge`` are used by the transform."""
        request = self._request(content, lake, start, end, search, mapping, bridge)
        return self._stages(["ingest"], request=request, lake=request.lake)

    def transform(self, *, lake: Path | str | None = None) -> RunReport:
        """Stage 2: build every output table of the run in progress into the lake's gold."""
        return self._stages(["transform"], lake=self._lake(lake))

    def check(self, *, lake: Path | str | None = None, warehouse: str | None = None) -> RunReport:
        """Stage 3: check the run's output tables; a failure stops the run (its records go to
        ``warehouse`` when one is given)."""
        return self._stages(["check"], lake=self._lake(lake), warehouse=warehouse)

    def publish(self, *, lake: Path | str | None = None, warehouse: str | None = None) -> RunReport:
        """Stage 4: publish the checked run's tables and records into the warehouse at once."""
        return self._stages(["publish"], lake=self._lake(lake), warehouse=warehouse or "")

    def _request(
        self,
        content: Path | str,
        lake: Path | str | None,
        start: date | None,
        end: date | None,
        search: Path | str | None,
        mapping: Path | str | None,
        bridge: Path | str | None,
    ) -> RunRequest:
        if start and end and start > end:
            raise ConfigError(f"--from {start} is after --to {end}")

        def path(value: Path | str | None) -> Path | None:
            return Path(value) if value is not None else None

        return RunRequest(
            lake=self._lake(lake), content=Path(content), start=start, end=end,
            search=path(search), mapping=path(mapping), bridge=path(bridge),
        )  # fmt: skip

    def _lake(self, lake: Path | str | None) -> Path:
        return Path(lake) if lake is not None else self.config.paths.lake

    def _stages(
        self,
        names: Sequence[str],
        *,
        lake: Path,
        request: RunRequest | None = None,
        warehouse: str | None = None,
    ) -> RunReport:
        """Run ``names`` of a new run (``request``) or of the run in progress in ``lake``.
        ``warehouse`` "" means the configured one; None, no warehouse."""
        from c360.lake.layout import LakeLayout
        from c360.runs.batch import open_run, run_stages
        from c360.sinks import create_sink

        sink = None
        if warehouse is not None or "publish" in names:
            sink = create_sink(warehouse or self.config.paths.warehouse)
        with open_run(
            request, lake=LakeLayout(lake), config=self.config, reporter=self.reporter,
            command=names[0] if len(names) == 1 else "run", sink=sink,
        ) as ctx:  # fmt: skip
            return run_stages(ctx, names)

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
        budget_seconds: float | None = None,
        train_from_llm: bool = False,
    ) -> ClassifyReport:
        """Classify the lake's search keywords and republish the tables that show a keyword's
        genre (``keyword_category``, ``search_monthly_top``, ``customer_search_stats``,
        ``customer_360``).

        Offline by default: known keywords, marker rules and a local model. With an LLM
        (``llm_base_url`` and ``llm_model``; the API key comes from ``C360_LLM_API_KEY``) every
        keyword without an LLM answer is asked, most searched first, and answers are kept as they
        arrive; the request timeout and the longest ``Retry-After`` honoured are
        ``classify.llm_timeout`` and ``classify.llm_max_wait``. ``train_from_llm`` retrains the
        local model from the stored LLM answers (plus the lexicon and the user's mapping), keeps
        it in the lake, and classifies the rest with it.
        """
        from c360.engines import create_engine
        from c360.lake.layout import LakeLayout
        from c360.lake.lock import lake_lock
        from c360.runs.classify import ClassifyRequest, classify_keywords
        from c360.sinks import create_sink

        if train_from_llm and (llm_base_url or llm_model):
            raise ConfigError("--train-from-llm works offline: give it without --llm-base-url")
        request = ClassifyRequest(
            llm_base_url, llm_model,
            {"concurrency": concurrency, "batch_size": batch_size,
             "budget_requests": budget_requests, "budget_tokens": budget_tokens,
             "budget_seconds": budget_seconds},
            train_from_llm=train_from_llm,
        )  # fmt: skip
        layout = LakeLayout(self._lake(lake))
        with (
            lake_lock(layout.root, command="classify"),
            create_engine(self.config.engine, scratch=str(layout.scratch)) as engine,
        ):
            sink = create_sink(warehouse or self.config.paths.warehouse)
            return classify_keywords(
                request, engine=engine, lake=layout, config=self.config, sink=sink,
                reporter=self.reporter,
            )  # fmt: skip

    def evaluate(self, labels: Path | str, *, lake: Path | str | None = None) -> Evaluation:
        """Agreement of the offline classifier (the lake's trained one, else the out-of-the-box
        one) with a ``keyword,category`` CSV: overall, per genre, confusion matrix."""
        from c360.enrich.evaluate import evaluate
        from c360.io.reference import read_keyword_labels
        from c360.lake.layout import LakeLayout
        from c360.runs.classify import offline_classifier

        reference = read_keyword_labels(Path(labels))
        classifier = offline_classifier(
            LakeLayout(self._lake(lake)), self.reporter, mapped={}, train=False
        )
        answers = classifier.classify(list(reference), threshold=self.config.classify.threshold)
        return evaluate(answers, reference)

    def spark_submit_script(self) -> Path:
        """The script ``spark-submit`` runs to start c360 on a cluster."""
        from c360.engines.spark import SUBMIT_SCRIPT

        return Path(SUBMIT_SCRIPT)

    def serving(
        self, *, warehouse: str | None = None, poll_s: float = 1.0, online: str | None = None
    ) -> Service:
        """The questions ``c360 serve`` answers, over the warehouse's latest publish.

        Start it with ``with app.serving(...) as service:``: the latest publish is loaded into
        memory and watched (every ``poll_s`` seconds); a new publish is swapped in whole, so each
        answer comes from one run. ``online`` (``redis://…``) answers profile look-ups from the
        online store (see :meth:`publish_online`), the warehouse standing in when it is down.
        """
        from c360.serving.online import OnlineStore
        from c360.serving.service import Service
        from c360.serving.snapshot import ServedWarehouse
        from c360.sinks import create_sink

        sink = create_sink(warehouse or self.config.paths.warehouse)
        served = ServedWarehouse(sink, poll_s=poll_s, reporter=self.reporter)
        store = OnlineStore(online) if online else None
        return Service(served, self.config, online=store)

    def simulator(
        self,
        *,
        seed: int = 7,
        rate: float = 5000.0,
        total: int | None = None,
        dump: Path | str | None = None,
        faults: FaultRates | None = None,
        start: datetime | None = None,
    ) -> Any:
        """The streaming simulator of ``c360 simulate`` as an ASGI application (SPEC 8.2).

        ``GET /votes`` and ``GET /events`` serve song votes and viewing events, the same ones
        for the same ``seed``, ``rate`` of them a second per stream (0: no limit), ``total`` in
        all (default: no end), with ``faults`` injected (:class:`FaultRates`, default none);
        ``dump`` gets one JSON line per event served; ``start`` is the event time of the first
        event (default: now). See :mod:`c360.stream.simulator`.
        """
        from c360.stream.simulator import create_simulator

        return create_simulator(
            seed=seed, rate=rate, total=total, dump=dump, faults=faults or FaultRates(),
            start=start,
        )  # fmt: skip

    def publish_online(self, *, online: str, warehouse: str | None = None) -> OnlinePublish:
        """Write every customer profile of the warehouse's latest publish into the online store
        (Redis) under that publish's own prefix, then switch the store to it at once."""
        from c360.serving.online import OnlineStore
        from c360.serving.snapshot import load_snapshot
        from c360.sinks import create_sink

        store = OnlineStore(online)
        # Only what the online store holds: the profiles, and the runs for the run id.
        sink = create_sink(warehouse or self.config.paths.warehouse)
        snapshot = load_snapshot(sink, ("customer_360", "pipeline_runs"), {})
        try:
            self.reporter.stage("online", total=1)
            published = store.publish(snapshot)
            self.reporter.advance(f"{published.customers} profiles")
            return published
        finally:
            snapshot.close()

    def runs(self, *, warehouse: str | None = None, limit: int | None = 20) -> pa.Table:
        """Past runs, newest first: window, inputs, rows in and out, timings, checks, status."""
        limit = _rows_limit(limit)
        runs = self.read_table("pipeline_runs", warehouse=warehouse)
        runs = runs.sort_by([("started_at", "descending")])
        return runs.slice(0, limit) if limit else runs

    def quality(self, *, warehouse: str | None = None, run_id: str | None = None) -> pa.Table:
        """The data quality checks of one run (default: the latest), failures first."""
        import pyarrow as pa

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

    # -- streaming (SPEC 8.2) ------------------------------------------------------------------

    def stream_ingest(
        self,
        source: str,
        *,
        landing: Path | str | None = None,
        broker: str | None = None,
        streams: Sequence[str] | None = None,
        follow: bool = False,
        max_seconds: float | None = None,
        stop: Any = None,
    ) -> IngestReport:
        """Poll ``source`` (``c360 simulate``'s API) and land everything it serves in the
        folder ``landing`` or in NATS JetStream (``broker``, ``nats://…``), each poll stored
        durably before the next; resumes after what was stored last. Returns when the source is
        done (``follow``: when stopped)."""
        from c360.stream.broker import JetStreamLanding
        from c360.stream.ingest import STREAMS, Ingester
        from c360.stream.landing import LandingZone

        if (landing is None) == (broker is None):
            raise ConfigError("land in a folder (--landing) or in NATS (--broker), one of them")
        zone = JetStreamLanding(broker) if broker else LandingZone(landing or "")
        try:
            ingester = Ingester(
                source, zone, reporter=self.reporter, streams=tuple(streams or STREAMS),
                count=self.config.stream.poll_count,
            )  # fmt: skip
            return ingester.run(follow=follow, max_seconds=max_seconds, stop=stop)
        finally:
            if isinstance(zone, JetStreamLanding):
                zone.close()

    def stream_process(
        self,
        *,
        landing: Path | str,
        warehouse: str | None = None,
        lake: Path | str | None = None,
        trigger_s: float = 2.0,
        once: bool = False,
        max_seconds: float | None = None,
        stop: Any = None,
        engine: str = "duckdb",
        broker: str | None = None,
    ) -> ProcessReport:
        """Process what is landed in ``landing`` (or published to NATS JetStream at ``broker``,
        ``nats://…``; ``landing`` then holds only the processor's checkpoint) every
        ``trigger_s`` seconds into ``live_leaderboard``, ``live_usage`` and ``live_batches``
        (lake and warehouse), each event counted once (``once``: what is landed now, then
        return), on ``engine`` (``duckdb`` or ``spark``: Spark Structured Streaming)."""
        from c360.lake.layout import LakeLayout
        from c360.sinks import create_sink
        from c360.stream.broker import JetStreamLanding
        from c360.stream.landing import LandingZone
        from c360.stream.process import StreamProcessor

        if engine not in ("duckdb", "spark"):
            raise ConfigError(f"{engine!r}: the stream processor runs on duckdb or spark")
        sink = create_sink(warehouse or self.config.paths.warehouse)
        kind: type[Processor] = StreamProcessor
        if engine == "spark":
            from c360.stream.spark_process import SparkStreamProcessor

            kind = SparkStreamProcessor
        source = JetStreamLanding(broker) if broker else None
        try:
            processor = kind(
                LandingZone(landing), config=self.config, reporter=self.reporter,
                lake=LakeLayout(self._lake(lake)), sink=sink, broker=source,
            )  # fmt: skip
            with processor:
                return processor.run(
                    trigger_s=trigger_s, once=once, max_seconds=max_seconds, stop=stop
                )
        finally:
            if source is not None:
                source.close()

    def stream_status(self, *, landing: Path | str, broker: str | None = None) -> dict[str, Any]:
        """What is landed and what the processor has done: per stream the landed and processed
        positions and the lag between them, batches, events, quarantine by reason (``broker``:
        messages in NATS JetStream instead of landed files; ``landing`` holds the checkpoint)."""
        from c360.stream.broker import JetStreamLanding
        from c360.stream.landing import LandingZone
        from c360.stream.state import read_status

        zone = LandingZone(landing)
        if broker is None and not zone.root.is_dir():
            raise InputError(f"no landing zone at {zone.root}; start `c360 stream ingest`")
        status = read_status(zone) or {}
        offsets = status.get("offsets", {})
        if broker is None:
            landed = {s: zone.files(s) for s in ("votes", "events")}
            positions = {s: (f[-1].next if f else 0, len(f)) for s, f in landed.items()}
            done = {s: int(offsets.get(s, 0)) for s in landed}
        else:
            with JetStreamLanding(broker) as source:
                positions = {s: (source.last_sequence(s), 0) for s in ("votes", "events")}
            # A checkpoint holds the next sequence to read (from 1).
            done = {s: max(0, int(offsets.get(s, 1)) - 1) for s in positions}
        streams = {
            s: {"landed": last, "processed": done[s], "lag": last - done[s], "files": files}
            for s, (last, files) in positions.items()
        }
        return {"streams": streams, "processor": status or None}

    def stream_leaderboard(self, *, warehouse: str | None = None, limit: int = 10) -> pa.Table:
        """The live leaderboard as last published, best first (at most ``limit`` songs)."""
        board = self.read_table("live_leaderboard", warehouse=warehouse)
        return board.sort_by("rank").slice(0, _rows_limit(limit))

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

        limit = _rows_limit(limit)
        sink = create_sink(warehouse or self.config.paths.warehouse)
        return sink.read(table, limit=limit, where=where)


#: More rows than any table holds: a larger limit means every row (and would overflow SQL).
_ALL_ROWS = 2**62


def _rows_limit(limit: int | None) -> int | None:
    """``limit`` checked: None or a number of rows from 1 (above any table's size: None)."""
    if limit is None or limit > _ALL_ROWS:
        return None
    if limit < 1:
        raise ConfigError(f"--limit {limit}: ask for 1 row or more")
    return limit
