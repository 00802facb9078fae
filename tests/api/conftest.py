"""Servers for the API tests: the production build on SQLite and on PostgreSQL, and an
"operations" server whose Docker engine is unreachable and whose cleanup runs every second."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session

from rivendell import db as database
from tests.conftest import _reset_caches, fresh_postgres_database
from tests.e2e.server import Server, start_server, stop_server

ADMIN_TOKEN = "test-admin-token-0123456789"


def _start(tmp: Path, env: dict[str, str]) -> Server:
    return start_server(tmp, {"RIVENDELL_ADMIN_TOKEN": ADMIN_TOKEN, **env}, own_build=True)


@pytest.fixture(scope="session")
def api_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The app on SQLite with the real executor; limits high enough not to get in the way."""
    tmp = tmp_path_factory.mktemp("api-sqlite")
    running = _start(
        tmp,
        {
            "REFLEX_DB_URL": f"sqlite:///{tmp / 'rivendell.db'}",
            "RIVENDELL_RATE_CREATE_PER_MINUTE": "100000",
            "RIVENDELL_RATE_RUNS_PER_CLIENT_PER_MINUTE": "100000",
            "RIVENDELL_RATE_RUNS_PER_ROOM_PER_MINUTE": "100000",
            "RIVENDELL_EXECUTOR_POOL_SIZE": "1",
        },
    )
    try:
        yield running
    finally:
        stop_server(running.process)


@pytest.fixture(scope="session")
def api_server_postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The same app on a fresh PostgreSQL database."""
    tmp = tmp_path_factory.mktemp("api-postgres")
    with fresh_postgres_database() as url:
        running = _start(tmp, {"REFLEX_DB_URL": url, "RIVENDELL_EXECUTOR": "off"})
        try:
            yield running
        finally:
            stop_server(running.process)


@pytest.fixture(scope="session")
def ops_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Docker unreachable (DOCKER_HOST points nowhere), tight rate limits, a cleanup every
    second that deletes ended interviews at once."""
    tmp = tmp_path_factory.mktemp("api-ops")
    running = _start(
        tmp,
        {
            "REFLEX_DB_URL": f"sqlite:///{tmp / 'rivendell.db'}",
            "DOCKER_HOST": "tcp://127.0.0.1:9",
            "RIVENDELL_CLEANUP_INTERVAL_SECONDS": "1",
            "RIVENDELL_ENDED_RETENTION_HOURS": "0",
            "RIVENDELL_RATE_CREATE_PER_MINUTE": "4",
            "RIVENDELL_RATE_RUNS_PER_ROOM_PER_MINUTE": "2",
        },
    )
    try:
        yield running
    finally:
        stop_server(running.process)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_server(request: pytest.FixtureRequest) -> Server:
    """The API server on each supported database."""
    name = "api_server" if request.param == "sqlite" else "api_server_postgres"
    return request.getfixturevalue(name)


@pytest.fixture
def db_of(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Server], Session]]:
    """A session on a running server's own database (to arrange what a test needs)."""
    sessions: list[Session] = []

    def open_for(server: Server) -> Session:
        monkeypatch.setenv("REFLEX_DB_URL", server.database_url)
        _reset_caches()
        session = Session(database.get_engine(), expire_on_commit=False)
        sessions.append(session)
        return session

    yield open_for
    for session in sessions:
        session.close()
    database.get_engine().dispose()
    _reset_caches()


def create(server: Server, title: str = "Pairing round", **extra: str) -> dict:
    """A new interview through the API (its JSON, with the creator's token)."""
    body = {"title": title, "language": "python", "creator_name": "Ada", **extra}
    response = httpx.post(f"{server.url}/api/v1/sessions", json=body, timeout=30)
    assert response.status_code == 201, response.text
    return response.json()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
