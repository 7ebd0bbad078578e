"""The LLM classifier against a real local HTTP server speaking the chat-completions protocol,
with injected faults: rate limits, server errors, slow and malformed answers, bad labels."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from _fake_llm import FakeLLM, genre
from c360.enrich.llm import PROMPT_VERSION, LLMClassifier, LLMSettings, retry_after
from c360.enrich.store import AnswerStore


def _settings(url: str, **options: Any) -> LLMSettings:
    base: dict[str, Any] = {
        "batch_size": 10,
        "concurrency": 2,
        "backoff_base_s": 0.01,
        "timeout_s": 5.0,
    }
    return LLMSettings(url, "fake-model", **{**base, **options})


KEYWORDS = [f"phim {i}" for i in range(25)]


def _answers(store: AnswerStore) -> dict[str, str]:
    return {a.keyword: a.category for a in store.all()}


def test_every_keyword_is_answered_in_batches_most_frequent_first(
    fake_llm: tuple[FakeLLM, str], tmp_path: Path
) -> None:
    server, url = fake_llm
    store = AnswerStore(tmp_path / "answers.sqlite")
    report = LLMClassifier(_settings(url, concurrency=1), store).classify(KEYWORDS)
    assert (report.asked, report.answered, report.requests, report.retries) == (25, 25, 3, 0)
    assert server.keywords() == [KEYWORDS[:10], KEYWORDS[10:20], KEYWORDS[20:]]
    assert _answers(store) == {k: genre(k) for k in KEYWORDS}
    first = server.requests[0]
    assert first["model"] == "fake-model"
    assert first["response_format"] == {"type": "json_object"}
    assert {a.version for a in store.all()} == {f"fake-model/{PROMPT_VERSION}"}
    assert report.tokens == 250


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        pytest.param(("status", (500, {})), "HTTP 500", id="500"),
        pytest.param(("status", (503, {})), "HTTP 503", id="503"),
        pytest.param(("content", "this is not JSON"), "malformed answer", id="invalid-json"),
        pytest.param(("content", '{"choices": []}'), "malformed answer", id="wrong-shape"),
        pytest.param(("sleep", 1.5), "timeout", id="slow"),
    ],
)
def test_a_failed_request_is_retried_and_the_batch_answered(
    fake_llm: tuple[FakeLLM, str], tmp_path: Path, fault: tuple[str, Any], error: str
) -> None:
    server, url = fake_llm
    server.faults = [fault]
    store = AnswerStore(tmp_path / "answers.sqlite")
    settings = _settings(url, concurrency=1, timeout_s=0.5)
    report = LLMClassifier(settings, store).classify(KEYWORDS[:10])
    assert report.errors == {error: 1}
    assert (report.requests, report.retries, report.answered) == (2, 1, 10)
    assert server.keywords() == [KEYWORDS[:10], KEYWORDS[:10]]


def test_429_waits_as_long_as_retry_after_says(
    fake_llm: tuple[FakeLLM, str], tmp_path: Path
) -> None:
    server, url = fake_llm
    server.faults = [("status", (429, {"Retry-After": "1"}))]
    store = AnswerStore(tmp_path / "answers.sqlite")
    report = LLMClassifier(_settings(url, concurrency=1), store).classify(KEYWORDS[:10])
    assert report.errors == {"HTTP 429": 1} and report.answered == 10
    assert server.times[1] - server.times[0] >= 0.95


def test_labels_outside_the_taxonomy_and_missing_keywords_are_asked_again(
    fake_llm: tuple[FakeLLM, str], tmp_path: Path
) -> None:
    server, url = fake_llm

    def damage(labels: dict[str, str]) -> dict[str, str]:
        out = dict(labels)
        out["phim 1"] = "Telenovela"  # not a label of the taxonomy
        del out["phim 2"]  # left out of the answer
        out["something else"] = "Drama"  # not asked: ignored
        return out

    server.faults = [("labels", damage)]
    store = AnswerStore(tmp_path / "answers.sqlite")
    report = LLMClassifier(_settings(url, concurrency=1), store).classify(KEYWORDS[:10])
    assert server.keywords() == [KEYWORDS[:10], ["phim 1", "phim 2"]]
    assert report.answered == 10
    assert _answers(store) == {k: genre(k) for k in KEYWORDS[:10]}


def test_a_keyword_never_answered_stays_unanswered_after_max_asks(
    fake_llm: tuple[FakeLLM, str], tmp_path: Path
) -> None:
    server, url = fake_llm

    def never(labels: dict[str, str]) -> dict[str, str]:
        return {k: v for k, v in labels.items() if k != "phim 3"}

    server.faults = [("labels", never)] * 5
    store = AnswerStore(tmp_path / "answers.sqlite")
    report = LLMClassifier(_settings(url, concurrency=1, max_asks=3), store).classify(KEYWORDS[:10])
    assert server.keywords() == [KEYWORDS[:10], ["phim 3"], ["phim 3"]]
    assert report.answered == 9 and "phim 3" not in _answers(store)


def test_a_keyword_is_asked_three_times_in_all_by_default(
    fake_llm: tuple[FakeLLM, str], tmp_path: Path
) -> None:
    server, url = fake_llm
    server.faults = [("labels", lambda labels: {k: v for k, v in labels.items() if k != "phim 3"})]
    server.faults *= 10
    store = AnswerStore(tmp_path / "answers.sqlite")
    report = LLMClassifier(_settings(url, concurrency=1), store).classify(KEYWORDS)
    assert sum("phim 3" in batch for batch in server.keywords()) == 3
    assert report.answered == 24 and "phim 3" not in _answers(store)


def _leave_out_last_three(labels: dict[str, str]) -> dict[str, str]:
    return dict(list(labels.items())[:-3])


def test_left_out_keywords_fill_the_next_batch_beside_new_ones(
    fake_llm: tuple[FakeLLM, str], tmp_path: Path
) -> None:
    server, url = fake_llm
    server.faults = [("labels", _leave_out_last_three)]
    store = AnswerStore(tmp_path / "answers.sqlite")
    report = LLMClassifier(_settings(url, concurrency=1), store).classify(KEYWORDS)
    # Not [0..9], [10..19], [20..24], then [7, 8, 9] alone: the left-out ones go first.
    assert server.keywords() == [KEYWORDS[:10], KEYWORDS[7:17], KEYWORDS[17:]]
    assert report.answered == 25 and _answers(store) == {k: genre(k) for k in KEYWORDS}


def test_left_out_keywords_are_pooled_into_full_batches_with_requests_in_flight(
    fake_llm: tuple[FakeLLM, str], tmp_path: Path
) -> None:
    server, url = fake_llm
    server.delay_s = 0.05
    server.faults = [("labels", _leave_out_last_three)] * 4
    keywords = [f"kw {i}" for i in range(40)]
    store = AnswerStore(tmp_path / "answers.sqlite")
    report = LLMClassifier(_settings(url, concurrency=2), store).classify(keywords)
    # 40 keywords + 4 × 3 asked again = 52 asks: five full requests and the tail, where sending
    # each left-out three alone would have taken eight requests.
    assert [len(batch) for batch in server.keywords()] == [10, 10, 10, 10, 10, 2]
    assert sorted(k for batch in server.keywords() for k in batch) == sorted(
        keywords + [k for batch in server.keywords()[:4] for k in batch[-3:]]
    )
    assert report.answered == 40 and _answers(store) == {k: genre(k) for k in keywords}


def test_the_request_budget_stops_the_run(fake_llm: tuple[FakeLLM, str], tmp_path: Path) -> None:
    server, url = fake_llm
    store = AnswerStore(tmp_path / "answers.sqlite")
    report = LLMClassifier(_settings(url, concurrency=1, budget_requests=2), store).classify(
        KEYWORDS
    )
    assert report.budget_exhausted and report.requests == 2 and report.answered == 20
    assert len(server.requests) == 2
    # The next run, with budget left, asks only for the rest.
    LLMClassifier(_settings(url, concurrency=1), store).classify(KEYWORDS)
    assert server.keywords()[2:] == [KEYWORDS[20:]]


def test_a_run_killed_mid_way_resumes_without_asking_twice(
    fake_llm: tuple[FakeLLM, str], tmp_path: Path
) -> None:
    server, url = fake_llm
    server.delay_s = 0.3
    keywords = [f"kw {i}" for i in range(100)]
    store_path = tmp_path / "answers.sqlite"
    script = (
        "import sys, json\n"
        "from pathlib import Path\n"
        "from c360.enrich.llm import LLMClassifier, LLMSettings\n"
        "from c360.enrich.store import AnswerStore\n"
        "kws = json.loads(sys.argv[3])\n"
        "s = LLMSettings(sys.argv[1], 'fake-model', batch_size=10, concurrency=1)\n"
        "LLMClassifier(s, AnswerStore(Path(sys.argv[2]))).classify(kws)\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script, url, str(store_path), json.dumps(keywords)],
        env={**os.environ},
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and _stored(store_path) < 30:
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    child.wait()
    answered_before = AnswerStore(store_path).known()
    assert 30 <= len(answered_before) < 100
    asked_before = len(server.requests)

    server.delay_s = 0.0
    store = AnswerStore(store_path)
    report = LLMClassifier(_settings(url, concurrency=2), store).classify(keywords)
    resumed = [k for batch in server.keywords()[asked_before:] for k in batch]
    assert not set(resumed) & answered_before, "an answered keyword was asked again"
    assert sorted(resumed) == sorted(set(keywords) - answered_before)
    assert report.answered == 100 - len(answered_before)
    assert _answers(store) == {k: genre(k) for k in keywords}


def _stored(path: Path) -> int:
    """Answers committed so far, read without taking a write lock (0 while none can be read)."""
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return int(con.execute("SELECT count(*) FROM answers").fetchone()[0])
        finally:
            con.close()
    except sqlite3.Error:
        return 0


@pytest.mark.parametrize(
    ("header", "expected"),
    [("3", 3.0), ("0.5", 0.5), (None, None), ("soon", None), ("-2", 0.0)],
)
def test_retry_after(header: str | None, expected: float | None) -> None:
    assert retry_after(header) == expected


def test_retry_after_as_an_http_date() -> None:
    value = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 5))
    seconds = retry_after(value)
    assert seconds is not None and 3.0 <= seconds <= 5.0
