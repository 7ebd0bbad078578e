"""`c360 classify`, end to end: offline by default, an LLM when given, republished tables."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner

from _fake_llm import genre
from _support import content_line, write_day, write_search_day
from c360.app import C360
from c360.config import load_config
from c360.errors import InputError
from c360.reports import RunReport
from c360.shells.cli import app

pytestmark = pytest.mark.slow

SEARCHES = [
    ("1", "2022-06-10 10:00:00.000", "0001", "Naruto"),
    ("2", "2022-06-10 11:00:00.000", "0001", "naruto"),
    ("3", "2022-06-10 12:00:00.000", "0002", "thoi su 19h"),
    ("4", "2022-06-10 13:00:00.000", "0003", "zzqx vlorp"),
]
JULY = [
    ("5", "2022-07-01 10:00:00.000", "0001", "Running Man"),
    ("6", "2022-07-01 11:00:00.000", "0002", "thời sự"),
]


def _facade() -> C360:
    return C360(config=load_config(env={}))


def _run(root: Path, **options: Any) -> RunReport:
    content = root / "content"
    if not content.exists():
        write_day(content, date(2022, 7, 1), [content_line("HNH000001", record_id="c")])
        write_search_day(root / "search", date(2022, 6, 10), SEARCHES)
        write_search_day(root / "search", date(2022, 7, 1), JULY)
    return _facade().run(
        content, warehouse=str(root / "w.duckdb"), lake=root / "lake", search=root / "search",
        **options,
    )  # fmt: skip


def _rows(root: Path, sql: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(root / "w.duckdb"), read_only=True)
    try:
        return con.sql(sql).fetchall()
    finally:
        con.close()


def _categories(root: Path) -> dict[str, tuple[str, str | None]]:
    rows = _rows(root, "SELECT keyword_norm, category, source FROM keyword_category")
    return {k: (c, s) for k, c, s in rows}


def _invoke(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def _classified_offline(root: Path) -> tuple[str, str]:
    """A run whose keywords were then classified offline; returns its lake and warehouse."""
    _run(root)
    lake, warehouse = str(root / "lake"), str(root / "w.duckdb")
    assert _invoke("classify", "--lake", lake, "--warehouse", warehouse).exit_code == 0
    return lake, warehouse


def test_offline_classify_republishes_every_table_that_shows_a_genre(tmp_path: Path) -> None:
    _run(tmp_path)
    assert {c for c, _ in _categories(tmp_path).values()} == {"Unknown"}

    result = _invoke(
        "classify", "--lake", str(tmp_path / "lake"), "--warehouse", str(tmp_path / "w.duckdb")
    )
    assert result.exit_code == 0, result.output
    assert "keywords given a genre offline" in result.output
    categories = _categories(tmp_path)
    # Lexicon titles (with or without diacritics) and marker words decide; nonsense stays
    # Unknown because the model is not sure of it.
    assert categories["naruto"] == ("Animation", "rule")
    assert categories["running man"] == ("Reality Show", "rule")
    assert categories["thời sự"] == ("News", "rule")
    assert categories["thoi su 19h"] == ("News", "rule")
    assert categories["zzqx vlorp"][0] == "Unknown"
    assert categories["zzqx vlorp"][1] == "model"
    top = _rows(
        tmp_path,
        "SELECT user_id, month, category FROM search_monthly_top ORDER BY user_id, month",
    )
    assert top == [
        ("0001", "2022-06", "Animation"), ("0001", "2022-07", "Reality Show"),
        ("0002", "2022-06", "News"), ("0002", "2022-07", "News"),
        ("0003", "2022-06", "Unknown"),
    ]  # fmt: skip
    stats = _rows(
        tmp_path,
        "SELECT user_id, trending_type, category_change FROM customer_search_stats ORDER BY 1",
    )
    assert stats == [
        ("0001", "Changed", "Animation -> Reality Show"),
        ("0002", "Unchanged", "Unchanged"),
        ("0003", "Lapsed", "Unknown -> None"),
    ]


def test_the_next_run_keeps_the_offline_genres(tmp_path: Path) -> None:
    _run(tmp_path)
    _facade().classify(lake=tmp_path / "lake", warehouse=str(tmp_path / "w.duckdb"))
    before = _categories(tmp_path)
    _run(tmp_path)
    assert _categories(tmp_path) == before


def test_llm_answers_replace_offline_ones_and_are_never_replaced(
    tmp_path: Path, fake_llm: tuple[Any, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, url = fake_llm
    lake, warehouse = _classified_offline(tmp_path)

    monkeypatch.setenv("C360_LLM_API_KEY", "sk-test-secret")
    result = _invoke(
        "classify", "--lake", lake, "--warehouse", warehouse, "--llm-base-url", url,
        "--llm-model", "fake-model", "--batch-size", "1", "--concurrency", "1",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "5 of 5 keywords answered" in result.output
    assert "sk-test-secret" not in result.output
    # Most searched first (naruto: 2 searches), then by keyword.
    assert server.keywords() == [
        ["naruto"],
        ["running man"],
        ["thoi su 19h"],
        ["thời sự"],
        ["zzqx vlorp"],
    ]
    expected = {k: (genre(k), "llm") for k in _categories(tmp_path)}
    assert _categories(tmp_path) == expected
    top = dict(_rows(tmp_path, "SELECT most_search, category FROM search_monthly_top"))
    assert top["naruto"] == genre("naruto")

    # Offline again: LLM answers stay; the LLM is not asked again.
    assert _invoke("classify", "--lake", lake, "--warehouse", warehouse).exit_code == 0
    assert _categories(tmp_path) == expected
    again = _invoke(
        "classify", "--lake", lake, "--warehouse", warehouse, "--llm-base-url", url,
        "--llm-model", "fake-model",
    )  # fmt: skip
    assert "0 of 0 keywords answered" in again.output
    assert len(server.keywords()) == 5


def test_after_a_budget_stop_unanswered_keywords_keep_their_offline_genre(
    tmp_path: Path, fake_llm: tuple[Any, str]
) -> None:
    server, url = fake_llm
    lake, warehouse = _classified_offline(tmp_path)
    offline = _categories(tmp_path)
    result = _invoke(
        "classify", "--lake", lake, "--warehouse", warehouse, "--llm-base-url", url,
        "--llm-model", "fake-model", "--batch-size", "2", "--concurrency", "1",
        "--budget-requests", "1",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (
        "budget spent: keywords not answered keep the genre they had (an offline one, or "
        "Unknown) and are asked on the next run" in " ".join(result.output.split())
    )
    assert server.keywords() == [["naruto", "running man"]]
    categories = _categories(tmp_path)
    assert categories["naruto"] == (genre("naruto"), "llm")
    assert categories["thoi su 19h"] == offline["thoi su 19h"] == ("News", "rule")
    assert categories["zzqx vlorp"] == offline["zzqx vlorp"] == ("Unknown", "model")


def test_the_users_mapping_decides_before_any_classifier(
    tmp_path: Path, fake_llm: tuple[Any, str]
) -> None:
    server, url = fake_llm
    mapping = tmp_path / "mapping.csv"
    mapping.write_text("keyword,category\nNARUTO,Comedy\n", encoding="utf-8")
    _run(tmp_path, mapping=mapping)
    lake, warehouse = tmp_path / "lake", str(tmp_path / "w.duckdb")
    _facade().classify(lake=lake, warehouse=warehouse)
    assert _categories(tmp_path)["naruto"] == ("Comedy", "mapping")
    _facade().classify(lake=lake, warehouse=warehouse, llm_base_url=url, llm_model="m")
    assert _categories(tmp_path)["naruto"] == ("Comedy", "mapping")
    assert ["naruto"] not in server.keywords()


def test_train_from_llm_learns_the_llm_answers_and_keeps_the_model(
    tmp_path: Path, fake_llm: tuple[Any, str]
) -> None:
    _, url = fake_llm
    _run(tmp_path)
    lake, warehouse = tmp_path / "lake", str(tmp_path / "w.duckdb")
    with pytest.raises(InputError, match="no LLM answers"):
        _facade().classify(lake=lake, warehouse=warehouse, train_from_llm=True)
    _facade().classify(
        lake=lake, warehouse=warehouse, llm_base_url=url, llm_model="m", budget_requests=1,
        batch_size=2,
    )  # fmt: skip
    report = _facade().classify(lake=lake, warehouse=warehouse, train_from_llm=True)
    assert (lake / "_state" / "keyword_model.pickle").exists()
    assert report.model is not None and report.model.startswith("offline-lexicon-")
    # Two LLM answers (one batch of two) joined the lexicon's labels.
    assert report.trained_on >= 2
    answered = {k: v for k, v in _categories(tmp_path).items() if v[1] == "llm"}
    assert set(answered) == {"naruto", "running man"}
    # The saved model is used by the next offline run and by --evaluate.
    labels = tmp_path / "labels.csv"
    labels.write_text("keyword,category\nNaruto,Animation\nrunning  man,Reality Show\n")
    result = _invoke("classify", "--lake", str(lake), "--evaluate", str(labels))
    assert result.exit_code == 0, result.output
    pairs = (("naruto", "Animation"), ("running man", "Reality Show"))
    agreed = sum(genre(k) == g for k, g in pairs)
    assert f"agreement {agreed / 2:.1%} on 2 keywords" in result.output


def test_evaluate_prints_agreement_per_genre_and_a_confusion_matrix(tmp_path: Path) -> None:
    labels = tmp_path / "labels.csv"
    labels.write_text(
        "keyword,category\nDoraemon,Animation\nvtv3,TV Channel\nbóng đá,Drama\n", encoding="utf-8"
    )
    result = _invoke("classify", "--lake", str(tmp_path / "lake"), "--evaluate", str(labels))
    assert result.exit_code == 0, result.output
    assert "agreement 66.7% on 3 keywords" in result.output
    assert "agreement per genre" in result.output
    assert "confusion" in result.output
    assert "│ TV Channel │       0 │      0 │       1 │" in result.output


def test_classify_before_any_search_run_is_a_clear_error(tmp_path: Path) -> None:
    result = _invoke("classify", "--lake", str(tmp_path / "lake"))
    assert result.exit_code == 1
    assert "no search logs in the lake" in result.output


def test_a_bad_label_file_is_a_clear_error(tmp_path: Path) -> None:
    labels = tmp_path / "labels.csv"
    labels.write_text("keyword,category\nx,Thriller\n", encoding="utf-8")
    result = _invoke("classify", "--evaluate", str(labels))
    assert result.exit_code == 1
    assert "labels.csv:2: category 'Thriller' is not one of" in result.output


def test_llm_timeout_is_a_flag_and_a_setting(tmp_path: Path, fake_llm: tuple[Any, str]) -> None:
    server, url = fake_llm
    _run(tmp_path)
    lake, warehouse = str(tmp_path / "lake"), str(tmp_path / "w.duckdb")
    server.faults = [("sleep", 1.5)]
    result = _invoke(
        "classify", "--lake", lake, "--warehouse", warehouse, "--llm-base-url", url,
        "--llm-model", "fake-model", "--batch-size", "10", "--llm-timeout", "0.5",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "5 of 5 keywords answered" in result.output
    assert "errors: timeout 1" in result.output
    config = load_config(env={"C360__CLASSIFY__LLM_TIMEOUT": "0.5"})
    assert config.classify.llm_timeout == 0.5
    assert load_config(env={}).classify.llm_timeout == 60.0


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        pytest.param(
            ("status", (401, {})),
            "error: LLM server {url} refused the API key; set a valid one in C360_LLM_API_KEY "
            "(HTTP 401); answers stored so far are kept",
            id="401",
        ),
        pytest.param(
            ("status", (503, {})),
            "error: LLM server {url} answered no keyword in 15 requests (HTTP 503 15); check "
            "that it is running and the URL, or classify offline (without --llm-base-url)",
            id="503-throughout",
        ),
    ],
)
def test_an_llm_run_that_answered_nothing_fails_and_republishes_nothing(
    tmp_path: Path, fake_llm: tuple[Any, str], fault: tuple[str, Any], expected: str
) -> None:
    server, url = fake_llm
    lake, warehouse = _classified_offline(tmp_path)
    before = _categories(tmp_path)
    server.faults = [fault] * 100
    result = CliRunner().invoke(
        app,
        ["classify", "--lake", lake, "--warehouse", warehouse, "--llm-base-url", url,
         "--llm-model", "fake-model", "--batch-size", "1", "--concurrency", "1"],
        env={"COLUMNS": "400", "NO_COLOR": "1"},
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    assert result.stderr.strip().splitlines() == [expected.format(url=url)]
    assert _categories(tmp_path) == before


def test_an_llm_url_without_a_scheme_is_one_line_and_asks_nothing(tmp_path: Path) -> None:
    _run(tmp_path)
    result = CliRunner().invoke(
        app,
        ["classify", "--lake", str(tmp_path / "lake"), "--warehouse", str(tmp_path / "w.duckdb"),
         "--llm-base-url", "127.0.0.1:8000/v1", "--llm-model", "m"],
        env={"COLUMNS": "400", "NO_COLOR": "1"},
    )  # fmt: skip
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "error: --llm-base-url '127.0.0.1:8000/v1' is not an http(s) URL; write it as "
        "http://host:port/v1 (e.g. http://127.0.0.1:8000/v1)"
    ]
