"""The run in progress, kept in the lake between stages called apart.

``c360 run`` calls its stages in one process; an orchestrator (or a notebook) may call them one
at a time, each in its own process. Every stage therefore ends by saving what later stages need
— the run's id and report, its windows, outputs, lineage inputs and checks so far, and which
stages are done — as one small JSON document in the lake; the next stage resumes from it. The
publish stage ends the run and removes it.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from pathlib import Path
from typing import Any

from c360.context import RunContext, RunRequest, Window
from c360.lake.layout import LakeLayout
from c360.lake.ledger import read_json_state, write_json_atomic
from c360.reports import CheckResult, RunReport, SearchReport
from c360.sinks.base import Partitioned, TableFiles


def save_run_state(ctx: RunContext) -> None:
    """Save what later stages of ``ctx``'s run need (atomically)."""
    document = {
        "command": ctx.command,
        "request": _plain(dataclasses.asdict(ctx.request)),
        "report": _plain(dataclasses.asdict(ctx.report)),
        "checks": [
            {**_plain(dataclasses.asdict(result)), "checked_at": at.isoformat()}
            for result, at in ctx.quality.results
        ],
        "windows": {
            name: {"first": str(w.first), "last": str(w.last), "dates": [str(d) for d in w.dates]}
            for name, w in ctx.windows.items()
        },
        "search_days": ctx.search_days,
        "inputs": {layer: [list(item) for item in items] for layer, items in ctx.inputs.items()},
        "outputs": {name: _files(files) for name, files in ctx.outputs.items()},
        "fresh": ctx.fresh,
        "done": ctx.done,
    }
    write_json_atomic(document, ctx.lake.run_state)


def load_run_state(lake: LakeLayout) -> dict[str, Any]:
    """The saved run in progress of ``lake`` (empty when there is none)."""
    return read_json_state(lake.run_state)


def end_run_state(lake: LakeLayout) -> None:
    lake.run_state.unlink(missing_ok=True)


def saved_request(document: dict[str, Any]) -> RunRequest:
    values = document["request"]

    def path(key: str) -> Path | None:
        return Path(values[key]) if values[key] is not None else None

    return RunRequest(
        lake=Path(values["lake"]), content=path("content"), start=_day(values["start"]),
        end=_day(values["end"]), search=path("search"), mapping=path("mapping"),
        bridge=path("bridge"),
    )  # fmt: skip


def saved_report(document: dict[str, Any]) -> RunReport:
    values = dict(document["report"])
    values["started_at"] = datetime.fromisoformat(values["started_at"])
    values["window_start"] = _day(values["window_start"])
    values["window_end"] = _day(values["window_end"])
    values["lake"] = Path(values["lake"]) if values["lake"] else None
    if values["search"] is not None:
        search = dict(values["search"])
        search["months"], search["folders"] = tuple(search["months"]), tuple(search["folders"])
        values["search"] = SearchReport(**search)
    values["checks"] = [CheckResult(**c) for c in values["checks"]]
    return RunReport(**values)


def restore(ctx: RunContext, document: dict[str, Any]) -> None:
    """Put a saved run's progress back into ``ctx`` (its report comes from
    :func:`saved_report`)."""
    ctx.quality.results = [
        (
            CheckResult(**{k: v for k, v in c.items() if k != "checked_at"}),
            datetime.fromisoformat(c["checked_at"]),
        )
        for c in document["checks"]
    ]
    ctx.windows = {
        name: Window(
            date.fromisoformat(w["first"]),
            date.fromisoformat(w["last"]),
            tuple(date.fromisoformat(d) for d in w["dates"]),
        )
        for name, w in document["windows"].items()
    }
    ctx.search_days = list(document["search_days"])
    ctx.inputs = {k: [(kind, name) for kind, name in v] for k, v in document["inputs"].items()}
    ctx.outputs = {name: _table_files(v) for name, v in document["outputs"].items()}
    ctx.fresh = {name: [int(x) for x in values] for name, values in document["fresh"].items()}
    ctx.done = list(document["done"])


def _files(files: TableFiles) -> str | dict[str, Any]:
    if isinstance(files, Partitioned):
        return {"column": files.column, "files": {str(k): str(p) for k, p in files.files.items()}}
    return str(files)


def _table_files(value: str | dict[str, Any]) -> TableFiles:
    if isinstance(value, str):
        return Path(value)
    return Partitioned(value["column"], {int(k): Path(p) for k, p in value["files"].items()})


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _plain(value: Any) -> Any:
    """JSON-able: dates and times as ISO text, paths as text, tuples as lists."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    return value
