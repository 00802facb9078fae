"""The collaboration endpoint against the running app, with real Yjs (pycrdt) clients."""

from __future__ import annotations

import asyncio
import contextlib
import random
from typing import Any

import pytest
from pycrdt import Doc, Text
from sqlmodel import Session
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.frames import Close

from rivendell import crud
from rivendell.collab import CODE, MAX_DOCUMENT_BYTES
from rivendell.models import (
    Interview,
    InterviewCreate,
    ParticipantCreate,
    TimelineEvent,
    TimelineKind,
    utcnow,
)
from tests.collab.yclient import byte_offset, collab_url, settle, yjs_client
from tests.e2e.server import Server

pytestmark = pytest.mark.browser  # needs the built app, like the browser tests

PIECES = ["👩‍💻", "漢字", "e\u0301", "\r\n", "\t", "x", "Ω≈ç", "🇫🇷", " "]


async def close_frame(socket: ClientConnection) -> Close:
    """Read until the server closes the socket; its close frame (code and reason)."""
    with pytest.raises(ConnectionClosed) as closed:  # noqa: PT012 - reads until the close
        while True:
            await asyncio.wait_for(socket.recv(), 5)
    assert closed.value.rcvd is not None, "closed without a close frame"
    return closed.value.rcvd


def new_room(db: Session, language: str = "python") -> tuple[Interview, str, list[str]]:
    interview, _, creator = crud.create_interview(
        db=db, data=InterviewCreate(title="Collab", language=language, creator_name="Alex")
    )
    guests = [
        crud.join_interview(db=db, interview=interview, data=ParticipantCreate(name=f"G{i}"))[1]
        for i in range(4)
    ]
    return interview, creator, guests


async def test_a_new_room_is_seeded_once_by_the_server(server: Server, server_db: Session) -> None:
    interview, creator, guests = new_room(server_db, "go")
    starter = interview.code
    async with (
        yjs_client(server.url, interview.id, creator) as first,
        yjs_client(server.url, interview.id, guests[0]) as second,
    ):
        assert first.value() == starter
        assert second.value() == starter


async def test_wrong_or_missing_tokens_get_no_document_byte(
    server: Server, server_db: Session
) -> None:
    interview, _, _ = new_room(server_db)
    _, other_token, _ = new_room(server_db)
    cases = [
        (interview.id, "", 4401),
        (interview.id, "forged-token", 4401),
        (interview.id, other_token, 4401),
        ("nosuchinterview", other_token, 4404),
    ]
    for interview_id, token, code in cases:
        async with connect(collab_url(server.url, interview_id, token)) as socket:
            closed = await close_frame(socket)
            assert closed.code == code
            assert closed.reason


async def test_concurrent_edits_converge_without_loss_or_duplication(
    server: Server, server_db: Session
) -> None:
    interview, creator, guests = new_room(server_db)
    seed = interview.code
    tokens = [creator, *guests]
    rng = random.Random(7)
    async with (
        yjs_client(server.url, interview.id, tokens[0]) as c0,
        yjs_client(server.url, interview.id, tokens[1]) as c1,
        yjs_client(server.url, interview.id, tokens[2]) as c2,
        yjs_client(server.url, interview.id, tokens[3]) as c3,
        yjs_client(server.url, interview.id, tokens[4]) as c4,
    ):
        clients = [c0, c1, c2, c3, c4]
        kept: dict[str, int] = {}
        deleted: set[str] = set()

        async def typist(number: int) -> None:
            client = clients[number]
            mine: list[str] = []
            for step in range(40):
                current = client.value()
                if mine and rng.random() < 0.25:
                    victim = mine.pop(rng.randrange(len(mine)))
                    at = current.find(victim)
                    assert at >= 0, f"{victim!r} vanished from client {number}"
                    start = byte_offset(current, at)
                    del client.text[start : start + len(victim.encode())]
                    deleted.add(victim)
                else:
                    token = f"⟦{number}.{step}{rng.choice(PIECES)}{rng.choice(PIECES)}⟧"
                    # Only between tokens, so no token (nor a CRLF or an emoji in one) is split.
                    boundaries = [0, len(current)]
                    boundaries += [i + 1 for i, ch in enumerate(current) if ch == "⟧"]
                    at = rng.choice(boundaries)
                    client.text.insert(byte_offset(current, at), token)
                    mine.append(token)
                await asyncio.sleep(rng.uniform(0, 0.02))
            for token in mine:
                kept[token] = number

        await asyncio.gather(*(typist(n) for n in range(5)))
        await settle(clients)
        final = c0.value()
        async with yjs_client(server.url, interview.id, tokens[0]) as late:
            assert late.value() == final
    for token in kept:
        assert final.count(token) == 1, token
    for token in deleted:
        assert token not in final
    remainder = final
    for token in kept:
        remainder = remainder.replace(token, "")
    assert remainder == seed


async def test_twenty_clients_arriving_together_all_get_the_document(
    server: Server, server_db: Session
) -> None:
    interview, creator, _ = new_room(server_db, "rust")

    async def arrive() -> str:
        async with yjs_client(server.url, interview.id, creator, sync_timeout=2) as client:
            return client.value()

    values = await asyncio.gather(*(arrive() for _ in range(20)))
    assert values == [interview.code] * 20


async def test_the_code_is_mirrored_and_survives_the_room_closing(
    server: Server, server_db: Session
) -> None:
    interview, creator, _ = new_room(server_db)
    async with yjs_client(server.url, interview.id, creator) as client:
        client.text += "\n# added by a test ✓\n"
        expected = client.value()
    for _ in range(50):
        server_db.expire_all()
        if server_db.get(Interview, interview.id).code == expected:
            break
        await asyncio.sleep(0.1)
    assert server_db.get(Interview, interview.id).code == expected


