"""The HTTP API: ``/api/v1`` over the façade's serving use cases, ``/healthz`` and ``/readyz``.

Every answer is a pydantic model and names the publish it came from; every error is JSON
(``{"status": …, "error": "one line"}``), with its status documented in the OpenAPI document.
"""

# No ``from __future__ import annotations``: FastAPI reads the endpoints' annotations, and some
# name patterns from the config, which only exist inside create_app.
import dataclasses
import logging
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, FastAPI, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from c360 import __version__
from c360.errors import C360Error, InputError, NotFoundError, TransientError
from c360.shells.api import models
from c360.shells.api.dashboard import add_dashboard
from c360.shells.api.lookups import ProfileLookups, customer_body
from c360.shells.api.security import HEADER, ApiKeys, SecurityHeaders

if TYPE_CHECKING:
    from c360.serving.service import Answer, Service

log = logging.getLogger("c360.serve")
JSON = "application/json"
#: The largest page any endpoint gives.
MAX_LIMIT = 1000
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="At most this many rows.")]


class Unauthorized(Exception):
    """No valid API key (401)."""


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    body = models.Error(status=status, error=message).model_dump()
    return JSONResponse(body, status_code=status, headers=headers)


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors()[:3]:
        where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("path", "query"))
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return "invalid request: " + "; ".join(parts)


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": models.Error, "description": "No valid API key in X-API-Key."},
    422: {"model": models.Error, "description": "A malformed parameter."},
    503: {"model": models.Error, "description": "No publish loaded yet (see /readyz)."},
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    404: {"model": models.Error, "description": "Not in the served publish."},
}


def _served(answer: "Answer") -> models.Served:
    return models.Served(run_id=answer.run_id, publish_id=answer.publish_id)


