"""Running the API on uvicorn: keys loaded, the loopback rule applied, the snapshot watched."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from c360.errors import ConfigError
from c360.shells.api.security import KEYS_VARIABLE, ApiKeys, is_loopback

if TYPE_CHECKING:
    from c360.app import C360


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


def serve(facade: C360, options: ServeOptions, *, warn: bool = True) -> None:
    """Serve until interrupted."""
    import uvicorn

    from c360.shells.api.routes import create_app

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
    serving = facade.serving(
        warehouse=options.warehouse, poll_s=options.poll_s, online=options.online
    )
    with serving as service:
        status = service.status()
        if not status.ready:
            facade.reporter.warn(f"not ready yet: {status.error} (see /readyz)")
        app = create_app(service, keys=keys, cors_origins=options.cors_origins)
        logging.getLogger("c360.serve").setLevel(logging.INFO)
        config = uvicorn.Config(
            app, host=options.host, port=options.port, access_log=options.access_log,
            log_level="info" if options.access_log else "warning", server_header=False,
        )  # fmt: skip
        uvicorn.Server(config).run()
