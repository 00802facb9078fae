"""The interviewer's controls reach open Yjs sockets: a locked room drops candidates' updates,
an ended one drops everyone's, and the API refuses every change of an ended interview."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlmodel import Session

from rivendell import crud
from rivendell.models import InterviewCreate, ParticipantCreate
from tests.collab.yclient import Client, yjs_client
from tests.e2e.server import Server

pytestmark = pytest.mark.browser  # needs the built app, like the browser tests

# Longer than a save (SAVE_DELAY + the group commit's wait) and an event's trip through the bus.
SETTLE_SECONDS = 2.0


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def stored_code(db: Session, interview_id: str) -> str:
    db.expire_all()
    _, code = crud.load_document(db=db, interview_id=interview_id)
    return code


async def type_at_end(client: Client, text: str) -> None:
    client.text += text
    await asyncio.sleep(SETTLE_SECONDS)


async def test_lock_and_end_reach_open_sockets_and_the_api_refuses_an_ended_room(
    server: Server, server_db: Session
) -> None:
    interview, _, creator = crud.create_interview(
        db=server_db, data=InterviewCreate(title="Controls", language="python", creator_name="A")
    )
    _, candidate = crud.join_interview(
        db=server_db, interview=interview, data=ParticipantCreate(name="Sam")
    )
    _, other = crud.join_interview(
        db=server_db, interview=interview, data=ParticipantCreate(name="Kim")
    )
    api = f"{server.url}/api/v1/sessions/{interview.id}"
    async with (
        httpx.AsyncClient(timeout=30) as http,
        yjs_client(server.url, interview.id, creator) as host,
        yjs_client(server.url, interview.id, candidate) as guest,
        # Its replica keeps the change the server dropped (a browser's editor is read-only
        # instead): later edits of that replica build on it, so it makes no other change.
        yjs_client(server.url, interview.id, other) as locked_out,
    ):
        locked = await http.patch(f"{api}/controls", json={"locked": True}, headers=bearer(creator))
        assert locked.json() == {"locked": True, "run_disabled": False}
        refused = await http.patch(
            f"{api}/controls", json={"locked": False}, headers=bearer(candidate)
        )
        assert refused.status_code == 403
        assert "only interviewers" in refused.json()["message"]
        await asyncio.sleep(0.5)
        await type_at_end(locked_out, "# LOCKED-EDIT\n")
        assert "LOCKED-EDIT" not in host.value()
        assert "LOCKED-EDIT" not in stored_code(server_db, interview.id)
        await type_at_end(host, "# INTERVIEWER-EDIT\n")
        assert "INTERVIEWER-EDIT" in stored_code(server_db, interview.id)

        await http.patch(f"{api}/controls", json={"locked": False}, headers=bearer(creator))
        await asyncio.sleep(0.5)
        await type_at_end(guest, "# OPEN-EDIT\n")
        assert "OPEN-EDIT" in host.value()
        assert "OPEN-EDIT" in stored_code(server_db, interview.id)

        ended = await http.delete(api, headers=bearer(creator))
        assert ended.json()["status"] == "ended"
        await asyncio.sleep(0.5)
        before = stored_code(server_db, interview.id)
        await type_at_end(guest, "# AFTER-END-GUEST\n")
        await type_at_end(host, "# AFTER-END-HOST\n")
        after = stored_code(server_db, interview.id)
        assert after == before
        assert "AFTER-END" not in after

    # A socket opened after the end gets the document, and nothing it sends is taken.
    async with yjs_client(server.url, interview.id, candidate) as late:
        await type_at_end(late, "# LATE\n")
    assert stored_code(server_db, interview.id) == before

    async with httpx.AsyncClient(timeout=30) as http:
        for method, path, body, token in (
            ("PUT", "/problem", {"markdown": "x"}, creator),
            ("POST", "/execute", {"stdin": ""}, candidate),
            ("POST", "/execute", {"stdin": ""}, creator),
            ("PATCH", "/controls", {"run_disabled": True}, creator),
            ("POST", "/notes", {"markdown": "late note"}, creator),
            ("POST", "/join", {"name": "Late"}, candidate),
        ):
            response = await http.request(method, api + path, json=body, headers=bearer(token))
            assert response.status_code == 409, (path, response.text)
            assert response.json()["code"] == "session_ended"
            assert "ended" in response.json()["message"]
        notes = await http.get(f"{api}/notes", headers=bearer(creator))
        assert notes.status_code == 200
        assert (await http.get(f"{api}/notes", headers=bearer(candidate))).status_code == 403
