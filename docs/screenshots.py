"""Screenshots of the dashboard's main pages for the docs (``make screenshots``).

Serves the warehouse given (default: the demo's) on a free loopback port, opens each page in
Debian's chromium and writes ``docs/img/dashboard-<page>.png`` (the live page needs a stream
processed into that warehouse: ``c360 stream process --warehouse demo/c360.duckdb …``).
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright

PAGES = ("overview", "usage", "customers", "search", "quality", "live")
OUT = Path(__file__).with_name("img")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip


def main() -> None:
    warehouse = sys.argv[1] if len(sys.argv) > 1 else "demo/c360.duckdb"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    c360 = str(Path(sys.executable).with_name("c360"))
    server = subprocess.Popen([c360, "serve", "--warehouse", warehouse, "--port", str(port)])
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{base}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        OUT.mkdir(exist_ok=True)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            for name in PAGES:
                page.goto(f"{base}/#{name}")
                page.wait_for_selector(f'body[data-loaded="{name}"]', state="attached")
                page.screenshot(path=OUT / f"dashboard-{name}.png", full_page=True)
                print(f"wrote {OUT / f'dashboard-{name}.png'}")
            browser.close()
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
