"""Content silver, date by date: each date is built once, and the window's totals merge.

After ingestion (bronze), the content build works per *date* (all files of that date together):

1. **ids**: the date's within-date duplicate ``_id``s (losers) and its distinct id hashes;
2. **repeats**: hashes present on more than one date of the window (duplicates across dates),
   found incrementally when dates are only added;
3. **build**: the date's usage grain (valid rows minus duplicate losers), written once as its
   ``fact_usage`` partition and as small partials (contract totals, device pairs, daily
   summaries);
4. **totals**: the window's totals, the previous totals merged with the new dates' partials when
   dates were only added, else all partials merged again (the (app, contract) pairs take the
   dates' fact partitions as their partials).

Every step records a version per date (a digest of what it depends on), so a date is recomputed
only when its files, the rules, the app mapping or its duplicates across dates change. All of it is
engine-agnostic: the rules decide, the engine executes, this module only decides what to run.
Its entry point is :func:`build_content_dates`.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from c360.catalog import DAILY_SUMMARY_TABLES
from c360.context import CONTENT
from c360.engines.base import in_passes
from c360.lake.ledger import FileRecord, digest, read_json_state, write_atomic, write_json_atomic
from c360.rules import content as content_rules
from c360.rules import star, totals

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from c360.context import RunContext

#: Per-date partials: name → rule over usage (with category) of one or more dates, each result
#: row carrying its ``date``. For one date, the contract-day totals are the contract totals (one
#: aggregation instead of two).
PARTIALS: dict[str, Callable[[ir.Table], ir.Table]] = {
    "contract_totals": totals.contract_day_totals,
    "device_pairs": totals.device_day_pairs,
    "daily_category_usage": star.daily_category_usage,
    "daily_app_usage": star.daily_app_usage,
}
#: Per-date partials computed from the contract-day totals (``contract_totals``) instead.
FROM_CONTRACT_DAYS: dict[str, Callable[[ir.Table], ir.Table]] = {
    "daily_active_contracts": star.daily_active_contracts,
}
FACT = "fact_usage"
#: Every window total: merged from silver partials, or from the dates' fact partitions.
TOTALS = {**totals.MERGES, **totals.FACT_MERGES}
#: Every per-date partial.
SILVER_PARTIALS = (*PARTIALS, *FROM_CONTRACT_DAYS)
#: Every kind of per-date file in ``silver/content``.
SILVER_KINDS = frozenset({"ids", "losers", "cross_losers", *SILVER_PARTIALS})


def fact_partition(day: date) -> int:
    """A date's partition value in ``fact_usage``: its ``date_key`` (``20220401``)."""
    return int(f"{day:%Y%m%d}")


@dataclass(frozen=True)
class DateGroup:
    """The files of one date in the window, and the version of their bronze content."""

    day: date
    #: The names of the date's content files (their bronze files' names).
    files: tuple[str, ...]
    #: Digest of the files' names and checksums and the validation settings.
    files_version: str
    #: Lines read from the date's files (sizes the build's passes).
    lines: int = 0

    @property
    def key(self) -> str:
        return self.day.isoformat()


@dataclass
class DailyResult:
    """What the daily steps produced, for the gold tables and the run report."""

    totals: dict[str, Path]
    daily: dict[str, list[Path]]
    fact: dict[date, Path]
    #: Dates whose fact partition and partials this run wrote.
    built: list[date]
    totals_mode: str  # "reused", "merged" or "rebuilt"
    repeated_ids: int

    @property
    def dates_built(self) -> int:
        return len(self.built)


def build_content_dates(ctx: RunContext) -> DailyResult:
    """The content window's silver files, fact partitions and totals, each date built only when
    what it depends on changed."""
    window = ctx.windows[CONTENT]
    by_day: dict[date, list[FileRecord]] = {}
    for name in ctx.report.input_files:
        record = ctx.ledger.records[(CONTENT, name)]
        by_day.setdefault(record.file_date, []).append(record)
    groups = []
    for day in window.dates:
        records = by_day[day]
        # Versioned by the files' checksums and the validation settings they were read with.
        version = digest([(r.name, r.checksum) for r in records], records[0].rules_hash)
        lines = sum(r.rows_read for r in records)
        groups.append(DateGroup(day, tuple(r.name for r in records), version, lines))
    return ContentDates(ctx).run(groups)