async def test_hostile_frames_close_only_the_offender(server: Server, server_db: Session) -> None:
    interview, creator, guests = new_room(server_db)
    async with yjs_client(server.url, interview.id, creator) as honest:
        hostile = [
            b"\x00\x02\xff\xff\xff",  # an update whose length runs past the frame
            b"\x00\x02\x05garbage!!",  # an update that is not a Yjs update
            b"\x01\xff",  # truncated awareness
            b"\x00",  # truncated sync
            b"\x00\x02" + b"\x80" * 20,  # a varint that never ends
            b"x" * (2 * 1024 * 1024),  # over the frame cap
        ]
        for frame in hostile:
            async with connect(
                collab_url(server.url, interview.id, guests[0]), max_size=None
            ) as socket:
                await socket.recv()  # the sync step 1 the server opens with
                await socket.send(frame)
                closed = await close_frame(socket)
                assert closed.code in {1008, 1009, 1011}, frame[:8]
                assert closed.reason
        honest.text += "still here"
        async with yjs_client(server.url, interview.id, guests[1]) as checker:
            await settle([honest, checker])
            assert checker.value().endswith("still here")


async def test_a_flood_is_cut_off(server: Server, server_db: Session) -> None:
    interview, creator, _ = new_room(server_db)
    async with connect(collab_url(server.url, interview.id, creator)) as socket:
        await socket.recv()
        with contextlib.suppress(ConnectionClosed):
            for _ in range(100):  # 50 messages every 10 ms: 25 times the allowed rate
                for _ in range(50):
                    await socket.send(b"\x01\x01\x00")  # an empty awareness update
                await asyncio.sleep(0.01)
        closed = await close_frame(socket)
        assert closed.code == 1008
        assert "too many messages" in closed.reason


async def test_the_document_has_a_size_cap_with_a_clear_message(
    server: Server, server_db: Session
) -> None:
    interview, creator, guests = new_room(server_db)
    chunk = "a" * (MAX_DOCUMENT_BYTES // 3)
    async with yjs_client(server.url, interview.id, creator) as client:
        for _ in range(4):
            client.text += chunk
            await asyncio.sleep(0.3)
        await asyncio.wait_for(client.socket.wait_closed(), 10)
        assert client.socket.close_code == 4413
        assert "the document is full" in client.socket.close_reason
    async with yjs_client(server.url, interview.id, guests[0]) as other:
        assert len(other.value().encode()) < MAX_DOCUMENT_BYTES
        assert other.value().endswith(chunk)


async def test_an_ended_interview_is_read_only(server: Server, server_db: Session) -> None:
    interview, creator, _ = new_room(server_db)
    interview.ended_at = utcnow()
    server_db.add(interview)
    server_db.commit()
    async with yjs_client(server.url, interview.id, creator) as client:
        assert client.value() == interview.code
        client.text += "too late"
        await asyncio.wait_for(client.socket.wait_closed(), 10)
        assert client.socket.close_code == 1008
        assert "read-only" in client.socket.close_reason


async def test_hundreds_of_clients_vanishing_at_once_leave_the_server_serving(
    server: Server, server_db: Session
) -> None:
    rooms = [new_room(server_db) for _ in range(3)]

    async def open_socket(number: int) -> ClientConnection:
        interview, creator, _ = rooms[number % len(rooms)]
        socket = await connect(collab_url(server.url, interview.id, creator))
        await asyncio.wait_for(socket.recv(), 20)  # the server's sync step 1
        return socket

    sockets = []
    for batch in range(6):
        sockets += await asyncio.gather(*(open_socket(batch * 50 + n) for n in range(50)))
    for socket in sockets:
        socket.transport.abort()  # no close frame: the network just drops
    interview, creator, guests = rooms[0]
    async with yjs_client(server.url, interview.id, guests[0]) as survivor:
        survivor.text += " after the storm"
        async with yjs_client(server.url, interview.id, creator) as witness:
            await settle([survivor, witness])
            assert witness.value().endswith(" after the storm")


async def test_each_clients_edits_go_on_the_timeline_as_theirs_and_replay_to_the_code(
    server: Server, server_db: Session
) -> None:
    interview, creator, guests = new_room(server_db)
    people = {p.name: p.id for p in crud.list_participants(db=server_db, interview_id=interview.id)}
    async with (
        yjs_client(server.url, interview.id, creator) as host,
        yjs_client(server.url, interview.id, guests[0]) as guest,
    ):
        host.text += "\n# Alex: start with brute force\n"
        await settle([host, guest])
        guest.text += "# G0: then a hash map 🗺️\n"
        await settle([host, guest])
        expected = host.value()
    entries: list[TimelineEvent] = []
    for _ in range(50):  # saved when the room empties
        server_db.expire_all()
        entries = crud.list_timeline(db=server_db, interview_id=interview.id)
        if server_db.get(Interview, interview.id).code == expected:
            break
        await asyncio.sleep(0.1)
    assert entries[0].kind == TimelineKind.SEED
    authors = {e.participant_id for e in entries if e.kind == TimelineKind.EDIT}
    assert authors == {people["Alex"], people["G0"]}
    replayed: Doc[Any] = Doc()
    for entry in entries:
        if entry.update is not None:
            replayed.apply_update(entry.update)
    assert str(replayed.get(CODE, type=Text)) == expected