def create_app(
    service: "Service", *, keys: ApiKeys, cors_origins: tuple[str, ...] = (), lifespan: Any = None
) -> FastAPI:
    """The FastAPI application over ``service``, started and stopped by the caller or by
    ``lifespan`` (an async context manager factory, as FastAPI takes it)."""
    app = FastAPI(
        lifespan=lifespan,
        title="c360",
        version=__version__,
        description="Customer 360 profiles, segments, usage, search trends and run records.",
        docs_url=None,  # served by the dashboard module, from local assets
        redoc_url=None,
    )
    add_dashboard(app)
    # Middleware added last runs first: headers, then CORS, then the look-up fast path.
    app.add_middleware(ProfileLookups, service=service, keys=keys)
    if cors_origins:
        app.add_middleware(
            CORSMiddleware, allow_origins=list(cors_origins), allow_methods=["GET"],
            allow_headers=[HEADER],
        )  # fmt: skip

    app.add_middleware(SecurityHeaders)

    @app.exception_handler(Unauthorized)
    async def unauthorized(request: Request, exc: Unauthorized) -> JSONResponse:
        return _error(401, str(exc), {"WWW-Authenticate": HEADER})

    @app.exception_handler(NotFoundError)
    async def not_found(request: Request, exc: NotFoundError) -> JSONResponse:
        return _error(404, str(exc))

    @app.exception_handler(InputError)
    async def bad_input(request: Request, exc: InputError) -> JSONResponse:
        return _error(422, str(exc))

    @app.exception_handler(TransientError)
    async def unavailable(request: Request, exc: TransientError) -> JSONResponse:
        return _error(503, str(exc), {"Retry-After": "5"})

    @app.exception_handler(C360Error)
    async def failed(request: Request, exc: C360Error) -> JSONResponse:
        return _error(500, str(exc).splitlines()[0] if str(exc) else type(exc).__name__)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return _error(422, _validation_message(exc))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return _error(exc.status_code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s", request.url.path)
        return _error(500, "internal error (logged by the server)")

    async def require_key(request: Request) -> None:  # async: no thread hop for a hash
        if keys.required and not keys.accepts(request.headers.get(HEADER)):
            raise Unauthorized(f"a valid API key is required in the {HEADER} header")

    api = [Depends(require_key)]
    contract_pattern = service.config.content.contract_pattern
    user_pattern = service.config.search.user_pattern

    # -- health -------------------------------------------------------------------------------

    @app.get("/healthz", response_model=models.Health, tags=["health"])
    def healthz() -> models.Health:
        """Liveness: the server answers."""
        return models.Health(status="ok")

    @app.get(
        "/readyz", response_model=models.Ready, tags=["health"],
        responses={503: {"model": models.Ready, "description": "No publish loaded."}},
    )  # fmt: skip
    def readyz(response: Response) -> models.Ready:
        """Readiness: a publish is loaded; which run it holds and the last refresh error."""
        status = service.status()
        if not status.ready:
            response.status_code = 503
        return models.Ready(**dataclasses.asdict(status))

    # -- customers ----------------------------------------------------------------------------

    @app.get(
        "/api/v1/customers/{contract}", response_model=models.CustomerAnswer,
        responses=NOT_FOUND, dependencies=api, tags=["customers"],
    )  # fmt: skip
    async def customer(
        contract: Annotated[str, Path(pattern=contract_pattern, description="Contract id.")],
    ) -> Response:
        """A customer's profile by contract: content, scores, segment and search taste."""
        # The profile arrives as JSON text (as the online store keeps it): wrapped, not parsed.
        # Called on the event loop: a look-up is one index probe or one Redis round trip, less
        # than the hop to a worker thread would cost.
        return Response(customer_body(service.customer_json(contract)), media_type=JSON)

    @app.get(
        "/api/v1/users/{user_id}", response_model=models.UserAnswer,
        responses=NOT_FOUND, dependencies=api, tags=["customers"],
    )  # fmt: skip
    def user(
        user_id: Annotated[str, Path(pattern=user_pattern, description="Search user id.")],
    ) -> models.UserAnswer:
        """A search user's taste and the customers (contracts) the bridge maps to them."""
        answer = service.user(user_id)
        return models.UserAnswer(served=_served(answer), **answer.data)

    @app.get(
        "/api/v1/distributions/{name}", response_model=models.DistributionAnswer,
        responses=ERRORS, dependencies=api, tags=["customers"],
    )  # fmt: skip
    def distribution(
        name: Annotated[str, Path(pattern="^(segment|activeness|level)$")],
    ) -> models.DistributionAnswer:
        """Customers and hours per segment, activeness (5 levels) or level (3 levels)."""
        answer = service.distribution(name)
        return models.DistributionAnswer(served=_served(answer), name=name, rows=answer.data)

    @app.get(
        "/api/v1/rf", response_model=models.RfAnswer, responses=ERRORS,
        dependencies=api, tags=["customers"],
    )  # fmt: skip
    def rf_grid() -> models.RfAnswer:
        """Customers per recency score × frequency score (the R×F heat map)."""
        answer = service.rf_grid()
        return models.RfAnswer(served=_served(answer), cells=answer.data)

    @app.get(
        "/api/v1/segments/{segment}/customers", response_model=models.SegmentAnswer,
        responses=NOT_FOUND, dependencies=api, tags=["customers"],
    )  # fmt: skip
    def segment(
        segment: Annotated[str, Path(max_length=64)],
        limit: Limit = 100,
        cursor: Annotated[str | None, Query(max_length=200)] = None,
    ) -> models.SegmentAnswer:
        """Customers of a segment, in contract order, a page at a time (cursor pagination)."""
        answer = service.segment_members(segment, limit=limit, cursor=cursor)
        return models.SegmentAnswer(served=_served(answer), **answer.data)

    # -- usage ----------------------------------------------------------------------------------

    @app.get(
        "/api/v1/apps/top", response_model=models.TopAppsAnswer, responses=ERRORS,
        dependencies=api, tags=["usage"],
    )  # fmt: skip
    def top_apps(limit: Limit = 20) -> models.TopAppsAnswer:
        """Apps by seconds watched in the window."""
        answer = service.top_apps(limit=limit)
        return models.TopAppsAnswer(served=_served(answer), apps=answer.data)

    @app.get(
        "/api/v1/usage", response_model=models.UsageAnswer, responses=ERRORS,
        dependencies=api, tags=["usage"],
    )  # fmt: skip
    def usage(
        start: Annotated[date | None, Query(alias="from")] = None,
        end: Annotated[date | None, Query(alias="to")] = None,
    ) -> models.UsageAnswer:
        """Seconds, records and active contracts per day and category."""
        answer = service.usage(start=start, end=end)
        return models.UsageAnswer(served=_served(answer), rows=answer.data)

    # -- search ---------------------------------------------------------------------------------

    @app.get(
        "/api/v1/search/trends", response_model=models.TrendsAnswer, responses=NOT_FOUND,
        dependencies=api, tags=["search"],
    )  # fmt: skip
    def trends(
        month: Annotated[str | None, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")] = None,
        limit: Limit = 20,
    ) -> models.TrendsAnswer:
        """A month's top keywords and genre shares, and the taste-change flows."""
        answer = service.search_trends(month=month, limit=limit)
        return models.TrendsAnswer(served=_served(answer), **answer.data)

    @app.get(
        "/api/v1/keywords/{keyword}", response_model=models.KeywordAnswer,
        responses=NOT_FOUND, dependencies=api, tags=["search"],
    )  # fmt: skip
    def keyword(keyword: Annotated[str, Path(max_length=200)]) -> models.KeywordAnswer:
        """A keyword's genre and who decided it (mapping, LLM, model or rule)."""
        answer = service.keyword(keyword)
        return models.KeywordAnswer(served=_served(answer), keyword=answer.data)

    # -- runs and quality -------------------------------------------------------------------------

    @app.get(
        "/api/v1/runs", response_model=models.RunsAnswer, responses=ERRORS,
        dependencies=api, tags=["runs"],
    )  # fmt: skip
    def runs(limit: Limit = 20) -> models.RunsAnswer:
        """Past runs, newest first."""
        answer = service.runs(limit=limit)
        return models.RunsAnswer(served=_served(answer), runs=answer.data)

    @app.get(
        "/api/v1/runs/{run_id}/checks", response_model=models.ChecksAnswer,
        responses=NOT_FOUND, dependencies=api, tags=["runs"],
    )  # fmt: skip
    def checks(
        run_id: Annotated[str, Path(max_length=64, description="A run id, or `latest`.")],
    ) -> models.ChecksAnswer:
        """A run's data quality checks, failures first."""
        answer = service.checks(None if run_id == "latest" else run_id)
        return models.ChecksAnswer(served=_served(answer), **answer.data)

    @app.get(
        "/api/v1/quarantine", response_model=models.QuarantineAnswer, responses=ERRORS,
        dependencies=api, tags=["runs"],
    )  # fmt: skip
    def quarantine() -> models.QuarantineAnswer:
        """Quarantined rows of the latest window, per source and reason."""
        answer = service.quarantine()
        return models.QuarantineAnswer(served=_served(answer), counts=answer.data)

    # -- live ---------------------------------------------------------------------------------

    @app.get(
        "/api/v1/live", response_model=models.LiveAnswer, responses=ERRORS,
        dependencies=api, tags=["live"],
    )  # fmt: skip
    def live_now(
        limit: Annotated[int, Query(ge=1, le=100, description="Songs at most.")] = 10,
        minutes: Annotated[
            int, Query(ge=1, le=1440, description="Minutes of live usage, up to the clock.")
        ] = 30,
    ) -> models.LiveAnswer:
        """The streaming leaderboard, live usage per category and minute, and how fresh they
        are (`c360 stream process` publishes them; read as published, not from a run)."""
        return models.LiveAnswer(**service.live(limit=limit, minutes=minutes))

    return app
