"""Serving: profile look-ups under load, per back end, and the dashboard's overview page.

A warehouse is built (cached) from the content benchmark's days at ``--scale``, copied into
PostgreSQL (``c360 load``) and into Redis (``c360 publish-online``); then for each back end
``c360 serve`` runs on loopback and ``wrk`` (Debian's package) asks for random contracts' profiles
with ``--clients`` connections for ``--seconds``: requests/s, p50 and p99. Finally Debian's
chromium, driven by Playwright, times the overview page until its figures are drawn.

    python benchmarks/serving.py --scale 1 --seconds 20 --clients 32
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import httpx
import psutil

from _harness import CACHE, machine, median, write_section
from content_pipeline import ensure_data, link_days

BIN = Path(sys.executable).parent
C360 = str(BIN / "c360")
POSTGRES = "postgresql://postgres@127.0.0.1:5432/c360_bench"
REDIS = "redis://127.0.0.1:6379/15"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
LUA = """
local contracts = {}
for line in io.lines("%s") do contracts[#contracts + 1] = line end
request = function()
  return wrk.format("GET", "/api/v1/customers/" .. contracts[math.random(#contracts)])
end
"""
#: The same requests, each connection pausing between answer and next request (uniform, mean
#: %s ms): clients that ask at a rate, as callers of a profile API do, instead of as fast as
#: the server answers.
PACED = (
    LUA
    + """
delay = function()
  return math.random() * 2 * %s
end
"""
)
#: The rate the latency target is judged at (requests/s over all clients).
TARGET_RATE = 3000


def _run(*cmd: str) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{done.stderr[-2000:]}")


def build_warehouse(scale: float) -> Path:
    """A DuckDB warehouse of the content days at ``scale`` (cached)."""
    folder = CACHE / f"serving-sf{scale:g}"
    warehouse = folder / "c360.duckdb"
    if not warehouse.exists():
        days, _ = ensure_data(scale)
        link_days(folder / "content", days)
        shutil.rmtree(folder / "lake", ignore_errors=True)
        print(f"building the SF{scale:g} warehouse", flush=True)
        _run(C360, "run", "--content", str(folder / "content"), "--lake", str(folder / "lake"),
             "--warehouse", str(warehouse))  # fmt: skip
    return warehouse


def sample_contracts(warehouse: Path, path: Path, n: int = 20_000) -> int:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        contracts = [r[0] for r in con.execute("SELECT contract FROM customer_360").fetchall()]
    finally:
        con.close()
    random.Random(7).shuffle(contracts)
    path.write_text("\n".join(contracts[:n]) + "\n", encoding="utf-8")
    return len(contracts)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(*args: str) -> Iterator[str]:
    port = _free_port()
    process = subprocess.Popen(
        [C360, "serve", "--port", str(port), *args],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 600  # an SF1 snapshot from PostgreSQL takes a while
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None:
                raise SystemExit(f"c360 serve {' '.join(args)} stopped")
            time.sleep(0.5)
        _settle(process.pid)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:  # a worker still loading its snapshot
            for child in psutil.Process(process.pid).children(recursive=True):
                child.kill()
            process.kill()
            process.wait(timeout=30)


def _settle(pid: int, *, idle: float = 10.0, quiet_s: int = 3, deadline_s: float = 900) -> None:
    """Wait until the server's processes have been idle for ``quiet_s`` seconds: one worker
    answering /readyz does not mean the others have loaded their snapshots (they would load
    during the measurement)."""
    root = psutil.Process(pid)
    deadline, quiet = time.monotonic() + deadline_s, 0
    while time.monotonic() < deadline and quiet < quiet_s:
        tree = [root, *root.children(recursive=True)]
        before = sum(sum(p.cpu_times()[:2]) for p in tree)
        time.sleep(1.0)
        after = sum(sum(p.cpu_times()[:2]) for p in tree if p.is_running())
        quiet = quiet + 1 if (after - before) * 100 < idle else 0


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def paced(
    base: str, contracts: Path, folder: Path, *, clients: int, seconds: int, rate: int
) -> dict[str, float]:
    """wrk at about ``rate`` requests/s in all: the pause is calibrated by short runs until the
    rate reached is at least ``rate``; then the measured run."""
    pause_ms = 1000 * clients / rate - 1.0  # an answer takes about a millisecond at this rate
    script = folder / "paced.lua"
    figures: dict[str, float] = {}
    for _ in range(4):
        script.write_text(PACED % (contracts, pause_ms), encoding="utf-8")
        figures = load(base, script, clients=clients, seconds=5)
        if figures["requests_per_s"] >= rate:
            break
        cycle_ms = 1000 * clients / figures["requests_per_s"]
        pause_ms = max(0.0, pause_ms - (cycle_ms - 1000 * clients / rate) * 1.1)
    figures = load(base, script, clients=clients, seconds=seconds)
    return {**figures, "pause_ms": pause_ms}


def load(base: str, script: Path, *, clients: int, seconds: int) -> dict[str, float]:
    """wrk against ``base``: requests/s and latency percentiles (ms), non-2xx counted."""
    out = subprocess.run(
        ["wrk", "-t", "1", "-c", str(clients), "-d", f"{seconds}s", "--latency", "-s", str(script),
         base],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    percentiles = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", out, flags=re.M))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "requests_per_s": rate,
        "p50_ms": _ms(percentiles["50"]),
        "p99_ms": _ms(percentiles["99"]),
        "non_2xx": float(errors.group(1)) if errors else 0.0,
    }


def overview_seconds(base: str, repeat: int = 3) -> list[float]:
    """Seconds from opening the dashboard to its overview's figures drawn."""
    from playwright.sync_api import sync_playwright

    times = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
        for _ in range(repeat):
            page = browser.new_page()
            start = time.perf_counter()
            page.goto(f"{base}/#overview")
            page.wait_for_selector('body[data-loaded="overview"]', state="attached")
            times.append(time.perf_counter() - start)
            page.close()
        browser.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument(
        "--workers", default="1,2", help="comma-separated worker counts to serve with"
    )
    args = parser.parse_args()
    worker_counts = [int(n) for n in args.workers.split(",")]
    if shutil.which("wrk") is None:
        raise SystemExit("the serving benchmark needs wrk: apt-get install wrk")

    warehouse = build_warehouse(args.scale)
    folder = warehouse.parent
    script = folder / "lookups.lua"
    customers = sample_contracts(warehouse, folder / "contracts.txt")
    script.write_text(LUA % (folder / "contracts.txt"), encoding="utf-8")
    print(f"{customers:,} customers; loading PostgreSQL and Redis", flush=True)
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc",
                    "DROP DATABASE IF EXISTS c360_bench WITH (FORCE)"], check=True)  # fmt: skip
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc",
                    "CREATE DATABASE c360_bench"], check=True)  # fmt: skip
    _run(C360, "load", "--from", str(warehouse), "--to", POSTGRES)
    _run(C360, "publish-online", "--online", REDIS, "--warehouse", str(warehouse))

    backends = {
        "DuckDB": ["--warehouse", str(warehouse)],
        "PostgreSQL": ["--warehouse", POSTGRES],
        "Redis": ["--warehouse", str(warehouse), "--online", REDIS],
    }
    results: dict[str, object] = {"machine": machine(), "scale": args.scale,
                                  "customers": customers, "clients": args.clients}  # fmt: skip
    rows = []
    for name, serve_args in backends.items():
        for workers in worker_counts:
            with serving(*serve_args, "--workers", str(workers)) as base:
                figures = load(base, script, clients=args.clients, seconds=args.seconds)
                at_rate = paced(
                    base, folder / "contracts.txt", folder, clients=args.clients,
                    seconds=args.seconds, rate=TARGET_RATE,
                )  # fmt: skip
                if name == "DuckDB" and workers == worker_counts[0]:
                    results["overview_s"] = overview_seconds(base)
            results[f"{name} ×{workers}"] = {
                **figures, **{f"paced_{k}": v for k, v in at_rate.items()},
            }  # fmt: skip
            rows.append(
                f"| {name} | {workers} | {figures['requests_per_s']:,.0f} | "
                f"{figures['p50_ms']:.1f} | {figures['p99_ms']:.1f} | "
                f"{at_rate['requests_per_s']:,.0f} | {at_rate['p50_ms']:.1f} | "
                f"{at_rate['p99_ms']:.1f} | {figures['non_2xx'] + at_rate['non_2xx']:.0f} |"
            )
            print(rows[-1], flush=True)
    info = machine()
    markdown = f"""
## Serving: profile look-ups and the dashboard (`benchmarks/serving.py`)

{info["date"]}, {info["cores"]} cores / {info["ram_gb"]} GB RAM, SF{args.scale:g}
({customers:,} customers). `c360 serve --workers N` on loopback; `wrk` (one thread,
{args.clients} connections, {args.seconds} s) asks for random contracts' profiles
(`/api/v1/customers/{{contract}}`) from a sample of 20,000. Client and server share the two cores.
The DuckDB and PostgreSQL back ends answer from the server's in-memory snapshot of the publish
(D63); Redis from the online store (D65). Each worker process holds its own snapshot.
Two loads per row: as fast as the server answers (each connection sends its next request when
the last is answered: the most requests/s, and latencies that are mostly queueing, 32 clients ÷
the rate), and at about {TARGET_RATE:,} requests/s in all (each connection pausing between
requests): the latency a caller sees at the target rate (D76).

| back end | workers | max req/s | p50 ms | p99 ms | paced req/s | p50 ms | p99 ms | non-2xx |
|---|---|---|---|---|---|---|---|---|
{chr(10).join(rows)}

Dashboard overview fully drawn (Playwright, Debian's chromium, DuckDB back end): median
{median(results["overview_s"]):.2f} s of {len(results["overview_s"])} loads.
"""  # type: ignore[arg-type]
    write_section("serving", markdown, results)
    print(markdown)


if __name__ == "__main__":
    main()
