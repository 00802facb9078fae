"""The event stream over a real WebSocket: refusals, then the room's events as JSON."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from tests.api.conftest import bearer, create
from tests.e2e.server import Server


def _ws(server: Server, session_id: str, token: str) -> str:
    return f"{server.url.replace('http', 'ws', 1)}/ws/sessions/{session_id}?token={token}"


async def _closed_with(url: str) -> tuple[int, str]:
    async with websockets.connect(url) as socket:
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(socket.recv(), 10)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code, closed.value.rcvd.reason


async def test_bad_tokens_and_unknown_rooms_are_refused(ops_server: Server) -> None:
    created = await asyncio.to_thread(_create_directly, ops_server)
    assert await _closed_with(_ws(ops_server, created[0], "forged")) == (4401, "invalid token")
    assert (await _closed_with(_ws(ops_server, "no-such-room", created[1])))[0] == 4404


def _create_directly(server: Server) -> tuple[str, str]:
    import os

    from rivendell import crud
    from rivendell import db as database
    from rivendell.models import InterviewCreate
    from tests.conftest import _reset_caches

    os.environ["REFLEX_DB_URL"] = server.database_url
    _reset_caches()
    try:
        with database.session() as db:
            interview, _, token = crud.create_interview(
                db=db, data=InterviewCreate(title="Stream", language="python", creator_name="Ada")
            )
    finally:
        database.get_engine().dispose()
        os.environ.pop("REFLEX_DB_URL")
        _reset_caches()
    return interview.id, token


async def test_the_rooms_events_arrive_in_order(ops_server: Server) -> None:
    sid, creator = await asyncio.to_thread(_create_directly, ops_server)
    api = f"{ops_server.url}/api/v1/sessions/{sid}"
    async with (
        websockets.connect(_ws(ops_server, sid, creator)) as socket,
        httpx.AsyncClient(timeout=30) as client,
    ):
        await asyncio.sleep(0.3)  # the subscription is made once the socket is accepted
        seat = (await client.post(f"{api}/join", json={"name": "Casey"})).json()
        await client.put(f"{api}/problem", json={"markdown": "# Hi"}, headers=bearer(creator))
        await client.post(f"{api}/execute", json={"code": "print(1)"}, headers=bearer(creator))
        await client.delete(api, headers=bearer(creator))
        received, close = await _read_until_closed(socket)
    types = [event["type"] for event in received]
    assert types == [
        "user_joined",
        "problem_updated",
        "execution_started",
        "execution_completed",
        "session_ended",
    ]
    assert received[0]["data"] == {"id": seat["participant_id"]}
    assert all(event["session_id"] == sid for event in received)
    assert close is not None
    assert close.code == 1000
    # An ended interview refuses new listeners.
    assert (await _closed_with(_ws(ops_server, sid, creator)))[0] == 4409


def test_create_through_the_api_is_visible_to_the_stream_server(api_server: Server) -> None:
    # The plain API server answers the same stream route (not only the operations server).
    created = create(api_server)
    url = _ws(api_server, created["id"], created["creator_token"])
    assert asyncio.run(_accepts(url))


async def _accepts(url: str) -> bool:
    async with websockets.connect(url) as socket:
        await socket.close()
    return True


async def _read_until_closed(socket) -> tuple[list[dict], object]:
    received: list[dict] = []
    try:
        while True:
            received.append(json.loads(await asyncio.wait_for(socket.recv(), 15)))
    except ConnectionClosed as closed:
        return received, closed.rcvd
