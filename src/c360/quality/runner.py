"""Runs the checks of :mod:`c360.quality.checks` on an engine and keeps their results.

After each stage the pipeline hands the runner that stage's measurements; the runner computes
the probes (every reduction of one table in one pass), reports warnings, and stops the run
(fail-closed) when a check fails, unless failures are allowed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pyarrow as pa

from c360.config import QualityConfig
from c360.errors import QualityError
from c360.quality.checks import Probe, judge
from c360.reports import FAIL, WARN, CheckResult

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from c360.console import Reporter
    from c360.engines.base import Engine

DQ_SCHEMA = pa.schema(
    [
        ("run_id", pa.string()),
        ("stage", pa.string()),
        ("check_name", pa.string()),
        ("table_name", pa.string()),
        ("subject", pa.string()),
        ("observed", pa.float64()),
        ("threshold", pa.float64()),
        ("severity", pa.string()),
        ("status", pa.string()),
        ("message", pa.string()),
        ("checked_at", pa.timestamp("us", tz="UTC")),
    ]
)


class QualityRunner:
    """Collects the check results of one run."""

    def __init__(
        self, engine: Engine, quality: QualityConfig, *, run_id: str, reporter: Reporter
    ) -> None:
        self.engine = engine
        self.quality = quality
        self.run_id = run_id
        self.reporter = reporter
        self.results: list[tuple[CheckResult, datetime]] = []
        self._allowed = 0  # failures already let through with --allow-dq-failures

    def add(self, results: Iterable[CheckResult]) -> None:
        """Keep results computed elsewhere (from run records)."""
        now = datetime.now(UTC)
        for result in results:
            self.results.append((result, now))
            # A failure that stops the run is reported once, by the error that stops it.
            if result.status == WARN or (result.status == FAIL and self.quality.allow_failures):
                self.reporter.warn(f"data quality {result.status}: {result.message}")

    def probe(self, stage: str, probes: Iterable[Probe], tables: Mapping[str, ir.Table]) -> None:
        """Compute ``probes`` (over ``tables`` by name) and judge them."""
        batches: dict[str, list[Probe]] = {}
        singles: list[Probe] = []
        for probe in probes:
            if self.quality.severity_of(probe.check) == "off":
                continue
            if probe.reduction is not None:
                batches.setdefault(probe.table_name, []).append(probe)
            else:
                singles.append(probe)
        observed: list[tuple[Probe, float | None]] = []
        for name, batch in batches.items():
            metrics = {f"m{i}": p.reduction for i, p in enumerate(batch)}
            row = self.engine.to_pyarrow(tables[name].aggregate(**metrics)).to_pylist()[0]
            observed += [(p, _number(row[f"m{i}"])) for i, p in enumerate(batch)]
        for probe in singles:
            assert probe.query is not None
            value = self.engine.to_pyarrow(probe.query.name("observed").as_table())
            observed.append((probe, _number(value.column("observed")[0].as_py())))
        self.add(
            result
            for probe, value in observed
            if (
                result := judge(
                    self.quality, stage=stage, check=probe.check,
                    table_name=probe.table_name, subject=probe.subject, observed=value,
                )
            )
            is not None
        )  # fmt: skip

    @property
    def failures(self) -> list[CheckResult]:
        return [r for r, _ in self.results if r.status == FAIL]

    @property
    def warnings(self) -> list[CheckResult]:
        return [r for r, _ in self.results if r.status == WARN]

    def enforce(self) -> None:
        """Stop the run when a check failed, naming the first failure (fail-closed)."""
        failures = self.failures
        if not failures:
            return
        more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
        if self.quality.allow_failures:
            if len(failures) > self._allowed:
                self.reporter.warn(
                    f"{len(failures) - self._allowed} data quality check(s) failed; "
                    "going on (--allow-dq-failures)"
                )
            self._allowed = len(failures)
            return
        raise QualityError(
            f"data quality check failed: {failures[0].message}{more}; nothing was published "
            "(see `c360 quality`; --allow-dq-failures publishes anyway)"
        )

    def table(self) -> pa.Table:
        """This run's results as ``dq_results`` rows."""
        rows = [
            {
                "run_id": self.run_id,
                "stage": r.stage,
                "check_name": r.check,
                "table_name": r.table_name,
                "subject": r.subject,
                "observed": r.observed,
                "threshold": r.threshold,
                "severity": r.severity,
                "status": r.status,
                "message": r.message,
                "checked_at": at,
            }
            for r, at in self.results
        ]
        return pa.Table.from_pylist(rows, schema=DQ_SCHEMA)


def _number(value: object) -> float | None:
    if value is None:
        return None
    return float(value)  # type: ignore[arg-type]
