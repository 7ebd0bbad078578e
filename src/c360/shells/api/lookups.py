"""The hot path: ``GET /api/v1/customers/{contract}`` answered before FastAPI's routing.

A profile look-up is the call other systems make at volume. This ASGI layer answers the plain
case — a valid key, a well-formed contract, a customer found — with the same bytes the FastAPI
route gives, without routing, dependency solving and validation per request. Anything else
(no key, a malformed id, a customer not found, any error) goes on to the FastAPI application,
which answers it the documented way; so the layer changes how fast, never what.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from c360.shells.api.security import HEADER, ApiKeys

if TYPE_CHECKING:
    from c360.serving.service import Answer, Service

PREFIX = "/api/v1/customers/"


def customer_body(answer: Answer) -> bytes:
    """The body of a look-up's answer: the publish it came from and the profile's JSON."""
    profile: str = answer.data
    return _served_prefix(answer.run_id, answer.publish_id) + profile.encode() + b"}"


@functools.lru_cache(maxsize=16)
def _served_prefix(run_id: str | None, publish_id: str | None) -> bytes:
    """``{"served":{…},"customer":`` for one publish (the same for every look-up of it)."""
    from c360.shells.api.models import Served

    served = Served(run_id=run_id, publish_id=publish_id).model_dump_json()
    return f'{{"served":{served},"customer":'.encode()


class ProfileLookups:
    """ASGI middleware: plain profile look-ups straight from the service."""

    def __init__(self, app: Any, *, service: Service, keys: ApiKeys) -> None:
        self.app = app
        self.service = service
        self.keys = keys
        self.header = HEADER.lower().encode()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        body = self._answer(scope) if scope["type"] == "http" else None
        if body is None:
            await self.app(scope, receive, send)
            return
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    def _answer(self, scope: Any) -> bytes | None:
        path: str = scope["path"]
        if scope["method"] != "GET" or not path.startswith(PREFIX) or scope["query_string"]:
            return None
        contract = path[len(PREFIX) :]
        if self.keys.required:
            given = next((v for k, v in scope["headers"] if k == self.header), None)
            if given is None or not self.keys.accepts(given.decode("latin-1")):
                return None
        try:
            return customer_body(self.service.customer_json(contract))
        except Exception:  # malformed, not found, …: the route answers it, the documented way
            return None
