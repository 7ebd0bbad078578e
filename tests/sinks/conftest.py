"""Fresh databases on the real MariaDB and PostgreSQL servers of the machine, one per test."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pymysql
import pytest

MYSQL = {"host": "127.0.0.1", "port": 3306, "user": "root", "password": ""}
POSTGRES = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "dbname": "postgres"}


@dataclass(frozen=True)
class Server:
    """A throw-away database on one server, and how to reach it as an administrator."""

    kind: str  # "mysql" or "postgresql"
    database: str

    @property
    def url(self) -> str:
        if self.kind == "mysql":
            return f"mysql://root@127.0.0.1:3306/{self.database}"
        return f"postgresql://postgres@127.0.0.1:5432/{self.database}"

    def admin(self) -> object:
        """A connection to the database with autocommit (for checks and fault injection)."""
        if self.kind == "mysql":
            return pymysql.connect(**MYSQL, database=self.database, autocommit=True)
        return psycopg.connect(**{**POSTGRES, "dbname": self.database}, autocommit=True)

    def rows(self, sql: str) -> list[tuple[object, ...]]:
        con = self.admin()
        try:
            cur = con.cursor()  # type: ignore[attr-defined]
            cur.execute(sql)
            return list(cur.fetchall())
        finally:
            con.close()  # type: ignore[attr-defined]


def _server_admin(kind: str, sql: str) -> None:
    """Run one statement as the server's administrator (outside any database)."""
    if kind == "mysql":
        con: Any = pymysql.connect(**MYSQL, autocommit=True)
    else:
        con = psycopg.connect(**POSTGRES, autocommit=True)
    try:
        con.cursor().execute(sql)
    finally:
        con.close()


def _create(kind: str) -> str:
    name = f"c360_t_{os.getpid()}_{secrets.token_hex(3)}"
    charset = " CHARACTER SET utf8mb4" if kind == "mysql" else ""
    _server_admin(kind, f"CREATE DATABASE {name}{charset}")
    return name


def _drop(kind: str, name: str) -> None:
    force = "" if kind == "mysql" else " WITH (FORCE)"
    _server_admin(kind, f"DROP DATABASE IF EXISTS {name}{force}")


@pytest.fixture(
    params=[
        pytest.param("mysql", marks=pytest.mark.mysql),
        pytest.param("postgresql", marks=pytest.mark.postgres),
    ]
)
def server(request: pytest.FixtureRequest) -> Iterator[Server]:
    kind = str(request.param)
    name = _create(kind)
    try:
        yield Server(kind, name)
    finally:
        _drop(kind, name)
