"""The LLM client when the server misbehaves for good or for long: undecodable bodies, long
``Retry-After``, a time budget, a refused key, a server that answers nothing, a URL that is no
URL. Against the real local server of ``_fake_llm``."""

from __future__ import annotations

import gzip
import json
import socket
import time
from pathlib import Path
from typing import Any

import pytest

from _fake_llm import FakeLLM
from c360.console import NullReporter
from c360.enrich.llm import LLMClassifier, LLMSettings
from c360.enrich.store import AnswerStore
from c360.errors import ConfigError, TransientError

KEYWORDS = [f"phim {i}" for i in range(25)]
ANSWER = json.dumps(
    {"choices": [{"message": {"content": json.dumps({"labels": {"phim 0": "Drama"}})}}]}
).encode()


def _settings(url: str, **options: Any) -> LLMSettings:
    base: dict[str, Any] = {"batch_size": 10, "concurrency": 1, "backoff_base_s": 0.01}
    return LLMSettings(url, "fake-model", **{**base, **options})


def _classifier(url: str, tmp_path: Path, **options: Any) -> LLMClassifier:
    store = AnswerStore(tmp_path / "answers.sqlite")
    return LLMClassifier(_settings(url, **options), store, reporter=NullReporter())


# -- a 200 whose body cannot be decoded is a malformed answer, retried ---------------------------


@pytest.mark.parametrize(
    ("headers", "body"),
    [
        pytest.param({"Content-Encoding": "gzip"}, ANSWER, id="gzip-but-plain"),
        pytest.param({"Content-Encoding": "deflate"}, ANSWER, id="deflate-but-plain"),
        pytest.param({"Content-Encoding": "gzip"}, gzip.compress(ANSWER)[:-12], id="gzip-cut"),
        pytest.param({"Content-Type": "application/json"}, b"\xff\xfe{\x00", id="not-utf8"),
        pytest.param({}, b"", id="empty"),
    ],
)
def test_an_undecodable_200_is_a_malformed_answer_and_retried(
    fake_llm: tuple[FakeLLM, str], tmp_path: Path, headers: dict[str, str], body: bytes
) -> None:
    server, url = fake_llm
    server.faults = [("raw", (headers, body))]
    report = _classifier(url, tmp_path).classify(KEYWORDS[:10])
    assert report.errors == {"malformed answer": 1}
    assert (report.requests, report.retries, report.answered) == (2, 1, 10)


# -- Retry-After is capped, a long wait is said, and the budget counts time -----------------------


def test_a_retry_after_beyond_the_cap_is_cut_to_it_and_said(
    fake_llm: tuple[FakeLLM, str], tmp_path: Path
) -> None:
    server, url = fake_llm
    server.faults = [("status", (429, {"Retry-After": "3600"}))]
    classifier = _classifier(url, tmp_path, max_wait_s=0.3)
    report = classifier.classify(KEYWORDS[:10])
    assert report.answered == 10 and report.errors == {"HTTP 429": 1}
    assert 0.28 <= server.times[1] - server.times[0] < 5
    assert classifier.reporter.warnings == [  # type: ignore[attr-defined]
        f"LLM server {url} asks to wait 3600 s before retrying; waiting 0.3 s "
        "(classify.llm_max_wait)"
    ]


def test_a_short_retry_after_is_honoured_silently(
    fake_llm: tuple[FakeLLM, str], tmp_path: Path
) -> None:
    server, url = fake_llm
    server.faults = [("status", (503, {"Retry-After": "0.2"}))]
    classifier = _classifier(url, tmp_path)
    assert classifier.classify(KEYWORDS[:10]).answered == 10
    assert classifier.reporter.warnings == []  # type: ignore[attr-defined]


def test_the_time_budget_stops_a_wait_that_would_outlast_it(
    fake_llm: tuple[FakeLLM, str], tmp_path: Path
) -> None:
    server, url = fake_llm
    server.faults = [("status", (503, {"Retry-After": "30"}))]
    started = time.monotonic()
    report = _classifier(url, tmp_path, max_wait_s=30, budget_seconds=2).classify(KEYWORDS)
    assert time.monotonic() - started < 2
    assert report.budget_exhausted and report.requests == 1 and report.answered == 0


