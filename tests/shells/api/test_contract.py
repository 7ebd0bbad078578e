"""The API against its own OpenAPI document (schemathesis): every operation, generated
parameters, with and without a key — no server error, and every status, header and body is one
the document declares."""

from __future__ import annotations

from typing import Any

import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from shells.api.conftest import KEY


def _check_every_operation(app: FastAPI, examples: int, **call: Any) -> list[str]:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    checked = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck))
        def check(case: Any) -> None:
            # ``from`` after ``to`` is refused (422) though each date is valid on its own: a
            # rule between two parameters that OpenAPI cannot state.
            skip = [positive_data_acceptance] if case.path == "/api/v1/usage" else []
            response = case.call_and_validate(**call, excluded_checks=skip)
            if "headers" not in call and case.path.startswith("/api/"):
                assert response.status_code == 401

        check()
        checked.append(f"{operation.method.upper()} {operation.path}")
    return checked


def test_with_a_key_every_answer_is_documented(keyed_app: FastAPI) -> None:
    checked = _check_every_operation(keyed_app, 25, headers={"X-API-Key": KEY})
    assert len(checked) == 15 and "GET /api/v1/live" in checked


def test_without_a_key_every_answer_is_documented(keyed_app: FastAPI) -> None:
    assert len(_check_every_operation(keyed_app, 5)) == 15
