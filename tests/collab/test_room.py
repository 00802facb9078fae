"""The room's own rules around pycrdt-websocket's YRoom, with in-memory client channels."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pycrdt.websocket.yroom as yroom_module
import pytest
from pycrdt import Doc, Text, create_update_message

from rivendell.collab.channel import ClientChannel, Limits
from rivendell.collab.room import CODE, CollabRoom, new_document
from rivendell.models import Edit


def panic_type() -> type[BaseException]:
    """pyo3's PanicException, caught from a real panic (its module is not importable)."""
    doc: Doc[Any] = Doc()
    text = doc.get(CODE, type=Text)
    text += "é"
    try:
        del text[0:5]  # more UTF-8 bytes than exist: the Rust side panics
    except BaseException as error:
        return type(error)
    raise AssertionError("expected a panic")


class Inbox:
    """One client's side of the ASGI connection: frames to send, frames received."""

    def __init__(self, frames: list[bytes]) -> None:
        self.incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        for frame in frames:
            self.incoming.put_nowait({"type": "websocket.receive", "bytes": frame})
        self.received: list[dict[str, Any]] = []

    async def receive(self) -> dict[str, Any]:
        return await self.incoming.get()

    async def send(self, message: dict[str, Any]) -> None:
        self.received.append(message)

    def hang_up(self) -> None:
        self.incoming.put_nowait({"type": "websocket.disconnect"})


def update_from(doc_state: bytes, edit: str) -> bytes:
    """A Yjs update appending ``edit`` to a copy of the room's document."""
    replica: Doc[Any] = Doc()
    replica.apply_update(doc_state)
    text = replica.get(CODE, type=Text)
    before = replica.get_state()
    text += edit
    return replica.get_update(before)


async def serve(
    room: CollabRoom, inbox: Inbox, *, author: int | None = None, interviewer: bool = True
) -> ClientChannel:
    channel = ClientChannel(inbox.receive, inbox.send, "/ws/collab/r", Limits())
    writer = asyncio.create_task(channel.write_loop())
    channel.screen = lambda data: room.screen(
        channel, data, read_only=False, author=author, interviewer=interviewer
    )
    await room.serve_client(channel)
    channel.close(1000, "")
    channel.may_send_close.set()
    await writer
    return channel


async def noop_save(_interview_id: str, _state: bytes, _text: str, _edits: Sequence[Edit]) -> None:
    return None


def test_a_new_document_is_seeded_once_and_a_stored_one_is_kept() -> None:
    seeded = new_document(None, "print('hi') 👩‍💻")
    assert str(seeded.get(CODE, type=Text)) == "print('hi') 👩‍💻"
    again = new_document(seeded.get_update(), "print('hi') 👩‍💻")
    assert str(again.get(CODE, type=Text)) == "print('hi') 👩‍💻"


async def test_an_update_that_panics_the_crdt_closes_only_its_sender(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    panic = panic_type()
    real_handle = yroom_module.handle_sync_message
    doc = new_document(None, "start")
    room = CollabRoom(interview_id="r", doc=doc, save=noop_save, max_document_bytes=1 << 20)
    async with room:
        poisoned = update_from(doc.get_update(), " poison")

        def handle(message: bytes, ydoc: Doc[Any]) -> bytes | None:
            if poisoned in message:
                raise panic("the CRDT library panicked")
            return real_handle(message, ydoc)

        monkeypatch.setattr(yroom_module, "handle_sync_message", handle)
        attacker = Inbox([create_update_message(poisoned)])
        closed = await asyncio.wait_for(serve(room, attacker), 5)
        assert (closed.close_code, closed.close_reason) == (
            1011,
            "the server could not apply your change",
        )

        honest = Inbox([create_update_message(update_from(doc.get_update(), " fine"))])
        serving = asyncio.create_task(serve(room, honest))
        for _ in range(50):
            if room.text_value == "start fine":
                break
            await asyncio.sleep(0.05)
        honest.hang_up()
        await asyncio.wait_for(serving, 5)
    assert room.text_value == "start fine"


async def test_a_locked_room_drops_candidates_changes_keeps_theirs_open_and_logs_who_edited() -> (
    None
):
    saved: list[Sequence[Edit]] = []

    async def save(_id: str, _state: bytes, _text: str, edits: Sequence[Edit]) -> None:
        saved.append(edits)

    doc = new_document(None, "start")
    room = CollabRoom(
        interview_id="r", doc=doc, save=save, max_document_bytes=1 << 20, save_delay=0.01
    )
    async with room:
        room.locked = True
        candidate = Inbox([create_update_message(update_from(doc.get_update(), " candidate"))])
        serving = asyncio.create_task(serve(room, candidate, author=2, interviewer=False))
        interviewer = Inbox([create_update_message(update_from(doc.get_update(), " host"))])
        hosting = asyncio.create_task(serve(room, interviewer, author=1))
        for _ in range(50):
            if room.text_value == "start host":
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)
        assert not serving.done()  # dropped, not disconnected: the candidate still sees edits
        room.locked = False
        candidate.incoming.put_nowait(
            {
                "type": "websocket.receive",
                "bytes": create_update_message(update_from(doc.get_update(), " unlocked")),
            }
        )
        for _ in range(50):
            if room.text_value.endswith(" unlocked"):
                break
            await asyncio.sleep(0.05)
        candidate.hang_up()
        interviewer.hang_up()
        await asyncio.wait_for(asyncio.gather(serving, hosting), 5)
        await room.flush()
    assert room.text_value == "start host unlocked"
    assert [edit.participant_id for batch in saved for edit in batch] == [1, 2]
