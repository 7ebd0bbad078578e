"""``c360 serve`` (the API and the dashboard), ``c360 publish-online`` and ``c360 api-key-hash``."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import typer

from c360.console import RichReporter, console
from c360.shells.cli.common import ConfigOpt, VerboseOpt, guard, open_facade


def serve(
    warehouse: Annotated[
        str | None,
        typer.Option(help="Warehouse to serve: a .duckdb path or a mysql:// / postgresql:// URL."),
    ] = None,
    host: Annotated[
        str, typer.Option(help="Address to listen on; other than loopback needs API keys.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.", min=1, max=65535)] = 8360,
    api_keys_file: Annotated[
        Path | None,
        typer.Option(
            "--api-keys-file",
            help="File of SHA-256 key hashes (c360 api-key-hash), one a line.",
            dir_okay=False,
        ),
    ] = None,
    cors_origin: Annotated[
        list[str] | None,
        typer.Option(help="Allow this browser origin (repeatable); none: no CORS."),
    ] = None,
    poll: Annotated[
        float, typer.Option(help="Seconds between checks for a new publish.", min=0.1)
    ] = 1.0,
    access_log: Annotated[bool, typer.Option(help="Log every request (never the key).")] = False,
    online: Annotated[
        str | None,
        typer.Option(help="Answer profile look-ups from this Redis (c360 publish-online)."),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            help="Worker processes, each with its own copy of the publish (more look-ups/s, "
            "more memory).",
            min=1,
            max=64,
        ),
    ] = 1,
    config: ConfigOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Serve the API at http://HOST:PORT/api/v1 (OpenAPI at /docs) over the warehouse.

    Each answer comes from one publish: a run that publishes while the server runs is seen
    whole once it commits, without a restart. With C360_API_KEYS (or --api-keys-file) every
    /api call needs the X-API-Key header.
    """
    from c360.shells.api.server import ServeOptions
    from c360.shells.api.server import serve as run_server

    options = ServeOptions(
        warehouse=warehouse, host=host, port=port, keys_file=api_keys_file,
        cors_origins=tuple(cors_origin or ()), poll_s=poll, access_log=access_log,
        online=online, workers=workers, config_file=config,
    )  # fmt: skip
    with RichReporter(verbose=verbose) as reporter, guard(verbose):
        app = open_facade(config, {}, reporter)
        console.print(f"c360 serving http://{host}:{port}/  (API docs at /docs; Ctrl-C stops)")
        run_server(app, options)


def publish_online(
    online: Annotated[str, typer.Option(help="The Redis to write to: redis://host:6379/0.")],
    warehouse: Annotated[
        str | None, typer.Option(help="Warehouse whose latest publish to copy.")
    ] = None,
    config: ConfigOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Copy every customer profile of the warehouse's latest publish into Redis, under the
    publish's own prefix, and switch `c360 serve --online` to it at once."""
    with RichReporter(verbose=verbose) as reporter, guard(verbose):
        done = open_facade(config, {}, reporter).publish_online(online=online, warehouse=warehouse)
    console.print(
        f"{done.customers:,} profiles and {done.users:,} users of run {done.run_id} in the "
        f"online store (publish {done.publish_id})",
        highlight=False,
    )


def api_key_hash(
    key: Annotated[
        str | None, typer.Argument(help="The key (default: asked without echo).")
    ] = None,
) -> None:
    """Print the SHA-256 hash of an API key, for --api-keys-file."""
    from c360.shells.api.security import key_hash

    console.print(key_hash(key if key is not None else getpass.getpass("API key: ")))
