"""The dashboard in a real browser (Debian's chromium driven by Playwright): every page loads
without a console error and asks nothing of another server, charts show the API's figures, the
look-up finds a customer, and a keyed server asks for the key."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, sync_playwright

from _support import serving_in_thread
from c360.app import C360
from c360.config import load_config
from c360.shells.api.routes import create_app
from c360.shells.api.security import ApiKeys
from c360.stream.landing import LandingZone
from shells.api.conftest import KEY

CHROMIUM = "/usr/bin/chromium"
PAGES = ("overview", "usage", "customers", "search", "quality", "lookup", "live")
#: Flags for a closed network: no background calls home (they would be refused, noisily).
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium with apt")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def served(keyed_app: FastAPI) -> Iterator[str]:
    with serving_in_thread(keyed_app) as base:
        yield base


class Visit:
    """A page with every console error and every request it made recorded."""

    def __init__(self, browser: Browser, base: str) -> None:
        self.base = base
        self.page: Page = browser.new_page(viewport={"width": 1400, "height": 900})
        self.problems: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        self.page.on("request", lambda request: self.requests.append(request.url))

    def _console(self, message: Any) -> None:
        if message.type in ("error", "warning"):
            self.problems.append(f"{message.type}: {message.text}")

    def open(self, page: str, *, key: str | None = KEY) -> None:
        if key is not None:  # as if typed in the key form before
            self.page.add_init_script(f"sessionStorage.setItem('c360-api-key', {key!r})")
        self.page.goto(f"{self.base}/#{page}")
        self.loaded(page)

    def loaded(self, page: str) -> None:
        self.page.wait_for_selector(f'body[data-loaded="{page}"]', state="attached", timeout=20_000)

    def series(self, chart: str, index: int = 0) -> Any:
        return self.page.evaluate(
            "id => echarts.getInstanceByDom(document.getElementById(id)).getOption().series",
            chart,
        )[index]

    def outside(self) -> list[str]:
        return [url for url in self.requests if not url.startswith(self.base + "/")]


def _api(keyed_app: FastAPI, url: str) -> Any:
    return TestClient(keyed_app).get(url, headers={"X-API-Key": KEY}).json()


def _hours(seconds: int) -> float:
    return round(seconds / 360) / 10


def test_every_page_loads_cleanly_from_this_server_only(browser: Browser, served: str) -> None:
    visit = Visit(browser, served)
    visit.open("overview")
    for page in PAGES[1:]:
        visit.page.click(f'nav a[data-page="{page}"]')
        visit.loaded(page)
    assert visit.problems == []
    assert visit.outside() == []
    assert any(url.endswith("/vendor/echarts.min.js") for url in visit.requests)


def test_charts_show_the_apis_figures(browser: Browser, served: str, keyed_app: FastAPI) -> None:
    visit = Visit(browser, served)
    visit.open("usage")
    apps = _api(keyed_app, "/api/v1/apps/top?limit=10")["apps"]
    assert visit.series("chart-usage-apps")["data"] == [_hours(a["total_duration"]) for a in apps]
    usage = _api(keyed_app, "/api/v1/usage")["rows"]
    shown = sum(sum(s["data"]) for s in visit.page.evaluate(
        "() => echarts.getInstanceByDom(document.getElementById('chart-usage-days'))"
        ".getOption().series"
    ))  # fmt: skip
    assert shown == pytest.approx(sum(_hours(r["total_duration"]) for r in usage), abs=1)

    visit.page.click('nav a[data-page="customers"]')
    visit.loaded("customers")
    segments = _api(keyed_app, "/api/v1/distributions/segment")["rows"]
    assert visit.series("chart-segments")["data"] == [r["customers"] for r in segments]
    cells = _api(keyed_app, "/api/v1/rf")["cells"]
    assert visit.series("chart-rf")["data"] == [
        [str(c["recency"]), str(c["frequency"]), c["customers"]] for c in cells
    ]

    visit.page.click('nav a[data-page="overview"]')
    visit.loaded("overview")
    total = sum(r["customers"] for r in segments)
    assert visit.page.inner_text("#kpi-customers") == f"{total:,}"
    assert visit.problems == []


def test_look_up_finds_a_customer(browser: Browser, served: str, keyed_app: FastAPI) -> None:
    segment = _api(keyed_app, "/api/v1/distributions/segment")["rows"][0]["value"]
    member = _api(keyed_app, f"/api/v1/segments/{segment}/customers?limit=1")["customers"][0]
    contract = member["contract"]
    visit = Visit(browser, served)
    visit.open("lookup")
    visit.page.fill("#contract", contract)
    visit.page.click("#lookup-form button")
    visit.page.wait_for_selector(f'body[data-profile="{contract}"]', state="attached")
    assert visit.page.inner_text("#profile-title").startswith(contract)
    facts = visit.page.inner_text("#profile-facts")
    assert str(member["active_days"]) in facts and str(_hours(member["total_duration"])) in facts
    visit.page.fill("#contract", "XX0000000")
    visit.page.click("#lookup-form button")
    visit.page.wait_for_selector("#error:not([hidden])")
    assert "no customer with contract 'XX0000000'" in visit.page.inner_text("#error")


def test_a_keyed_server_asks_for_the_key(browser: Browser, served: str) -> None:
    visit = Visit(browser, served)
    visit.page.goto(f"{served}/#usage")
    visit.page.wait_for_selector("#key-form:not([hidden])")
    visit.page.fill("#key", KEY)
    visit.page.click("#key-form button")
    visit.loaded("usage")
    assert visit.series("chart-usage-apps")["data"]
    # Only the refused first calls were console errors (the browser logs a 401).
    assert all("401" in problem for problem in visit.problems), visit.problems


def test_the_api_docs_are_served_from_this_server(browser: Browser, served: str) -> None:
    visit = Visit(browser, served)
    visit.page.goto(f"{served}/docs")
    visit.page.wait_for_selector(".swagger-ui .opblock", timeout=20_000)
    assert visit.outside() == [] and visit.problems == []


def _vote(n: int, song: str) -> dict[str, Any]:
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return {"id": f"v{n}", "user_id": "u1", "song": song, "vote": True, "timestamp": stamp}


def test_the_live_page_follows_the_stream_by_itself(
    browser: Browser, warehouse: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "c360.duckdb"
    shutil.copy(warehouse, copy)
    app, zone = C360(config=load_config(env={})), LandingZone(tmp_path / "landing")
    where = {"landing": zone.root, "warehouse": str(copy), "lake": tmp_path / "lake"}
    with app.serving(warehouse=str(copy)) as service, serving_in_thread(
        create_app(service, keys=ApiKeys(frozenset()))
    ) as base:  # fmt: skip
        visit = Visit(browser, base)
        visit.open("live", key=None)
        assert "No stream processed" in visit.page.inner_text("#live-status")

        zone.write("votes", 0, [_vote(1, "A"), _vote(2, "A"), _vote(3, "B"), _vote(1, "A")])
        app.stream_process(**where, once=True)
        visit.page.wait_for_selector('body[data-live-batch="1"]', state="attached")
        assert visit.series("chart-live")["data"] == [2, 1]
        assert visit.page.inner_text("#live-status").startswith("batch 1 committed")
        assert "3 counted, 1 repeats, 0 quarantined" in visit.page.inner_text("#live-status")

        # No reload: the page asks again on its own and shows the next batch.
        zone.write("votes", 4, [_vote(4, "B"), _vote(5, "B")])
        app.stream_process(**where, once=True)
        visit.page.wait_for_selector('body[data-live-batch="2"]', state="attached")
        assert visit.series("chart-live")["data"] == [3, 2]
        rows = visit.page.inner_text("#live-board tbody").splitlines()
        assert rows[0].split("\t") == ["1", "B", "3", "3", "3"]
        assert visit.problems == [] and visit.outside() == []
