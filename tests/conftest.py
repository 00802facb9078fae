"""Fixtures shared by every test: a real database per test run (SQLite file or PostgreSQL)."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
import redis
from sqlmodel import Session

from rivendell import db as database
from rivendell import presence
from rivendell.settings import get_settings
from tests.e2e.server import Server, free_port, start_server, stop_server

POSTGRES_ADMIN_URL = os.environ.get(
    "RIVENDELL_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_SERVER_URL = os.environ.get("RIVENDELL_TEST_REDIS", "redis://127.0.0.1:6379")
"""The shared Redis server; each test module that needs it takes a logical database of its own:
7 the fleet (tests/fleet), 13 the event bus and presence, 14 the collaboration relay, 15 the
rate limits."""


def _reset_caches() -> None:
    get_settings.cache_clear()
    database.get_engine.cache_clear()
    presence.get_presence.cache_clear()


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """A new, empty database on the real PostgreSQL server, dropped afterwards."""
    name = f"rivendell_test_{secrets.token_hex(6)}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def fresh_redis_database(number: int) -> Iterator[str]:
    """The URL of logical database ``number`` of the test Redis, emptied before and after."""
    url = f"{REDIS_SERVER_URL}/{number}"
    client = redis.Redis.from_url(url)
    client.flushdb()
    try:
        yield url
    finally:
        client.flushdb()
        client.close()


class OwnRedis:
    """A redis-server of a test's own on a free port, to stop and start again."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is not installed"
        self._binary = binary
        self._port = free_port()
        self.url = f"redis://127.0.0.1:{self._port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                *(self._binary, "--port", str(self._port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no"),
            ],
            stdout=subprocess.DEVNULL,
        )

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


@pytest.fixture
def own_redis() -> Iterator[OwnRedis]:
    """A redis-server of this test's own (started), to stop and start again."""
    own = OwnRedis()
    own.start()
    yield own
    own.stop()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for one test."""
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture(scope="module")
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database for one test module (a running server uses it)."""
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty database of each supported kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'rivendell.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def configured(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Point Rivendell's settings at ``database_url`` the way an operator does: REFLEX_DB_URL."""
    monkeypatch.setenv("REFLEX_DB_URL", database_url)
    _reset_caches()
    yield database_url
    database.get_engine().dispose()
    _reset_caches()


@pytest.fixture
def unreachable(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Settings naming a PostgreSQL server that is not there (nothing listens on the port)."""
    from tests.e2e.server import free_port

    url = f"postgresql://postgres@127.0.0.1:{free_port()}/rivendell"
    monkeypatch.setenv("REFLEX_DB_URL", url)
    _reset_caches()
    yield url
    database.get_engine().dispose()
    _reset_caches()


@pytest.fixture
def migrated(configured: str) -> str:
    """A database migrated to the newest revision."""
    database.migrate()
    return configured


@pytest.fixture
def db(migrated: str) -> Iterator[Session]:
    """A session on a migrated database."""
    with database.session() as session:
        yield session


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Rivendell's production build on SQLite, embedded defaults, as ``make run`` starts it."""
    tmp = tmp_path_factory.mktemp("server")
    running = start_server(
        tmp, {"REFLEX_DB_URL": f"sqlite:///{tmp / 'rivendell.db'}"}, own_build=False
    )
    try:
        yield running
    finally:
        stop_server(running.process)


@pytest.fixture
def server_db(server: Server, monkeypatch: pytest.MonkeyPatch) -> Iterator[Session]:
    """A session on the running server's own database (to set up what a test needs)."""
    monkeypatch.setenv("REFLEX_DB_URL", server.database_url)
    _reset_caches()
    with database.session() as session:
        yield session
    database.get_engine().dispose()
    _reset_caches()
