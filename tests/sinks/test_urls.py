"""Warehouse and online-store URLs: a malformed one is a configuration error naming it (its
password hidden) and the form to write, never a parser's traceback."""

from __future__ import annotations

import pytest

from c360.errors import ConfigError
from c360.serving.online import OnlineStore
from c360.sinks import create_sink, redact

FORM = "write it as {scheme}://user@host:port/database"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("postgresql://u@[::1:5432/db", "an IPv6 host needs its closing bracket, e.g. [::1]:5432"),
        ("mysql://u@[::1/db", "an IPv6 host needs its closing bracket, e.g. [::1]:5432"),
        ("postgresql://u@host:99999/db", "the port is not a number from 1 to 65535"),
        ("mariadb://u@host:port/db", "the port is not a number from 1 to 65535"),
        ("mysql://u@host:0/db", "the port is not a number from 1 to 65535"),
    ],
)
def test_a_malformed_warehouse_url_is_one_line_naming_it(url: str, reason: str) -> None:
    with pytest.raises(ConfigError) as caught:
        create_sink(url)
    scheme = url.partition("://")[0]
    assert str(caught.value) == (
        f"warehouse {url!r} is not a valid URL ({reason}); {FORM.format(scheme=scheme)}"
    )


def test_the_password_of_a_malformed_url_never_shows() -> None:
    with pytest.raises(ConfigError) as caught:
        create_sink("mysql://me:s3cret@[::1:3306/c360")
    assert "s3cret" not in str(caught.value)
    assert "'mysql://me:***@[::1:3306/c360'" in str(caught.value)
    assert redact("postgresql://me:s3cret@[::1/c360") == "postgresql://me:***@[::1/c360"


def test_an_ipv6_warehouse_host_in_brackets_is_described_in_brackets() -> None:
    assert create_sink("postgresql://u@[::1]:5433/db").describe() == "postgresql://u@[::1]:5433/db"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "redis://[::1:6379/0",
            "online store 'redis://[::1:6379/0' is not a valid URL (an IPv6 host needs its "
            "closing bracket, e.g. [::1]:5432); write it as redis://user@host:port/database",
        ),
        (
            "redis://localhost:99999/0",
            "online store 'redis://localhost:99999/0' is not a valid URL (the port is not a "
            "number from 1 to 65535)",
        ),
        (
            "redis://localhost:6379?db=zero",
            "online store 'redis://localhost:6379?db=zero': Invalid value for 'db' in connection "
            "URL.",
        ),
    ],
)
def test_a_malformed_online_store_url_is_one_line_naming_it(url: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        OnlineStore(url)
    assert str(caught.value).startswith(expected), str(caught.value)
