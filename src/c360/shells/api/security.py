"""Who may ask: API keys (``X-API-Key``), compared in constant time against stored hashes, and
the headers every answer carries.

Keys come from ``C360_API_KEYS`` (comma-separated keys) or a file of SHA-256 hashes (one hex
digest per line, ``#`` comments), so the server never needs a key in clear on disk. A key never
appears in a log line or an error.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
from pathlib import Path
from typing import Any

from c360.errors import ConfigError

#: The environment variable with the accepted keys.
KEYS_VARIABLE = "C360_API_KEYS"
HEADER = "X-API-Key"
#: Headers on every answer: no sniffing, no framing, no referrer, only our own resources.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        "script-src 'self'; connect-src 'self'; frame-ancestors 'none'"
    ),
}


class SecurityHeaders:
    """ASGI middleware adding :data:`SECURITY_HEADERS` (and ``no-store``) to every answer that
    does not set its own (a plain ASGI wrapper: no per-request task, unlike ``@app.middleware``).
    """

    def __init__(self, app: Any) -> None:
        self.app = app
        self.headers = [
            (name.lower().encode(), value.encode())
            for name, value in {**SECURITY_HEADERS, "Cache-Control": "no-store"}.items()
        ]

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(n, v) for n, v in self.headers if n not in present]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, with_headers)


def key_hash(key: str) -> str:
    """The stored form of a key: its SHA-256, hex.

    >>> key_hash("secret")[:16]
    '2bb80d537b1da3e3'
    """
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class ApiKeys:
    """The accepted keys, as hashes."""

    def __init__(self, hashes: frozenset[str]) -> None:
        self.hashes = hashes

    @classmethod
    def load(cls, file: Path | None = None, env: dict[str, str] | None = None) -> ApiKeys:
        """Keys from ``file`` (hashes) and from ``C360_API_KEYS`` (keys); none: no keys."""
        env = dict(os.environ) if env is None else env
        hashes = {key_hash(k.strip()) for k in env.get(KEYS_VARIABLE, "").split(",") if k.strip()}
        if file is not None:
            try:
                lines = file.read_text(encoding="utf-8").splitlines()
            except OSError as exc:
                raise ConfigError(f"cannot read the API key file {file}: {exc.strerror}") from exc
            for number, line in enumerate(lines, 1):
                text = line.split("#", 1)[0].strip().lower()
                if not text:
                    continue
                if len(text) != 64 or any(c not in "0123456789abcdef" for c in text):
                    raise ConfigError(
                        f"{file}:{number}: not a SHA-256 hex digest (make one with "
                        "`c360 api-key-hash`)"
                    )
                hashes.add(text)
        return cls(frozenset(hashes))

    @property
    def required(self) -> bool:
        return bool(self.hashes)

    def accepts(self, key: str | None) -> bool:
        """Whether ``key`` is one of the keys, compared in constant time with each of them."""
        if not key:
            return False
        given = key_hash(key)
        found = False
        for stored in self.hashes:
            found |= hmac.compare_digest(given, stored)
        return found


def is_loopback(host: str) -> bool:
    """Whether ``host`` is only reachable from this machine.

    >>> [is_loopback(h) for h in ("127.0.0.1", "::1", "localhost", "0.0.0.0", "10.0.0.5")]
    [True, True, True, False, False]
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
