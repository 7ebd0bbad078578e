"""Who may ask (``c360.shells.api.security``): keys, their hashes, headers, CORS and the loopback
rule."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from c360.errors import ConfigError
from c360.shells.api.routes import create_app
from c360.shells.api.security import ApiKeys, key_hash
from shells.api.conftest import KEY

CUSTOMERS = "/api/v1/distributions/segment"


def test_every_api_call_needs_a_valid_key(keyed: TestClient) -> None:
    for headers in ({}, {"X-API-Key": ""}, {"X-API-Key": KEY + "x"}, {"X-API-Key": KEY[:-1]}):
        response = keyed.get(CUSTOMERS, headers=headers)
        assert response.status_code == 401, headers
        assert response.json()["error"] == "a valid API key is required in the X-API-Key header"
        assert response.headers["WWW-Authenticate"] == "X-API-Key"
        assert KEY not in response.text
    assert keyed.get(CUSTOMERS, headers={"X-API-Key": KEY}).status_code == 200
    # A key is read from the header only, never from the URL (where it would be logged).
    assert keyed.get(f"{CUSTOMERS}?api_key={KEY}").status_code == 401


def test_probes_need_no_key(keyed: TestClient) -> None:
    assert keyed.get("/healthz").status_code == 200
    assert keyed.get("/readyz").status_code == 200


def test_answers_carry_security_headers_and_no_cors_by_default(client: TestClient) -> None:
    response = client.get(CUSTOMERS, headers={"Origin": "http://evil.example"})
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-store"
    assert "access-control-allow-origin" not in response.headers
    assert "server" not in response.headers


def test_cors_only_for_the_configured_origin(service: Any) -> None:
    app = create_app(service, keys=ApiKeys(frozenset()), cors_origins=("http://bi.example",))
    client = TestClient(app)
    allowed = client.get(CUSTOMERS, headers={"Origin": "http://bi.example"})
    assert allowed.headers["access-control-allow-origin"] == "http://bi.example"
    other = client.get(CUSTOMERS, headers={"Origin": "http://evil.example"})
    assert "access-control-allow-origin" not in other.headers


def test_keys_come_from_the_environment_and_from_a_file_of_hashes(tmp_path: Path) -> None:
    file = tmp_path / "keys"
    file.write_text(f"# analysts\n{key_hash('from-file')}\n\n", encoding="utf-8")
    keys = ApiKeys.load(file, env={"C360_API_KEYS": "one, two ,"})
    assert keys.required
    assert [keys.accepts(k) for k in ("one", "two", "from-file", "three", "", None)] == [
        True, True, True, False, False, False,
    ]  # fmt: skip
    assert not ApiKeys.load(None, env={}).required


def test_a_bad_key_file_names_the_line_not_the_content(tmp_path: Path) -> None:
    file = tmp_path / "keys"
    file.write_text(f"{key_hash('a')}\nmy-clear-text-key\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"keys:2: not a SHA-256 hex digest") as caught:
        ApiKeys.load(file, env={})
    assert "my-clear-text-key" not in str(caught.value)
    with pytest.raises(ConfigError, match="cannot read the API key file"):
        ApiKeys.load(tmp_path / "missing", env={})
