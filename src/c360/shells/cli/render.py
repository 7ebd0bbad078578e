"""What the ``c360`` commands print: every table and line shown for a façade's report.

Each function takes a report (or the table the façade returned) and prints it through the one
console; none of them computes, reads or decides anything.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from rich import box
from rich.markup import escape
from rich.table import Table

from c360.console import console
from c360.reports import show_value

if TYPE_CHECKING:
    import pyarrow as pa

    from c360.enrich.evaluate import Evaluation
    from c360.generate.dataset import GenerateReport
    from c360.reports import ClassifyReport, LoadReport, RunReport

#: The tables ``c360 demo`` shows five rows of, and their columns.
SAMPLES: tuple[tuple[str, list[str]], ...] = (
    ("customer_content_stats", ["contract", "total_duration", "active_days", "most_watch",
                                "taste", "activeness", "customer_type"]),
    ("top_apps", ["rank", "app_name", "category", "total_duration", "contracts"]),
    ("keyword_category", ["keyword_norm", "category", "source", "confidence"]),
    ("search_monthly_top", ["user_id", "month", "most_search", "search_count", "category"]),
    ("customer_search_stats", ["user_id", "most_search_prev", "most_search_curr",
                               "trending_type", "category_change"]),
    ("customer_360", ["contract", "most_watch", "customer_type", "user_id",
                      "category_curr", "trending_type"]),
)  # fmt: skip


def print_run(report: RunReport) -> None:
    """The run's summary table, then how to query the DuckDB warehouse it wrote."""
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


def print_generate(report: GenerateReport) -> None:
    """One line: what was written where."""
    console.print(
        f"[green]✓[/green] wrote {len(report.content_files)} content days to {report.content_dir}, "
        f"{len(report.search_folders)} search days to {report.search_dir}, "
        f"bridge of {report.bridged:,} contracts to {report.bridge}"
    )


def print_sample(name: str, data: pa.Table) -> None:
    """A few rows of a published table, every value as text."""
    columns = data.column_names
    table = Table(title=name, title_justify="left")
    for column in columns:
        table.add_column(column)
    for record in data.to_pylist():
        table.add_row(*("" if record[c] is None else str(record[c]) for c in columns))
    console.print(table)


def print_load(result: LoadReport) -> None:
    """The rows of every table loaded, and the time it took."""
    table = Table(title=f"loaded into {result.target}", title_justify="left")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, rows in result.tables.items():
        table.add_row(escape(name), f"{rows:,}")
    console.print(table)
    console.print(f"{result.seconds:.1f} s", soft_wrap=True)


#: What a budget stop leaves: the answers stored before stay (the LLM never overwrites with
#: nothing), so a keyword an offline run classified keeps that genre.
BUDGET_SPENT = (
    "; budget spent: keywords not answered keep the genre they had (an offline one, or Unknown) "
    "and are asked on the next run"
)


def print_classify(report: ClassifyReport) -> None:
    """How many keywords got a genre, how (offline model or LLM), and what was republished."""
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
            f"{report.tokens:,} tokens" + (BUDGET_SPENT if report.budget_exhausted else ""),
            soft_wrap=True,
        )
    if report.tables:
        published = ", ".join(f"{name} ({rows:,})" for name, rows in report.tables.items())
        console.print(f"republished: {published}", soft_wrap=True)


def print_evaluation(result: Evaluation) -> None:
    """Agreement with a reference: overall, per genre, and the confusion matrix."""
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


def print_quality(checks: pa.Table, *, show_passed: bool) -> None:
    """A run's checks, failures and warnings first (all of them with ``show_passed``)."""
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
    # Below 10,000 a count is short enough as it is.
    for size, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= max(size, 1e4):
            return f"{value / size:.1f}{suffix}"
    return str(value)


def print_runs(history: pa.Table) -> None:
    """Past runs, one line each, then the error of every run that failed."""
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


def print_quarantine(rows: pa.Table, *, source: str, reason: str | None) -> None:
    """Quarantined rows, long values cut short."""
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
