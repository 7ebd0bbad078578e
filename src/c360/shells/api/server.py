"""Running the API on uvicorn: keys loaded, the loopback rule applied, the snapshot watched.

One worker serves from this process. ``--workers N`` hands the listening socket to uvicorn's
supervisor, which starts N worker processes (restarting one that dies); each builds its own
façade, snapshot and connections through :func:`worker_app`, from the options the parent
leaves in the environment.
"""

from __future__ import annotations

import json
import logging
import os
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from c360.errors import ConfigError
from c360.shells.api.security import KEYS_VARIABLE, ApiKeys, is_loopback

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from fastapi import FastAPI

    from c360.app import C360
    from c360.serving.service import Service

#: Where a worker process finds how ``c360 serve`` was asked to run (set by the parent).
WORKER_VARIABLE = "C360_SERVE_WORKER"


@dataclass(frozen=True)
class ServeOptions:
    """How ``c360 serve`` was asked to run."""

    warehouse: str | None = None
    host: str = "127.0.0.1"
    port: int = 8360
    keys_file: Path | None = None
    cors_origins: tuple[str, ...] = ()
    poll_s: float = 1.0
    access_log: bool = False
    online: str | None = None
    workers: int = 1
    #: The c360.toml the façade was opened with (workers open their own from it).
    config_file: Path | None = None


def serve(facade: C360, options: ServeOptions, *, warn: bool = True) -> None:
    """Serve until interrupted."""
    import uvicorn

    keys = ApiKeys.load(options.keys_file)
    if not keys.required:
        if not is_loopback(options.host):
            raise ConfigError(
                f"serving on {options.host} needs API keys: set {KEYS_VARIABLE} or "
                "--api-keys-file (without keys only a loopback address is allowed)"
            )
        if warn:
            facade.reporter.warn(
                f"no API keys ({KEYS_VARIABLE}): anyone on this machine can read the API"
            )
    logging.getLogger("c360.serve").setLevel(logging.INFO)
    common: dict[str, Any] = {
        "host": options.host, "port": options.port, "access_log": options.access_log,
        "log_level": "info" if options.access_log else "warning", "server_header": False,
    }  # fmt: skip
    if options.workers > 1:
        os.environ[WORKER_VARIABLE] = json.dumps(_to_json(options))
        uvicorn.run(f"{__name__}:worker_app", factory=True, workers=options.workers, **common)
        return
    service = _service(facade, options)
    with service:
        _warn_if_not_ready(facade, service)
        app = _application(service, options, keys)
        uvicorn.Server(uvicorn.Config(app, **common)).run()


def worker_app() -> FastAPI:
    """The application of one worker process (uvicorn's factory under ``--workers N``)."""
    from c360.app import C360
    from c360.console import RichReporter

    options = _from_json(json.loads(os.environ[WORKER_VARIABLE]))
    facade = C360(config_file=options.config_file, reporter=RichReporter(verbose=False))
    service = _service(facade, options)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        with service:
            _warn_if_not_ready(facade, service)
            yield

    return _application(service, options, ApiKeys.load(options.keys_file), lifespan=lifespan)


def _service(facade: C360, options: ServeOptions) -> Service:
    return facade.serving(warehouse=options.warehouse, poll_s=options.poll_s, online=options.online)


def _application(
    service: Service, options: ServeOptions, keys: ApiKeys, *, lifespan: Any = None
) -> FastAPI:
    from c360.shells.api.routes import create_app

    return create_app(service, keys=keys, cors_origins=options.cors_origins, lifespan=lifespan)


def _warn_if_not_ready(facade: C360, service: Service) -> None:
    status = service.status()
    if not status.ready:
        facade.reporter.warn(f"not ready yet: {status.error} (see /readyz)")


def _to_json(options: ServeOptions) -> dict[str, Any]:
    data = asdict(options)
    for name in ("keys_file", "config_file"):
        data[name] = str(data[name]) if data[name] else None
    data["cors_origins"] = list(options.cors_origins)
    return data


def _from_json(data: dict[str, Any]) -> ServeOptions:
    return ServeOptions(
        **{
            **data,
            "keys_file": Path(data["keys_file"]) if data["keys_file"] else None,
            "config_file": Path(data["config_file"]) if data["config_file"] else None,
            "cors_origins": tuple(data["cors_origins"]),
        }
    )
