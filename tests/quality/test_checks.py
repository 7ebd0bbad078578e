"""Each data quality check passes on good data and breaches on data built to break it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pytest

from c360.config import C360Config, QualityConfig, load_config
from c360.console import NullReporter
from c360.context import Window
from c360.engines.duckdb import DuckDBEngine
from c360.errors import ConfigError, QualityError
from c360.quality.checks import (
    FAIL,
    PASS,
    SKIPPED,
    WARN,
    InputCounts,
    RunRows,
    foreign_key_probes,
    judge,
    missing_days,
    reject_rates,
    row_drift,
    search_probes,
    table_probes,
)
from c360.quality.runner import QualityRunner
from c360.rules._keys import UNKNOWN

CONFIG = C360Config()
QUALITY = QualityConfig()
D = date(2022, 4, 1)


@pytest.fixture(scope="module")
def engine() -> Iterator[DuckDBEngine]:
    with DuckDBEngine(load_config(env={}).engine) as eng:
        yield eng  # type: ignore[misc]


def _runner(engine: DuckDBEngine, quality: QualityConfig = QUALITY) -> QualityRunner:
    return QualityRunner(engine, quality, run_id="r1", reporter=NullReporter())


def _observed(runner: QualityRunner) -> dict[tuple[str, str, str], tuple[float | None, str]]:
    return {(r.check, r.table_name, r.subject): (r.observed, r.status) for r, _ in runner.results}


# -- verdicts -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("observed", "status"), [(0.0, PASS), (0.05, PASS), (0.0501, FAIL), (None, SKIPPED)]
)
def test_judge_breaches_only_above_the_threshold(observed: float | None, status: str) -> None:
    result = judge(
        QUALITY, stage="ingest", check="content_reject_rate", table_name="content",
        observed=observed,
    )  # fmt: skip
    assert result is not None and result.status == status


def test_severity_and_threshold_come_from_the_config() -> None:
    quality = load_config(
        env={
            "C360__QUALITY__SEVERITY": '{"content_reject_rate": "warn", "row_drift": "off"}',
            "C360__QUALITY__THRESHOLDS": '{"content_reject_rate": 0.2}',
        }
    ).quality
    assert judge(quality, stage="s", check="row_drift", table_name="t", observed=9.0) is None
    warned = judge(quality, stage="s", check="content_reject_rate", table_name="t", observed=0.3)
    passed = judge(quality, stage="s", check="content_reject_rate", table_name="t", observed=0.1)
    assert warned is not None and (warned.status, warned.threshold) == (WARN, 0.2)
    assert passed is not None and passed.status == PASS


def test_an_unknown_check_in_the_config_is_a_one_line_error() -> None:
    with pytest.raises(ConfigError, match=r"quality\.severity.*unknown check 'reject'"):
        load_config(env={"C360__QUALITY__SEVERITY": '{"reject": "warn"}'})


def test_message_names_check_subject_observed_and_threshold() -> None:
    result = judge(
        QUALITY, stage="ingest", check="content_reject_rate", table_name="content",
        subject="20220401.json", observed=0.12,
    )  # fmt: skip
    assert result is not None
    assert result.message == (
        "content_reject_rate on content 20220401.json: 12.0 % > 5.0 % "
        "(share of a content file's lines quarantined)"
    )


# -- checks over run records ----------------------------------------------------------------


def test_reject_rate_per_file() -> None:
    counts = [
        InputCounts("a.json", D, 100, 5),
        InputCounts("b.json", D, 100, 6),
        InputCounts("empty.json", D, 0, 0),
    ]
    results = reject_rates(
        counts, QUALITY, check="content_reject_rate", stage="ingest", table="content"
    )
    assert [(r.subject, r.observed, r.status) for r in results] == [
        ("a.json", 0.05, PASS),
        ("b.json", 0.06, FAIL),
        ("empty.json", 0.0, PASS),
    ]


def test_missing_days_counts_gaps_and_names_them() -> None:
    days = [date(2022, 4, 1), date(2022, 4, 2), date(2022, 4, 4)]
    window = Window.over(days, end=date(2022, 4, 5))
    (result,) = missing_days(
        window, QUALITY, check="content_missing_days", stage="ingest", table="content"
    )
    assert (result.observed, result.subject, result.status) == (2.0, "20220403, 20220405", WARN)
    (full,) = missing_days(
        Window.over(days[:2]), QUALITY, check="content_missing_days", stage="ingest",
        table="content",
    )  # fmt: skip
    assert (full.observed, full.status) == (0.0, PASS)


def test_missing_days_counts_both_edges_of_a_requested_window() -> None:
    window = Window.over([date(2022, 4, 2)], start=date(2022, 3, 30), end=date(2022, 4, 3))
    (result,) = missing_days(
        window, QUALITY, check="search_missing_days", stage="ingest", table="search"
    )
    assert (result.observed, result.subject) == (4.0, "20220330, 20220331, 20220401, 20220403")


def test_row_drift_against_the_median_of_earlier_runs() -> None:
    history = [RunRows({"t": 100, "u": 0}, 1), RunRows({"t": 1000}, 1)]
    history += [RunRows({"t": 90}, 1), RunRows({"t": 110}, 1)]
    quality = QualityConfig(drift_runs=3)  # the last three with t: 1000, 90, 110 → median 110
    results = {
        r.table_name: (r.observed, r.status)
        for r in row_drift(RunRows({"t": 165, "u": 0, "new": 5}, 1), history, quality)
    }
    assert results["t"] == (pytest.approx(0.5), PASS)
    assert results["u"] == (0.0, PASS)  # its only earlier run is older than the last three
    assert results["new"] == (None, SKIPPED)
    ((observed, status),) = [
        (r.observed, r.status) for r in row_drift(RunRows({"t": 166}, 1), history, quality)
    ]
    assert status == WARN and observed == pytest.approx(56 / 110)


def test_row_drift_of_daily_tables_is_per_window_day() -> None:
    """A window growing by a day each run is no drift for a table with rows per day; a profile
    that triples is."""
    history = [RunRows({"fact_usage": 1000, "customer_content_stats": 50}, 10)]
    results = {
        r.table_name: (r.observed, r.status)
        for r in row_drift(
            RunRows({"fact_usage": 1100, "customer_content_stats": 150}, 11), history, QUALITY
        )
    }
    assert results["fact_usage"] == (pytest.approx(0.0), PASS)
    assert results["customer_content_stats"] == (pytest.approx(2.0), WARN)


# -- checks over the data, on the engine ----------------------------------------------------


def _profile(rows: list[dict[str, object]]) -> ibis.Table:
    base = {
        "contract": "HNH000001", "total_duration": 10, "active_days": 1, "recency_days": 0,
        "devices": 1, "activeness": "very low", "level_activeness": "Low",
        "customer_type": "leaving", "most_watch": "Truyen Hinh", "recency_score": 4,
        "frequency_score": 1, "monetary_score": 1,
    }  # fmt: skip
    return ibis.memtable(pa.Table.from_pylist([{**base, **r} for r in rows]))


def test_profile_probes_pass_on_a_clean_table(engine: DuckDBEngine) -> None:
    table = _profile([{"contract": "HNH000001"}, {"contract": "HNH000002", "most_watch": None}])
    runner = _runner(engine)
    probes = table_probes("customer_content_stats", table, CONFIG)
    runner.probe("transform", probes, {"customer_content_stats": table})
    assert {status for _, status in _observed(runner).values()} == {PASS}
    assert len(runner.results) == 1 + 7 + 4  # key, 7 domains, 4 ranges


def test_profile_probes_count_keys_domains_and_ranges(engine: DuckDBEngine) -> None:
    table = _profile([
        {"contract": "HNH000001"},
        {"contract": "HNH000001", "activeness": "sometimes"},
        {"contract": None, "recency_score": 5, "total_duration": -1},
        {"contract": "HNH000003", "customer_type": "Loyal", "most_watch": "Other"},
    ])  # fmt: skip
    runner = _runner(engine)
    runner.probe(
        "transform",
        table_probes("customer_content_stats", table, CONFIG),
        {"customer_content_stats": table},
    )
    got = _observed(runner)
    name = "customer_content_stats"
    # 4 rows, 2 distinct non-null contracts: the repeat and the null are both bad.
    assert got[("primary_key", name, "contract")] == (2.0, FAIL)
    assert got[("value_domain", name, "activeness")] == (1.0, FAIL)
    assert got[("value_domain", name, "customer_type")] == (1.0, FAIL)  # case matters
    assert got[("value_domain", name, "most_watch")] == (1.0, FAIL)  # Other is not counted
    assert got[("value_domain", name, "recency_score")] == (1.0, FAIL)
    assert got[("value_domain", name, "total_duration >= 0")] == (1.0, FAIL)
    assert got[("value_domain", name, "level_activeness")] == (0.0, PASS)


def test_composite_key_counts_repeats_and_nulls(engine: DuckDBEngine) -> None:
    table = ibis.memtable(
        pa.table({
            "date": [D, D, D, D, None],
            "category": ["Truyen Hinh", "Truyen Hinh", "Truyen Hinh", "Giai Tri", "Giai Tri"],
        })
    )  # fmt: skip
    runner = _runner(engine)
    runner.probe(
        "transform",
        table_probes("daily_category_usage", table, CONFIG),
        {"daily_category_usage": table},
    )
    got = _observed(runner)
    assert got[("primary_key", "daily_category_usage", "date, category")] == (3.0, FAIL)
    assert got[("value_domain", "daily_category_usage", "category")] == (0.0, PASS)


def _fact(date_keys: list[int], contract_keys: list[int], app_keys: list[int]) -> ir.Table:
    """Three ``fact_usage`` rows on device 7 with the given keys."""
    return ibis.memtable(
        pa.table({
            "date_key": date_keys, "contract_key": contract_keys,
            "device_key": [7, 7, 7], "app_key": app_keys,
            "total_duration": [1, 2, 3], "records": [1, 1, 1],
        })
    )  # fmt: skip


def test_foreign_keys_count_distinct_orphans(engine: DuckDBEngine) -> None:
    fact = _fact([20220401, 20220401, 20220402], [1, 2, 2], [5, 5, 6])
    tables = {
        "fact_usage": fact,
        "dim_contract": ibis.memtable(pa.table({"contract_key": [1]})),
        "dim_device": ibis.memtable(pa.table({"device_key": [7]})),
        "dim_app": ibis.memtable(pa.table({"app_key": [5, 6]})),
        "dim_date": ibis.memtable(pa.table({"date_key": [20220401]})),
    }
    runner = _runner(engine)
    runner.probe("transform", foreign_key_probes(tables), tables)
    got = _observed(runner)
    assert got[("foreign_key", "fact_usage", "contract_key → dim_contract")] == (1.0, FAIL)
    assert got[("foreign_key", "fact_usage", "date_key → dim_date")] == (1.0, FAIL)
    assert got[("foreign_key", "fact_usage", "app_key → dim_app")] == (0.0, PASS)
    assert got[("foreign_key", "fact_usage", "device_key → dim_device")] == (0.0, PASS)


def test_fresh_partitions_scope_the_fact_references(engine: DuckDBEngine) -> None:
    # 20220401 was written by an earlier run; this run wrote 20220402 only. An orphan key in the
    # kept partition was looked up when it was written; in the new one it is found.
    fact = _fact([20220401, 20220402, 20220402], [9, 1, 2], [5, 5, 5])
    tables = {"fact_usage": fact, "dim_contract": ibis.memtable(pa.table({"contract_key": [2]}))}
    subject = ("foreign_key", "fact_usage", "contract_key → dim_contract")
    for built, orphans in (([20220402], 1.0), ([20220401, 20220402], 2.0), ([], 0.0)):
        runner = _runner(engine)
        new = {"fact_usage": fact.filter(fact.date_key.isin(built))}
        runner.probe("transform", foreign_key_probes(tables, fresh=new), tables)
        assert _observed(runner)[subject] == (orphans, FAIL if orphans else PASS)


def test_unknown_device_rate_weighs_records(engine: DuckDBEngine) -> None:
    from hashlib import md5

    unknown = int(md5(UNKNOWN.encode()).hexdigest()[:15], 16)
    fact = ibis.memtable(
        pa.table({
            "date_key": [20220401] * 3, "contract_key": [1, 2, 3],
            "device_key": [unknown, 8, 9], "app_key": [5, 5, 5],
            "total_duration": [1, 1, 1], "records": [15, 40, 45],
        })
    )  # fmt: skip
    runner = _runner(engine)
    runner.probe("transform", table_probes("fact_usage", fact, CONFIG), {"fact_usage": fact})
    assert _observed(runner)[("unknown_device_rate", "fact_usage", "")] == (0.15, WARN)


def test_search_null_rates(engine: DuckDBEngine) -> None:
    bronze = ibis.memtable(
        pa.table({
            "user_id": ["1", None, None, "4", None], "keyword": ["a", "b", None, "c", "d"],
        })
    )  # fmt: skip
    runner = _runner(engine)
    runner.probe("search", search_probes(bronze), {"search": bronze})
    got = _observed(runner)
    assert got[("search_null_user_rate", "search", "user_id")] == (0.6, WARN)
    assert got[("search_null_keyword_rate", "search", "keyword")] == (0.2, WARN)


# -- the runner -----------------------------------------------------------------------------


def test_enforce_stops_on_a_failure_naming_it(engine: DuckDBEngine) -> None:
    runner = _runner(engine)
    counts = [InputCounts("a.json", D, 10, 1), InputCounts("b.json", D, 10, 2)]
    runner.add(reject_rates(counts, QUALITY, check="content_reject_rate", stage="i", table="c"))
    with pytest.raises(QualityError) as caught:
        runner.enforce()
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("data quality check failed: content_reject_rate on c a.json: ")
    assert "10.0 % > 5.0 %" in message and "(and 1 more)" in message


def test_allowed_failures_warn_once_and_go_on(engine: DuckDBEngine) -> None:
    reporter = NullReporter()
    runner = QualityRunner(
        engine, QualityConfig(allow_failures=True), run_id="r1", reporter=reporter
    )
    runner.add(
        reject_rates(
            [InputCounts("a.json", D, 10, 1)], QUALITY,
            check="content_reject_rate", stage="i", table="c",
        )
    )  # fmt: skip
    runner.enforce()
    runner.enforce()
    assert [w for w in reporter.warnings if "going on" in w] == [
        "1 data quality check(s) failed; going on (--allow-dq-failures)"
    ]
    rows = runner.table().to_pylist()
    assert [(r["run_id"], r["check_name"], r["status"]) for r in rows] == [
        ("r1", "content_reject_rate", FAIL)
    ]
