"""The ``c360`` command: a thin Typer shell over :class:`c360.app.C360`.

User mistakes end in one red line and exit code 1 (2 for bad usage); ``--verbose`` adds detail and
the traceback. Heavy libraries load inside the commands, so ``c360 --help`` is instant.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.markup import escape

from c360 import __version__
from c360.console import RichReporter, console, err_console
from c360.errors import C360Error

if TYPE_CHECKING:
    from c360.app import C360
    from c360.enrich.evaluate import Evaluation
    from c360.reports import ClassifyReport, RunReport

app = typer.Typer(
    name="c360",
    help="Customer 360 from OTT TV logs: profiles, star schema and quality, on DuckDB or Spark.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config", help="TOML config file (default: ./c360.toml when present).", dir_okay=False
    ),
]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="More detail, and tracebacks.")]


def _fail(message: str, *, code: int = 1) -> NoReturn:
    err_console.print(f"[bold red]error:[/bold red] {escape(message)}", soft_wrap=True)
    raise typer.Exit(code)


def _day(value: str | None, flag: str) -> date | None:
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        _fail(f"{flag} {value!r} is not a date; use YYYY-MM-DD", code=2)


def _facade(config: Path | None, overrides: dict[str, Any], reporter: RichReporter) -> C360:
    from c360.app import C360

    return C360(config_file=config, overrides=overrides, reporter=reporter)


@contextmanager
def _guard(verbose: bool) -> Iterator[None]:
    """Turn c360 errors into one line (and the traceback with --verbose)."""
    try:
        yield
    except (typer.Exit, KeyboardInterrupt):
        raise
    except C360Error as exc:
        if verbose:
            console.print_exception()
        _fail(str(exc))
    except OSError as exc:
        if verbose:
            console.print_exception()
        _fail(f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc))


@app.callback(invoke_without_command=True)
def _root(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    if version:
        console.print(f"c360 {__version__}")
        raise typer.Exit()


@app.command()
def run(
    content: Annotated[
        Path, typer.Option("--content", help="Folder of daily content logs (YYYYMMDD.json[.gz]).")
    ],
    warehouse: Annotated[
        str | None,
        typer.Option(
            help="Warehouse: a .duckdb file path (default: c360.duckdb), mysql://user@host/db or "
            "postgresql://user@host/db (password from C360_DB_PASSWORD)."
        ),
    ] = None,
    lake: Annotated[
        Path | None,
        typer.Option(help="Parquet lake folder (bronze, gold, state) (default: data/lake)."),
    ] = None,
    search: Annotated[
        Path | None,
        typer.Option(help="Folder of search log day folders (YYYYMMDD/ with Parquet parts)."),
    ] = None,
    mapping: Annotated[
        Path | None,
        typer.Option(help="CSV keyword,category: categories you already know for keywords."),
    ] = None,
    bridge: Annotated[
        Path | None,
        typer.Option(help="CSV contract,user_id: joins the search profile into customer_360."),
    ] = None,
    start: Annotated[
        str | None, typer.Option("--from", help="First day of the window, YYYY-MM-DD.")
    ] = None,
    end: Annotated[
        str | None,
        typer.Option(
            "--to", help="Last day of the window (and the recency reference), YYYY-MM-DD."
        ),
    ] = None,
    engine: Annotated[
        str | None, typer.Option(help="Compute engine: duckdb (default) or spark.")
    ] = None,
    threads: Annotated[
        int | None, typer.Option(help="Engine threads (default: all cores).")
    ] = None,
    memory_limit: Annotated[
        str | None,
        typer.Option(help="Engine memory limit, e.g. 4GB (default: 3GB; spills to disk beyond)."),
    ] = None,
    spark_master: Annotated[
        str | None,
        typer.Option(
            help="Spark master with --engine spark: local[*] (default), spark://host:7077, yarn."
        ),
    ] = None,
    allow_dq_failures: Annotated[
        bool | None,
        typer.Option(
            "--allow-dq-failures",
            help="Publish even when a data quality check fails (the run record says so).",
        ),
    ] = None,
    config: ConfigOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Ingest new or changed content files and rebuild the Customer 360 tables for the window.

    Only files that are new or changed since the last run are read; the window's tables are
    rebuilt from the lake and replace the previous ones in the warehouse and the lake. Data
    quality checks run after each stage; a failed check stops the run before anything is
    published (see `c360 quality`).
    """
    overrides = {
        "engine.name": engine,
        "engine.threads": threads,
        "engine.memory_limit": memory_limit,
        "engine.spark_master": spark_master,
        "quality.allow_failures": allow_dq_failures,
    }
    window = (_day(start, "--from"), _day(end, "--to"))
    with RichReporter(verbose=verbose) as reporter, _guard(verbose):
        facade = _facade(config, overrides, reporter)
        report = facade.run(
            content,
            warehouse=warehouse,
            lake=lake,
            start=window[0],
            end=window[1],
            search=search,
            mapping=mapping,
            bridge=bridge,
        )
    _print_run(report)


