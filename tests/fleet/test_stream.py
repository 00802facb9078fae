"""The API event stream on one instance carries what happens on the other."""

from __future__ import annotations

import contextlib
import json
import time

import httpx
import pytest
from websockets.sync.client import ClientConnection, connect

from tests.api.conftest import bearer, create
from tests.api.test_stream import _ws
from tests.fleet.conftest import Fleet

pytestmark = pytest.mark.postgres


def _next_event(socket: ClientConnection) -> dict:
    return json.loads(socket.recv(timeout=15))


def test_the_stream_on_b_receives_the_events_caused_on_a(fleet: Fleet) -> None:
    created = create(fleet.a, title="Streamed across instances")
    sid, creator = created["id"], created["creator_token"]
    api_a = f"{fleet.a.url}/api/v1/sessions/{sid}"
    # Several sockets: with several workers per instance they land on different processes.
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(connect(_ws(fleet.b, sid, creator))) for _ in range(3)]
        time.sleep(0.5)  # each socket subscribes once it is accepted
        seat = httpx.post(f"{api_a}/join", json={"name": "Casey"}, timeout=10).json()
        for socket in sockets:
            event = _next_event(socket)
            assert (event["type"], event["session_id"]) == ("user_joined", sid)
            assert event["data"] == {"id": seat["participant_id"]}
        statement = {"markdown": "# Merge intervals"}
        httpx.put(f"{api_a}/problem", json=statement, headers=bearer(creator), timeout=10)
        for socket in sockets:
            assert _next_event(socket)["type"] == "problem_updated"
        httpx.delete(api_a, headers=bearer(creator), timeout=10)
        for socket in sockets:
            event = _next_event(socket)
            assert (event["type"], event["session_id"]) == ("session_ended", sid)
