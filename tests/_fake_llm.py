"""A real local HTTP server speaking the OpenAI chat-completions protocol, with injected faults.

The ``fake_llm`` fixture (in ``conftest.py``) starts one per test; the search benchmark
(``benchmarks/search_pipeline.py``) starts one that answers after a fixed latency."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def genre(keyword: str) -> str:
    """The fake model's answer: a fixed genre per keyword."""
    return ("Drama", "Action", "K Drama", "News")[sum(map(ord, keyword)) % 4]


@dataclass
class FakeLLM:
    """Faults to play, one per request, then correct answers; and every request received."""

    faults: list[tuple[str, Any]] = field(default_factory=list)
    delay_s: float = 0.0
    requests: list[dict[str, Any]] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def keywords(self) -> list[list[str]]:
        return [json.loads(r["messages"][1]["content"])["keywords"] for r in self.requests]


def _handler(fake: FakeLLM) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            return

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with fake.lock:
                fake.requests.append(body)
                fake.times.append(time.monotonic())
                fault = fake.faults.pop(0) if fake.faults else ("ok", None)
            keywords = json.loads(body["messages"][1]["content"])["keywords"]
            labels = {k: genre(k) for k in keywords}
            kind, arg = fault
            if kind == "status":
                status, headers = arg
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                return
            if kind == "raw":  # a 200 with these headers and body bytes, sent as they are
                headers, data = arg
                self.send_response(200)
                for name, value in {"Content-Length": str(len(data)), **headers}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
                return
            if kind == "sleep":
                time.sleep(arg)
            if fake.delay_s:
                time.sleep(fake.delay_s)
            content = json.dumps({"labels": labels}, ensure_ascii=False)
            if kind == "content":
                content = arg
            if kind == "labels":
                content = json.dumps({"labels": arg(labels)}, ensure_ascii=False)
            answer = {
                "choices": [{"message": {"role": "assistant", "content": content}}],
                "usage": {"total_tokens": 10 * len(keywords)},
            }
            data = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


@contextmanager
def serve_fake_llm(*, delay_s: float = 0.0) -> Iterator[tuple[FakeLLM, str]]:
    """Start the server on a free port, answering each request after ``delay_s``; yields its state
    and its base URL (``.../v1``)."""
    state = FakeLLM(delay_s=delay_s)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()
