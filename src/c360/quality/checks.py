"""The data quality checks: declared once, measured on the engine, judged against thresholds.

Every check measures one number per subject (a share of rows, a count of bad keys, a drift) and
is judged against its threshold: ``observed > threshold`` is a breach, which the check's severity
makes a warning or a failure. Thresholds and severities come from ``[quality]`` in the config
(defaults in :data:`c360.config.CHECK_DEFAULTS`).

Checks over the data are Ibis expressions (:class:`Probe`), so they run unchanged on every engine;
checks over run records (reject rates, missing days, row drift) are computed from those records.
What a table is held to (its key, references, value domains and ranges) is its contract in
:mod:`c360.catalog`; the probes are derived from it.
Nothing here reads a file or touches an engine: :mod:`c360.quality.runner` does.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import ibis

from c360.catalog import TABLES, TableSpec
from c360.config import C360Config, QualityConfig
from c360.context import Window
from c360.reports import FAIL, PASS, SKIPPED, WARN, CheckResult
from c360.rules._keys import surrogate_key

if TYPE_CHECKING:
    import ibis.expr.types as ir


def judge(
    quality: QualityConfig,
    *,
    stage: str,
    check: str,
    table_name: str,
    subject: str = "",
    observed: float | None,
) -> CheckResult | None:
    """The verdict on one measurement (None when the check is switched off)."""
    severity = quality.severity_of(check)
    if severity == "off":
        return None
    threshold = quality.threshold(check)
    if observed is None:
        status = SKIPPED
    elif observed > threshold:
        status = FAIL if severity == "fail" else WARN
    else:
        status = PASS
    return CheckResult(stage, check, table_name, subject, observed, threshold, severity, status)


# -- checks over run records ---------------------------------------------------------------


@dataclass(frozen=True)
class InputCounts:
    """One input (a content file or a search day folder) as its ingest recorded it."""

    name: str
    day: date
    rows_read: int
    rows_rejected: int


def reject_rates(
    inputs: Iterable[InputCounts], quality: QualityConfig, *, check: str, stage: str, table: str
) -> list[CheckResult]:
    """Per input: rejected rows / rows read (an empty input rejects nothing)."""
    out = []
    for item in inputs:
        rate = item.rows_rejected / item.rows_read if item.rows_read else 0.0
        result = judge(
            quality, stage=stage, check=check, table_name=table, subject=item.name, observed=rate
        )
        if result is not None:
            out.append(result)
    return out


def missing_days(
    window: Window, quality: QualityConfig, *, check: str, stage: str, table: str
) -> list[CheckResult]:
    """How many dates of ``window`` (edges included) have no input; the subject names the
    first few."""
    gaps = window.missing
    shown = ", ".join(f"{d:%Y%m%d}" for d in gaps[:5]) + (" …" if len(gaps) > 5 else "")
    result = judge(
        quality, stage=stage, check=check, table_name=table, subject=shown,
        observed=float(len(gaps)),
    )  # fmt: skip
    return [result] if result is not None else []


@dataclass(frozen=True)
class RunRows:
    """Rows of each output table of one run, and the days of its window."""

    rows: Mapping[str, int]
    days: int


def row_drift(
    current: RunRows, history: Sequence[RunRows], quality: QualityConfig
) -> list[CheckResult]:
    """Per table: ``|rows / median - 1|`` against the median of the last ``quality.drift_runs``
    earlier runs that produced it (rows per window day for a table whose spec says
    :attr:`~c360.catalog.TableSpec.per_window_day`); skipped without history."""
    out = []
    for table, count in sorted(current.rows.items()):
        spec = TABLES.get(table)
        per_day = spec is not None and spec.per_window_day

        def scaled(rows: int, days: int, per_day: bool = per_day) -> float:
            return rows / max(days, 1) if per_day else float(rows)

        earlier = [scaled(h.rows[table], h.days) for h in history if table in h.rows]
        earlier = earlier[-quality.drift_runs :]
        observed: float | None = None
        if earlier:
            median = statistics.median(earlier)
            value = scaled(count, current.days)
            observed = abs(value / median - 1) if median else (0.0 if value == 0 else 1.0)
        result = judge(
            quality, stage="check", check="row_drift", table_name=table, observed=observed
        )
        if result is not None:
            out.append(result)
    return out


# -- checks over the data (run on the engine) ---------------------------------------------


@dataclass(frozen=True)
class Probe:
    """A measurement over one table, as an Ibis expression.

    ``reduction`` is a scalar reduction of the table (the runner computes every reduction of one
    table in one pass); ``query`` is a scalar with its own query (joins, groupings).
    """

    check: str
    table_name: str
    subject: str
    reduction: ir.Scalar | None = None
    query: ir.Scalar | None = None


def table_probes(name: str, table: ir.Table, config: C360Config) -> list[Probe]:
    """Primary key, value domain and range probes of one output table, from its spec."""
    probes = []
    spec = TABLES.get(name) or TableSpec(name, "")
    key = spec.primary_key
    if len(key) == 1:
        column = table[key[0]]
        probes.append(
            Probe("primary_key", name, key[0], reduction=table.count() - column.nunique())
        )
    elif key:
        incomplete = ibis.or_(*[table[k].isnull() for k in key])
        groups = table.group_by(list(key)).aggregate(n=table.count(), incomplete=incomplete.any())
        bad = ibis.ifelse(groups.incomplete, groups.n, groups.n - 1).sum().fill_null(0)
        probes.append(Probe("primary_key", name, ", ".join(key), query=bad))
    for column, allowed in spec.allowed_values(config).items():
        bad = table[column].notnull() & ~table[column].isin(list(allowed))
        probes.append(Probe("value_domain", name, column, reduction=bad.sum().fill_null(0)))
    for column in spec.non_negative:
        bad = table[column] < 0
        probes.append(
            Probe("value_domain", name, f"{column} >= 0", reduction=bad.sum().fill_null(0))
        )
    if name == "fact_usage":
        unknown = table.device_key == surrogate_key(ibis.literal(None, type="string"))
        share = table.records.sum(where=unknown).fill_null(0) / table.records.sum()
        probes.append(Probe("unknown_device_rate", name, "", reduction=share))
    return probes


def foreign_key_probes(
    tables: Mapping[str, ir.Table], *, fresh: Mapping[str, ir.Table] | None = None
) -> list[Probe]:
    """Distinct keys of a table missing from the table they reference (both present), for
    every :attr:`~c360.catalog.TableSpec.references` of the catalog.

    ``fresh`` gives, for a table kept partition by partition, the rows this run wrote: only
    their keys are looked up (the parents are rebuilt every run from every partition, so a key
    present when its partition was written stays present while the partition is kept).
    """
    probes = []
    references = [
        (name, column, parent)
        for name, spec in TABLES.items()
        for column, parent in spec.references.items()
    ]
    for name, column, (parent, parent_column) in references:
        if name not in tables or parent not in tables:
            continue
        rows = (fresh or {}).get(name, tables[name])
        child = rows.select(_k=rows[column]).distinct()
        child = child.filter(child._k.notnull())
        referenced = tables[parent].select(_p=tables[parent][parent_column])
        orphans = child.anti_join(referenced, child._k == referenced._p)
        probes.append(Probe("foreign_key", name, f"{column} → {parent}", query=orphans.count()))
    return probes


def search_probes(bronze: ir.Table) -> list[Probe]:
    """Null rates of the window's raw search rows."""
    rows = bronze.count()
    return [
        Probe(
            "search_null_user_rate", "search", "user_id",
            reduction=bronze.user_id.isnull().sum() / rows,
        ),
        Probe(
            "search_null_keyword_rate", "search", "keyword",
            reduction=bronze.keyword.isnull().sum() / rows,
        ),
    ]  # fmt: skip
