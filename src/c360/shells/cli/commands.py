"""The ``c360`` commands: parse the flags, call :class:`c360.app.C360`, hand the result to
:mod:`c360.shells.cli.render`.

User mistakes end in one red line and exit code 1 (2 for bad usage); ``--verbose`` adds detail and
the traceback. The façade, and the heavy libraries behind it, load inside the commands, so
``c360 --help`` is instant.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from c360 import __version__
from c360.console import RichReporter, console, err_console
from c360.errors import is_interrupt
from c360.shells.cli import render
from c360.shells.cli.common import ConfigOpt, VerboseOpt, day, guard, open_facade
from c360.shells.cli.serve import api_key_hash, publish_online, serve
from c360.shells.stream.simulate import simulate
from c360.shells.stream.stream import stream_app

app = typer.Typer(
    name="c360",
    help="Customer 360 from OTT TV logs: profiles, star schema and quality, on DuckDB or Spark.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


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
    online: Annotated[
        str | None,
        typer.Option(help="Then copy the profiles into this Redis (as c360 publish-online)."),
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
    window = (day(start, "--from"), day(end, "--to"))
    with RichReporter(verbose=verbose) as reporter, guard(verbose):
        facade = open_facade(config, overrides, reporter)
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
        done = facade.publish_online(online=online, warehouse=warehouse) if online else None
    render.print_run(report)
    if done is not None:
        console.print(f"{done.customers:,} profiles in the online store", highlight=False)


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
    with RichReporter(verbose=verbose) as reporter, guard(verbose):
        facade = open_facade(config, {}, reporter)
        report = facade.generate(out, scale=scale, seed=seed, days=days, gzip=gzip)
    render.print_generate(report)


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
    with RichReporter(verbose=verbose) as reporter, guard(verbose):
        facade = open_facade(config, {}, reporter)
        result = facade.demo(out, scale=scale, seed=seed)
        render.print_run(result.run)
        render.print_classify(result.classify)
        for name, columns in render.SAMPLES:
            sample = facade.read_table(name, warehouse=result.warehouse, limit=5).select(columns)
            render.print_sample(name, sample)
    console.print(
        "\nnext, the dashboard and the API at http://127.0.0.1:8360/:\n"
        f"  c360 serve --warehouse {result.warehouse}",
        soft_wrap=True, highlight=False,
    )  # fmt: skip


@app.command("spark-entry")
def spark_entry() -> None:
    """Print the path of the script spark-submit runs to start c360 on a cluster:

    spark-submit --master spark://host:7077 "$(c360 spark-entry)" run --engine spark ...
    """
    from c360.app import C360

    with guard(verbose=False):
        script = C360().spark_submit_script()
    console.print(str(script), soft_wrap=True, highlight=False)


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
    with RichReporter(verbose=verbose) as reporter, guard(verbose):
        facade = open_facade(config, {}, reporter)
        result = facade.load(source, to=target)
    render.print_load(result)


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
    budget_seconds: Annotated[
        float | None,
        typer.Option(help="Stop starting requests (and waits) after this many seconds.", min=0),
    ] = None,
    llm_timeout: Annotated[
        float | None,
        typer.Option(
            help="Seconds an LLM request may take, then it is retried (default: 60; "
            "classify.llm_timeout)."
        ),
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
    with RichReporter(verbose=verbose) as reporter, guard(verbose):
        facade = open_facade(config, {"classify.llm_timeout": llm_timeout}, reporter)
        if evaluate is not None:
            render.print_evaluation(facade.evaluate(evaluate, lake=lake))
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
            budget_seconds=budget_seconds,
            train_from_llm=train_from_llm,
        )
    render.print_classify(report)


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
    with guard(verbose):
        checks = open_facade(config, {}, RichReporter()).quality(warehouse=warehouse, run_id=run_id)
    render.print_quality(checks, show_passed=show_passed)


@app.command()
def runs(
    warehouse: WarehouseOpt = None,
    limit: Annotated[int, typer.Option(help="How many runs, newest first.")] = 20,
    config: ConfigOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Past runs, newest first: window, rows read and quarantined, checks, status and duration
    (`c360 quality --run ID` shows a run's checks)."""
    with guard(verbose):
        history = open_facade(config, {}, RichReporter()).runs(warehouse=warehouse, limit=limit)
    render.print_runs(history)


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
    with guard(verbose):
        rows = open_facade(config, {}, RichReporter()).quarantine(
            warehouse=warehouse, source=source, reason=reason, limit=limit
        )
    render.print_quarantine(rows, source=source, reason=reason)


app.command()(serve)
app.command()(simulate)
app.command("publish-online")(publish_online)
app.command("api-key-hash")(api_key_hash)
app.add_typer(stream_app, name="stream")


def main() -> None:
    """Entry point of the ``c360`` script."""
    try:
        app()
    except BaseException as exc:
        if not is_interrupt(exc):  # Ctrl-C, or an error a driver raised because of it
            raise
        err_console.print("[bold red]interrupted[/bold red]")
        sys.exit(130)