def test_the_time_budget_stops_starting_requests(
    fake_llm: tuple[FakeLLM, str], tmp_path: Path
) -> None:
    server, url = fake_llm
    # A third request could start at 2 x 0.8 s at the earliest, after the 1.5 s budget; the
    # second starts once the first is answered (0.8 s plus overhead, well inside the budget).
    server.delay_s = 0.8
    report = _classifier(url, tmp_path, budget_seconds=1.5).classify(KEYWORDS)
    assert report.budget_exhausted
    assert (report.requests, report.answered, len(server.requests)) == (2, 20, 2)


# -- a run that cannot succeed stops, one line ----------------------------------------------------


@pytest.mark.parametrize(
    ("status", "says"),
    [
        (401, "refused the API key; set a valid one in C360_LLM_API_KEY"),
        (403, "refused the API key for this model; set a valid one in C360_LLM_API_KEY"),
        (404, "has no such endpoint or model; check --llm-base-url (it usually ends in /v1) and "
              "--llm-model"),
    ],
)  # fmt: skip
def test_a_refused_key_or_a_wrong_endpoint_stops_at_the_first_answer(
    fake_llm: tuple[FakeLLM, str], tmp_path: Path, status: int, says: str
) -> None:
    server, url = fake_llm
    server.faults = [("status", (status, {}))] * 50
    with pytest.raises(ConfigError) as caught:
        _classifier(url, tmp_path, concurrency=2).classify(KEYWORDS)
    assert str(caught.value) == (
        f"LLM server {url} {says} (HTTP {status}); answers stored so far are kept"
    )
    assert len(server.requests) <= 2  # the requests already in flight, nothing after


def test_a_server_failing_every_request_is_an_error_after_three_batches(
    fake_llm: tuple[FakeLLM, str], tmp_path: Path
) -> None:
    server, url = fake_llm
    server.faults = [("status", (503, {}))] * 100
    keywords = [f"kw {i}" for i in range(100)]
    with pytest.raises(TransientError) as caught:
        _classifier(url, tmp_path, max_attempts=2).classify(keywords)
    assert str(caught.value) == (
        f"LLM server {url} answered no keyword in 6 requests (HTTP 503 6); check that it is "
        "running and the URL, or classify offline (without --llm-base-url)"
    )
    assert len(server.requests) == 6  # 3 batches × 2 attempts, not 10 batches


def test_a_server_that_is_not_running_is_an_error(tmp_path: Path) -> None:
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1"
    with pytest.raises(TransientError) as caught:
        _classifier(url, tmp_path, max_attempts=2).classify(KEYWORDS)
    message = str(caught.value)
    assert message.startswith(
        f"LLM server {url} answered no keyword in 6 requests (connection 6; last: "
    )
    assert "\n" not in message


def test_a_run_where_some_batches_were_answered_is_not_an_error(
    fake_llm: tuple[FakeLLM, str], tmp_path: Path
) -> None:
    server, url = fake_llm
    server.faults = [("ok", None)] + [("status", (503, {}))] * 10
    report = _classifier(url, tmp_path, max_attempts=2).classify(KEYWORDS)
    assert report.answered == 10 and report.failed_batches == 2


@pytest.mark.parametrize(
    "url",
    [
        "127.0.0.1:8000/v1",
        "localhost:8000",
        "api.example.com/v1",
        "ftp://example.com/v1",
        "http:///v1",
        "http://[::1:8000/v1",
        "http://localhost:99999/v1",
    ],
)
def test_a_base_url_that_is_not_an_http_url_is_a_configuration_error(url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        LLMSettings.from_environment(url, "fake-model")
    assert str(caught.value) == (
        f"--llm-base-url {url!r} is not an http(s) URL; write it as http://host:port/v1 "
        "(e.g. http://127.0.0.1:8000/v1)"
    )
