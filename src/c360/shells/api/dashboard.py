"""The analyst dashboard at ``/`` and the API docs at ``/docs``, served by c360 itself.

The pages are ours (``web/index.html``, ``web/static/``); the chart library (Apache ECharts) and
Swagger UI come from the npm registry (``web/package.json``, installed by ``make install``) and
are served from ``/vendor/``: no page asks anything of another server.
"""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

WEB = Path(__file__).with_name("web")
#: The browser libraries served under /vendor/, by the name the pages ask for.
VENDOR = {
    "echarts.min.js": "echarts/dist/echarts.min.js",
    "swagger-ui-bundle.js": "swagger-ui-dist/swagger-ui-bundle.js",
    "swagger-ui.css": "swagger-ui-dist/swagger-ui.css",
}
#: The docs page initialises Swagger UI with an inline script of FastAPI's.
DOCS_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'"
)
log = logging.getLogger("c360.serve")


def vendor_folder() -> Path:
    return WEB / "node_modules"


def missing_vendor() -> list[str]:
    """The browser libraries that are not installed (``make install`` installs them)."""
    return [name for name, path in VENDOR.items() if not (vendor_folder() / path).is_file()]


def add_dashboard(app: FastAPI) -> None:
    """Serve the dashboard, its assets and the API docs from ``app``."""
    app.mount("/static", StaticFiles(directory=WEB / "static"), name="static")

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(WEB / "index.html", media_type="text/html")

    @app.get("/vendor/{name}", include_in_schema=False)
    def vendor(name: str) -> FileResponse:
        path = VENDOR.get(name)
        if path is None:
            raise HTTPException(404, f"no vendor file {name!r}")
        file = vendor_folder() / path
        if not file.is_file():
            raise HTTPException(
                404, f"{name} is not installed: run `make install` (npm ci in {WEB})"
            )
        return FileResponse(file)

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        page = get_swagger_ui_html(
            openapi_url="/openapi.json", title="c360 API",
            swagger_js_url="/vendor/swagger-ui-bundle.js",
            swagger_css_url="/vendor/swagger-ui.css", swagger_favicon_url="/static/favicon.svg",
        )  # fmt: skip
        page.headers["Content-Security-Policy"] = DOCS_POLICY
        return page

    if missing := missing_vendor():
        log.warning(
            "the dashboard's browser libraries are not installed (%s): run `make install`",
            ", ".join(missing),
        )