@app.command()
def generate(
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("data/raw"),
    scale: Annotated[
        float,
        typer.Option(help="Scale factor: 1.0 ≈ a real month (30 × 1.6 M lines).", min=0.00001),
    ] = 0.01,
    seed: Annotated[
        int, typer.Option(help="Random seed; the same seed writes the same files.")
    ] = 42,
    days: Annotated[int, typer.Option(help="Content days, from 2022-04-01.", min=1)] = 30,
    gzip: Annotated[bool, typer.Option("--gzip", help="Write content files as .json.gz.")] = False,
    config: ConfigOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Write synthetic content and search logs in the raw formats, plus a contract↔user bridge."""
    with RichReporter(verbose=verbose) as reporter, _guard(verbose):
        facade = _facade(config, {}, reporter)
        report = facade.generate(out, scale=scale, seed=seed, days=days, gzip=gzip)
    console.print(
        f"[green]✓[/green] wrote {len(report.content_files)} content days to {report.content_dir}, "
        f"{len(report.search_folders)} search days to {report.search_dir}, "
        f"bridge of {report.bridged:,} contracts to {report.bridge}"
    )


@app.command()
def demo(
    out: Annotated[
        Path, typer.Option("--out", help="Folder for the data, lake and warehouse.")
    ] = Path("demo"),
    scale: Annotated[
        float, typer.Option(help="Scale factor of the generated data.", min=0.00001)
    ] = 0.01,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 42,
    config: ConfigOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Generate a small realistic data set and run the whole pipeline on it with DuckDB."""
    with RichReporter(verbose=verbose) as reporter, _guard(verbose):
        facade = _facade(config, {}, reporter)
        result = facade.demo(out, scale=scale, seed=seed)
        _print_run(result.run)
        _print_classify(result.classify)
        _print_samples(facade, result.warehouse)


@app.command()
def bench(
    only: Annotated[
        list[str] | None,
        typer.Option(help="Run only this step (repeatable): content, engines, warehouse, sf3."),
    ] = None,
    scale: Annotated[float, typer.Option(help="Scale of the content pipeline step.")] = 1.0,
    repeat: Annotated[int, typer.Option(help="Runs per step; medians are reported.", min=1)] = 3,
    rows: Annotated[int, typer.Option(help="Rows per warehouse load.", min=1)] = 2_000_000,
) -> None:
    """Run the benchmark suite of a source checkout and judge it against the targets.

    Data is generated once (cached under benchmarks/.cache). Each step runs in its own processes.
    The figures go to docs/benchmarks.md and benchmarks/results.json.

    The warehouse step needs the MariaDB and PostgreSQL servers; the engines step needs Java.
    """
    import subprocess

    import c360

    suite = Path(c360.__file__).resolve().parents[2] / "benchmarks" / "suite.py"
    if not suite.is_file():
        _fail("c360 bench runs benchmarks/suite.py of a source checkout; none is installed here")
    command = [sys.executable, str(suite), "--scale", str(scale), "--repeat", str(repeat)]
    command += ["--rows", str(rows)]
    for step in only or []:
        command += ["--only", step]
    code = subprocess.run(command, check=False).returncode
    if code:
        _fail(f"the benchmark stopped (exit {code}); its output above says where", code=code)


@app.command("spark-entry")
def spark_entry() -> None:
    """Print the path of the script spark-submit runs to start c360 on a cluster:

    spark-submit --master spark://host:7077 "$(c360 spark-entry)" run --engine spark ...
    """
    from c360.engines.spark import SUBMIT_SCRIPT

    console.print(str(SUBMIT_SCRIPT), soft_wrap=True, highlight=False)


@app.command()
def load(
    source: Annotated[
        str, typer.Option("--from", help="DuckDB warehouse file to copy the tables from.")
    ],
    target: Annotated[
        str,
        typer.Option(
            "--to",
            help="Warehouse to publish into: mysql://user@host:3306/db or "
            "postgresql://user@host:5432/db (password from C360_DB_PASSWORD), or a .duckdb path.",
        ),
    ],
    config: ConfigOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Publish the tables of an existing DuckDB warehouse into another warehouse.

    Every table is replaced in one step: the target keeps its previous tables if the load fails.
    """
    from rich.table import Table

    with RichReporter(verbose=verbose) as reporter, _guard(verbose):
        facade = _facade(config, {}, reporter)
        result = facade.load(source, to=target)
    table = Table(title=f"loaded into {result.target}", title_justify="left")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, rows in result.tables.items():
        table.add_row(escape(name), f"{rows:,}")
    console.print(table)
    console.print(f"{result.seconds:.1f} s", soft_wrap=True)


@app.command()
def classify(
    warehouse: Annotated[
        str | None,
        typer.Option(
            help="Warehouse whose search tables get the new genres (default: c360.duckdb)."
        ),
    ] = None,
    lake: Annotated[
        Path | None, typer.Option(help="Parquet lake folder of earlier runs (default: data/lake).")
    ] = None,
    llm_base_url: Annotated[
        str | None,
        typer.Option(
            help="OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1 (else offline)."
        ),
    ] = None,
    llm_model: Annotated[str | None, typer.Option(help="Model name on that server.")] = None,
    concurrency: Annotated[int, typer.Option(help="LLM requests in flight at once.", min=1)] = 8,
    batch_size: Annotated[int, typer.Option(help="Keywords per LLM request.", min=1)] = 100,
    budget_requests: Annotated[
        int | None, typer.Option(help="Stop after this many requests (retries included).")
    ] = None,
    budget_tokens: Annotated[
        int | None, typer.Option(help="Stop after this many tokens (as the server reports).")
    ] = None,
    train_from_llm: Annotated[
        bool,
        typer.Option(
            "--train-from-llm",
            help="Retrain the offline model from the stored LLM answers, then classify the rest.",
        ),
    ] = False,
    evaluate: Annotated[
        Path | None,
        typer.Option(
            help="Only measure: agreement of the offline classifier with this keyword,category "
            "CSV (per genre, and a confusion matrix).",
            dir_okay=False,
        ),
    ] = None,
    config: ConfigOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Decide the genre of every searched keyword, most searched first, and republish the
    search tables with it.

    Offline by default: known titles, marker words and a local model (below its confidence
    threshold a keyword stays Unknown). With --llm-base-url and --llm-model an LLM answers
    instead; its API key comes from the environment variable C360_LLM_API_KEY (never a flag).
    Every answer is kept in the lake as it arrives: an interrupted run resumes without asking
    again, and an LLM answer is never replaced.
    """
    with RichReporter(verbose=verbose) as reporter, _guard(verbose):
        facade = _facade(config, {}, reporter)
        if evaluate is not None:
            _print_evaluation(facade.evaluate(evaluate, lake=lake))
            return
        report = facade.classify(
            lake=lake,
            warehouse=warehouse,
            llm_base_url=llm_base_url,
            llm_model=llm_model,
            concurrency=concurrency,
            batch_size=batch_size,
            budget_requests=budget_requests,
            budget_tokens=budget_tokens,
            train_from_llm=train_from_llm,
        )
    _print_classify(report)


def _print_classify(report: ClassifyReport) -> None:
    if report.model is not None:
        console.print(
            f"{report.answered:,} of {report.asked:,} keywords given a genre offline in "
            f"{report.seconds:.1f} s (the rest are Unknown: the model was not sure); "
            f"model {report.model}, learned from {report.trained_on:,} labels",
            soft_wrap=True,
        )
    else:
        errors = ", ".join(f"{k} {v}" for k, v in sorted(report.errors.items())) or "none"
        console.print(
            f"{report.answered:,} of {report.asked:,} keywords answered in {report.seconds:.1f} s;"
            f" {report.requests:,} requests ({report.retries:,} retries; errors: {errors}), "
            f"{report.tokens:,} tokens"
            + ("; budget spent, the rest stays Unknown" if report.budget_exhausted else ""),
            soft_wrap=True,
        )
    if report.tables:
        published = ", ".join(f"{name} ({rows:,})" for name, rows in report.tables.items())
        console.print(f"republished: {published}", soft_wrap=True)


def _print_evaluation(result: Evaluation) -> None:
    from rich.table import Table

    console.print(
        f"agreement {result.agreement:.1%} on {result.keywords:,} keywords; "
        f"{result.coverage:.1%} answered (not Unknown), {result.answered_agreement:.1%} of "
        "those agree",
        soft_wrap=True,
    )
    genres = Table(title="agreement per genre", title_justify="left")
    for column in ("genre", "keywords", "agreed", "agreement"):
        genres.add_column(column, justify="left" if column == "genre" else "right")
    for genre, (n, agreed) in result.per_genre().items():
        genres.add_row(genre, f"{n:,}", f"{agreed:,}", f"{agreed / n:.1%}")
    console.print(genres)
    columns = result.columns()
    matrix = Table(title="confusion (rows: reference, columns: answer)", title_justify="left")
    matrix.add_column("")
    for column in columns:
        matrix.add_column(column[:7], justify="right")
    for genre in result.per_genre():
        matrix.add_row(genre, *(str(result.confusion.get((genre, c), 0)) for c in columns))
    console.print(matrix)


WarehouseOpt = Annotated[
    str | None,
    typer.Option(
        help="Warehouse: a .duckdb file, mysql://… or postgresql://… (default: c360.duckdb)."
    ),
]


@app.command()
def quality(
    warehouse: WarehouseOpt = None,
    run_id: Annotated[
        str | None, typer.Option("--run", help="Run id (default: the latest run).")
    ] = None,
    show_passed: Annotated[
        bool, typer.Option("--all", help="Also list the checks that passed or were skipped.")
    ] = False,
    config: ConfigOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """The data quality checks of the latest run (or of --run): failures and warnings first."""
    from rich.table import Table

    from c360.reports import show_value

    with _guard(verbose):
        checks = _facade(config, {}, RichReporter()).quality(warehouse=warehouse, run_id=run_id)
    rows = checks.to_pylist()
    counts = {s: sum(r["status"] == s for r in rows) for s in ("fail", "warn", "skipped", "pass")}
    shown = rows if show_passed else [r for r in rows if r["status"] in ("fail", "warn")]
    table = Table(
        title=f"run {rows[0]['run_id']}: " + ", ".join(f"{n} {s}" for s, n in counts.items() if n),
        title_justify="left",
    )
    table.add_column("status")
    table.add_column("check")
    table.add_column("on", overflow="fold")
    table.add_column("observed", justify="right")
    table.add_column("limit", justify="right")
    styles = {"fail": "bold red", "warn": "yellow", "pass": "green", "skipped": "dim"}
    for r in shown:
        check = r["check_name"]
        where = r["table_name"] + (f" {r['subject']}" if r["subject"] else "")
        table.add_row(
            f"[{styles.get(r['status'], '')}]{r['status']}[/]", check, escape(where),
            show_value(check, r["observed"]), show_value(check, r["threshold"]),
        )  # fmt: skip
    if shown:
        console.print(table)
    else:
        console.print(table.title)
    hidden = len(rows) - len(shown)
    if hidden:
        console.print(f"{hidden} checks passed or were skipped (--all lists them)")


def _count(value: int | None) -> str:
    """``48,123,456`` → ``48.1M``: short enough for a table on an 80-column terminal."""
    if value is None:
        return ""
    for size, suffix in ((1e9, "G"), (1e6, "M"), (1e4, "k")):
        if value >= size:
            return f"{value / size:.1f}{suffix}"
    return str(value)


@app.command()
def runs(
    warehouse: WarehouseOpt = None,
    limit: Annotated[int, typer.Option(help="How many runs, newest first.")] = 20,
    config: ConfigOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Past runs, newest first: window, rows read and quarantined, checks, status and duration
    (`c360 quality --run ID` shows a run's checks)."""
    import json

    from rich import box
    from rich.table import Table

    with _guard(verbose):
        history = _facade(config, {}, RichReporter()).runs(warehouse=warehouse, limit=limit)
    table = Table(
        title="runs, newest first", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False
    )
    for column in ("run", "window", "rows/bad", "checks", "status"):
        table.add_column(column, no_wrap=True)
    errors = []
    for r in history.to_pylist():
        seconds = sum(json.loads(r["timings"] or "{}").values())
        counts = ((r.get("checks_failed") or 0, "F"), (r.get("checks_warned") or 0, "W"))
        checks = " ".join(f"{n}{what}" for n, what in counts if n) or "ok"
        if r.get("dq_failures_allowed"):
            checks += " allowed"
        window = f"{r['window_start']:%m-%d}…{r['window_end']:%m-%d}" if r["window_end"] else ""
        table.add_row(
            r["run_id"], window, f"{_count(r['rows_read'])}/{_count(r['rows_quarantined'])}",
            checks, f"{r['status']} {seconds:.0f}s",
        )  # fmt: skip
        if r["error"]:
            errors.append(f"{r['run_id']} ({r['engine']}): {r['error']}")
    console.print(table)
    console.print("rows read/quarantined; checks: F failed, W warned (`c360 quality --run ID`)")
    for line in errors:
        console.print(escape(line), soft_wrap=True)


@app.command()
def quarantine(
    warehouse: WarehouseOpt = None,
    source: Annotated[str, typer.Option(help="content or search.")] = "content",
    reason: Annotated[
        str | None,
        typer.Option(help="Only this reason code, e.g. bad_contract, malformed_json, bad_user_id."),
    ] = None,
    limit: Annotated[int, typer.Option(help="How many rows.")] = 20,
    config: ConfigOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Quarantined rows of the last run's window: file, line, reason and the raw values."""
    from rich.table import Table

    with _guard(verbose):
        rows = _facade(config, {}, RichReporter()).quarantine(
            warehouse=warehouse, source=source, reason=reason, limit=limit
        )
    columns = [c for c in rows.column_names if c not in ("file_date",)]
    table = Table(title=f"quarantine_{source}", title_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold")
    for record in rows.to_pylist():
        table.add_row(*(escape(_short(record[c])) for c in columns))
    console.print(table)
    if rows.num_rows == 0:
        console.print("no quarantined rows" + (f" with reason {reason}" if reason else ""))


def _short(value: object, width: int = 120) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def _print_run(report: RunReport) -> None:
    from rich.table import Table

    table = Table(title=f"run {report.run_id}", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column(justify="right")
    window = f"{report.window_start} … {report.window_end}"
    rows = [
        ("window", window),
        ("files", f"{report.files_found} found, {report.files_ingested} ingested, "
                  f"{report.files_unchanged} unchanged"),
        ("rows read", f"{report.rows_read:,}"),
        ("rows accepted", f"{report.rows_accepted:,}"),
        ("rows quarantined", f"{report.rows_quarantined:,}"
         + (f" ({', '.join(f'{k} {v:,}' for k, v in sorted(report.quarantine_reasons.items()))})"
            if report.quarantine_reasons else "")),
        ("duplicate _ids dropped", f"{report.duplicates:,}"),
        ("customers profiled", f"{report.contracts_profiled:,}"),
        *([("search", f"{report.search.days_found} days, {report.search.rows_read:,} rows, "
                      f"{report.search.searches_counted:,} searches by {report.search.users:,} "
                      f"users, months {', '.join(report.search.months)}")]
          if report.search else []),
        ("time", f"{report.seconds:.1f} s ("
                 + ", ".join(f"{k} {v:.1f}" for k, v in report.stages.items()) + ")"),
        ("checks", _checks_line(report)),
        ("warehouse", report.warehouse),
        ("lake", str(report.lake)),
    ]  # fmt: skip
    for key, value in rows:
        table.add_row(key, escape(value))
    console.print(table)
    if "://" in report.warehouse and not report.warehouse.startswith("duckdb://"):
        return
    warehouse = report.warehouse.removeprefix("duckdb://")
    connect = f"duckdb.connect({warehouse!r}, read_only=True)"
    query = "FROM customer_content_stats LIMIT 5"
    console.print(
        escape(f'query it: python -c "import duckdb; print({connect}.sql({query!r}))"')
        + escape(f"  (gold Parquet: {report.lake}/gold/*.parquet)"),
        soft_wrap=True,
    )


def _checks_line(report: RunReport) -> str:
    statuses = [c.status for c in report.checks]
    line = ", ".join(
        f"{statuses.count(s)} {s}" for s in ("pass", "warn", "fail", "skipped") if s in statuses
    )
    return line + (" (see `c360 quality`)" if any(s != "pass" for s in statuses) else "")


def _print_samples(facade: C360, warehouse: str) -> None:
    from rich.table import Table

    for name, columns in (
        ("customer_content_stats", ["contract", "total_duration", "active_days", "most_watch",
                                    "taste", "activeness", "customer_type"]),
        ("top_apps", ["rank", "app_name", "category", "total_duration", "contracts"]),
        ("keyword_category", ["keyword_norm", "category", "source", "confidence"]),
        ("search_monthly_top", ["user_id", "month", "most_search", "search_count", "category"]),
        ("customer_search_stats", ["user_id", "most_search_prev", "most_search_curr",
                                   "trending_type", "category_change"]),
        ("customer_360", ["contract", "most_watch", "customer_type", "user_id",
                          "category_curr", "trending_type"]),
    ):  # fmt: skip
        data = facade.read_table(name, warehouse=warehouse, limit=5).select(columns)
        table = Table(title=name, title_justify="left")
        for column in columns:
            table.add_column(column)
        for record in data.to_pylist():
            table.add_row(*("" if record[c] is None else str(record[c]) for c in columns))
        console.print(table)


def main() -> None:
    """Entry point of the ``c360`` script."""
    try:
        app()
    except KeyboardInterrupt:
        err_console.print("[bold red]interrupted[/bold red]")
        sys.exit(130)


if __name__ == "__main__":  # pragma: no cover
    main()
