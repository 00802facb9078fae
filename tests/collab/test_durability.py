"""The shared document outlives the server: a graceful stop and a kill -9 both keep it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session

from rivendell import crud
from rivendell import db as database
from rivendell.models import InterviewCreate
from tests.collab.yclient import yjs_client
from tests.conftest import _reset_caches
from tests.e2e.server import start_server, stop_server

pytestmark = pytest.mark.browser


@pytest.fixture
def database_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'durable.db'}"
    monkeypatch.setenv("REFLEX_DB_URL", url)
    _reset_caches()
    database.migrate()
    yield url
    database.get_engine().dispose()
    _reset_caches()


def create(db: Session) -> tuple[str, str]:
    interview, _, token = crud.create_interview(
        db=db, data=InterviewCreate(title="Durable", language="python", creator_name="Alex")
    )
    return interview.id, token


@pytest.mark.parametrize("kill", [False, True], ids=["sigterm", "kill-9"])
async def test_edits_saved_a_second_before_a_restart_survive_it(
    database_file: str, tmp_path: Path, kill: bool
) -> None:
    with database.session() as db:
        interview_id, token = create(db)
    server = start_server(tmp_path, {"REFLEX_DB_URL": database_file})
    try:
        async with yjs_client(server.url, interview_id, token) as client:
            client.text += "\nprint('typed before the restart ✓')\n"
            expected = client.value()
            await asyncio.sleep(1.0)
            stop_server(server.process, kill=kill)
    finally:
        stop_server(server.process, kill=True)
    server = start_server(
        tmp_path, {"REFLEX_DB_URL": database_file}, port=int(server.url.rsplit(":", 1)[1])
    )
    try:
        async with yjs_client(server.url, interview_id, token) as client:
            assert client.value() == expected
    finally:
        stop_server(server.process)