class ContentDates:
    """Runs the per-date steps for a window of dates on one engine."""

    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx
        self.engine = ctx.engine
        self.layout = ctx.lake
        self.mapping = dict(ctx.config.content.app_categories)
        self.reporter = ctx.reporter
        self.state: dict[str, Any] = read_json_state(ctx.lake.content_days)

    def run(self, groups: Sequence[DateGroup]) -> DailyResult:
        with self.ctx.step("ids"):
            self._ids(groups)
        with self.ctx.step("repeats"):
            repeated = self._repeated(groups)
        with self.ctx.step("losers"):
            fingerprints = self._cross_date_losers(groups, repeated)
        with self.ctx.step("build"):
            versions = {
                g.key: digest(g.files_version, self.mapping, fingerprints.get(g.key, ""))
                for g in groups
            }
            built = self._build(groups, versions)
        with self.ctx.step("totals"):
            paths, mode = self._totals(groups, versions)
        self._prune(groups)
        return DailyResult(
            totals=paths,
            daily={
                name: [self.layout.silver(name, g.day) for g in groups]
                for name in DAILY_SUMMARY_TABLES
            },
            fact={g.day: self.layout.partition(FACT, g.day) for g in groups},
            built=built,
            totals_mode=mode,
            repeated_ids=repeated,
        )

    # -- steps ------------------------------------------------------------------------------

    def _accepted(self, chunk: Sequence[DateGroup]) -> ir.Table:
        """The valid rows of the dates of ``chunk``, with their line numbers."""
        paths = [self._bronze(group, name) for group in chunk for name in group.files]
        bronze = self.engine.read_parquet(paths, line_numbers=True, name="bronze_pass")
        return content_rules.accepted_rows(bronze)

    def _ids(self, groups: Sequence[DateGroup]) -> None:
        """Within-date duplicate losers and distinct id hashes of dates whose files changed."""
        dates = self.state.setdefault("dates", {})
        todo = [
            g
            for g in groups
            if dates.get(g.key, {}).get("files_version") != g.files_version
            or not self.layout.silver("ids", g.day).exists()
            or not self.layout.silver("losers", g.day).exists()
        ]
        for chunk in self._passes(todo):
            accepted = self._accepted(chunk)
            # One aggregation of the ids gives both the stored hashes and the loser candidates.
            counts = self.engine.materialize(content_rules.id_hash_counts(accepted), "id_counts")
            losers = content_rules.duplicate_losers(accepted, within_date=True, counts=counts)
            # A loser's date is its file's: content file names start with their date.
            self.engine.write_values(
                losers.mutate(_part=losers.source_file.left(8)),
                "_part",
                {f"{g.day:%Y%m%d}": self.layout.silver("losers", g.day) for g in chunk},
            )
            ids = counts.select("date", "h")
            self.engine.write_values(
                ids.mutate(_part=ids.date),
                "_part",
                {g.day: self.layout.silver("ids", g.day) for g in chunk},
            )
            for group in chunk:
                # The date's build depends on these: forget its version so it is rebuilt.
                dates[group.key] = {"files_version": group.files_version}
            self._save()

    def _ids_of(self, groups: Sequence[DateGroup]) -> ir.Table:
        return self.engine.read_parquet([self.layout.silver("ids", g.day) for g in groups])

    def _repeated(self, groups: Sequence[DateGroup]) -> int:
        """Store the hashes present on more than one date of the window; return their count."""
        stored: dict[str, str] = self.state.get("repeated", {})
        current = {g.key: g.files_version for g in groups}
        path = self.layout.repeated_ids
        unchanged = all(current.get(key) == version for key, version in stored.items())
        in_one_order = self.engine.sorts_whole_tables
        if stored and unchanged and path.exists():
            new = [g for g in groups if g.key not in stored]
            if not new:
                return self._count(path)
            old = [g for g in groups if g.key in stored]
            added = content_rules.newly_repeated_hashes(
                self._ids_of(new), self._ids_of(old), in_one_order=in_one_order
            )
            previous = self.engine.read_parquet([path])
            expr = previous.union(added, distinct=True)
        else:
            expr = content_rules.repeated_hashes(self._ids_of(groups), in_one_order=in_one_order)
        # Computed into the engine first: the file being replaced may be one of the inputs.
        stored_expr = self.engine.materialize(expr, "repeated_hashes")
        rows = self.engine.write_parquet(stored_expr, path)
        self.state["repeated"] = current
        self._save()
        return rows

    def _count(self, path: Path) -> int:
        return int(pq.read_metadata(path).num_rows)

    def _cross_date_losers(self, groups: Sequence[DateGroup], repeated: int) -> dict[str, str]:
        """Losers to a row of an earlier date, stored per date; returns a fingerprint per date."""
        for group in groups:
            self.layout.silver("cross_losers", group.day).unlink(missing_ok=True)
        if not repeated:
            return {}
        hashes = self.engine.read_parquet([self.layout.repeated_ids])
        ids = self._ids_of(groups)
        holding = self.engine.to_pyarrow(ids.semi_join(hashes, "h").select("date").distinct())
        days = {d.isoformat() for d in holding.column("date").to_pylist()}
        involved = [g for g in groups if g.key in days]
        if not involved:
            return {}
        paths = [self._bronze(g, name) for g in involved for name in g.files]
        accepted = content_rules.accepted_rows(self.engine.read_parquet(paths, line_numbers=True))
        within = self.engine.read_parquet([self.layout.silver("losers", g.day) for g in involved])
        candidates = content_rules.without(content_rules.candidate_rows(accepted, hashes), within)
        losers = self.engine.to_pyarrow(
            content_rules.duplicate_losers(candidates).order_by(["source_file", "line_no"])
        ).to_pylist()
        by_file: dict[str, list[tuple[int, str]]] = {}
        for row in losers:
            by_file.setdefault(row["source_file"], []).append((row["line_no"], row["record_id"]))
        fingerprints: dict[str, str] = {}
        for group in involved:
            rows = [(name, *r) for name in group.files for r in by_file.get(name, [])]
            if rows:
                fingerprints[group.key] = digest(rows)
                self._write_losers(group.day, rows)
        return fingerprints

    def _write_losers(self, day: date, rows: list[tuple[str, int, str]]) -> None:
        table = pa.table(
            {
                "source_file": pa.array([r[0] for r in rows], pa.string()),
                "line_no": pa.array([r[1] for r in rows], pa.int64()),
                "record_id": pa.array([r[2] for r in rows], pa.string()),
            }
        )
        write_atomic(table, self.layout.silver("cross_losers", day))

    def _build(self, groups: Sequence[DateGroup], versions: Mapping[str, str]) -> list[date]:
        dates = self.state.setdefault("dates", {})
        todo = [
            g
            for g in groups
            if dates.get(g.key, {}).get("version") != versions[g.key]
            or not self.layout.partition(FACT, g.day).exists()
            or not all(self.layout.silver(name, g.day).exists() for name in SILVER_PARTIALS)
        ]
        self.reporter.stage("build", total=len(todo))
        for chunk in self._passes(todo):
            self._build_dates(chunk)
            for group in chunk:
                dates[group.key] = {
                    "files_version": group.files_version,
                    "version": versions[group.key],
                }
                self.reporter.advance(group.key)
            self._save()
        return [g.day for g in todo]

    def _build_dates(self, chunk: Sequence[DateGroup]) -> None:
        """One pass over the dates of ``chunk``: their usage grain, computed once, written as
        each date's fact partition and partials."""
        losers = [self.layout.silver("losers", g.day) for g in chunk]
        losers += [p for g in chunk if (p := self.layout.silver("cross_losers", g.day)).exists()]
        unique = content_rules.without(
            self._accepted(chunk), self.engine.read_parquet(losers, name="losers_pass")
        )
        # Computed once; the fact partitions and every partial read the stored result.
        usage = self.engine.materialize(
            star.with_category(star.usage(unique), self.mapping), "usage_pass"
        )
        fact = star.fact_usage(usage)
        self.engine.write_values(
            fact.mutate(_part=fact.date_key),
            "_part",
            {fact_partition(g.day): self.layout.partition(FACT, g.day) for g in chunk},
        )
        partials = {name: rule(usage) for name, rule in PARTIALS.items()}
        # Stored once: a partial of its own, and the input of the partials derived from it.
        contract_days = partials["contract_totals"] = self.engine.materialize(
            partials["contract_totals"], "contract_days_pass"
        )
        partials.update({name: rule(contract_days) for name, rule in FROM_CONTRACT_DAYS.items()})
        for name, partial in partials.items():
            targets = {g.day: self.layout.silver(name, g.day) for g in chunk}
            daily = name in DAILY_SUMMARY_TABLES
            if daily:
                partial = partial.mutate(_part=partial.date)
            self.engine.write_values(partial, "_part" if daily else "date", targets)

    def _totals(
        self, groups: Sequence[DateGroup], versions: Mapping[str, str]
    ) -> tuple[dict[str, Path], str]:
        stored: dict[str, str] = self.state.get("totals", {})
        paths = {name: self.layout.total(name) for name in TOTALS}
        unchanged = all(versions.get(key) == version for key, version in stored.items())
        new = [g for g in groups if g.key not in stored]
        if stored and unchanged and all(p.exists() for p in paths.values()):
            if not new:
                return paths, "reused"
            mode = "merged"
        else:
            new, mode = list(groups), "rebuilt"
        for name, merge in TOTALS.items():
            if name in totals.FACT_MERGES:
                # A date's partial is its fact partition; the merge reads the columns it needs.
                facts = [self.layout.partition(FACT, g.day) for g in new]
                stacked = self.engine.read_parquet(facts)
                if mode == "merged":
                    previous = self.engine.read_parquet([paths[name]])
                    stacked = previous.union(stacked.select(*previous.columns))
            else:
                silver = [self.layout.silver(name, g.day) for g in new]
                if mode == "merged":
                    silver.insert(0, paths[name])
                stacked = self.engine.read_parquet(silver)
            merged = self.engine.materialize(merge(stacked), f"total_{name}")
            self.engine.write_parquet(merged, paths[name])
        self.state["totals"] = {g.key: versions[g.key] for g in groups}
        self._save()
        return paths, mode

    def _prune(self, groups: Sequence[DateGroup]) -> None:
        """Gold holds the window: drop fact partitions of dates outside it. Per-date files and
        totals that no step writes any more (a lake written by an earlier version) go too."""
        keep = {self.layout.partition(FACT, g.day) for g in groups}
        for path in self.layout.partitions(FACT):
            if path not in keep:
                path.unlink()
                path.parent.rmdir()
        for folder in self.layout.silver_kinds():
            if folder.name not in SILVER_KINDS:
                shutil.rmtree(folder)
        for path in self.layout.totals():
            if path.stem not in TOTALS:
                path.unlink()

    def _passes(self, groups: Sequence[DateGroup]) -> Iterator[Sequence[DateGroup]]:
        engine = self.engine
        return in_passes(
            groups, engine.dates_per_pass, weight=lambda g: g.lines, limit=engine.lines_per_pass
        )

    def _bronze(self, group: DateGroup, name: str) -> Path:
        return self.layout.bronze(CONTENT, group.day, name)

    def _save(self) -> None:
        write_json_atomic(self.state, self.layout.content_days)
