"""The Redis relay between processes serving one room, on the real Redis (logical db 14).

Each ``Process`` below is what one server process holds for a room: its own ``Relay`` (its own
origin) and its own ``CollabRoom`` replica, opened the way ``CollabServer.get_room`` opens one.
Clients are in-memory channels (``tests.collab.test_room``); Redis is real.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest
import redis
import redis.asyncio as aioredis
from pycrdt import (
    Awareness,
    Doc,
    YMessageType,
    YSyncMessageType,
    create_awareness_message,
    create_update_message,
)

from rivendell.collab.relay import KEY_PREFIX, Relay
from rivendell.collab.room import CollabRoom, new_document
from rivendell.collab.server import Admission, CollabServer, Refused
from tests.collab.test_room import Inbox, noop_save, serve, update_from

REDIS_URL = "redis://127.0.0.1:6379/14"
ROOM = "relay-room"


@pytest.fixture(autouse=True)
async def clean_redis() -> AsyncIterator[None]:
    client = aioredis.from_url(REDIS_URL)
    await client.flushdb()
    yield
    await client.flushdb()
    await client.aclose()


@dataclass
class Process:
    relay: Relay
    room: CollabRoom


@contextlib.asynccontextmanager
async def process(state: bytes, redis_url: str = REDIS_URL) -> AsyncIterator[Process]:
    """One server process with the room open, as ``CollabServer.get_room`` opens it."""
    async with Relay(redis_url) as relay:
        doc: Doc[Any] = Doc()
        doc.apply_update(state)
        await relay.catch_up(ROOM, doc.apply_update)
        room = CollabRoom(interview_id=ROOM, doc=doc, save=noop_save, max_document_bytes=1 << 20)
        async with room:
            await room.ydoc_observed.wait()
            room.publish = relay.publish
            relay.attach(ROOM, room)
            yield Process(relay, room)
            relay.detach(ROOM)


@contextlib.asynccontextmanager
async def client(room: CollabRoom, frames: list[bytes] | None = None) -> AsyncIterator[Inbox]:
    inbox = Inbox(frames or [])
    serving = asyncio.create_task(serve(room, inbox))
    try:
        yield inbox
    finally:
        inbox.hang_up()
        await asyncio.wait_for(serving, 5)


async def until(condition: Callable[[], bool], within: float = 10.0) -> None:
    for _ in range(int(within / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"not true within {within} s")


def updates_received(inbox: Inbox) -> list[bytes]:
    """The sync-update frames a client was sent."""
    frames = [m.get("bytes") or b"" for m in inbox.received if m["type"] == "websocket.send"]
    return [f for f in frames if f[:2] == bytes([YMessageType.SYNC, YSyncMessageType.SYNC_UPDATE])]


def edit_message(room: CollabRoom, edit: str) -> bytes:
    return create_update_message(update_from(room.ydoc.get_update(), edit))


SEED = new_document(None, "print('hi')\n").get_update()


async def test_an_edit_on_one_process_reaches_the_clients_of_another_exactly_once() -> None:
    async with process(SEED) as a, process(SEED) as b, client(b.room) as watcher:
        await until(lambda: len(watcher.received) > 0)  # its initial sync
        before = len(updates_received(watcher))
        async with client(a.room, [edit_message(a.room, "# from A 👩‍💻\n")]):
            await until(lambda: b.room.text_value.endswith("# from A 👩‍💻\n"))
            await asyncio.sleep(0.5)  # room for a duplicate to arrive, were there one
        assert len(updates_received(watcher)) - before == 1
        assert a.room.text_value == b.room.text_value


async def test_concurrent_edits_on_two_processes_converge() -> None:
    async with process(SEED) as a, process(SEED) as b:
        edits_a = [edit_message(a.room, f"a{i}¿") for i in range(20)]
        edits_b = [edit_message(b.room, f"b{i}漢") for i in range(20)]
        async with client(a.room, edits_a), client(b.room, edits_b):
            await until(
                lambda: (
                    a.room.text_value == b.room.text_value
                    and all(f"a{i}¿" in a.room.text_value for i in range(20))
                    and all(f"b{i}漢" in a.room.text_value for i in range(20))
                )
            )
        assert a.room.text_value.count("print('hi')") == 1


async def test_a_process_opening_the_room_late_catches_up_from_the_stream() -> None:
    async with process(SEED) as a:
        async with client(a.room, [edit_message(a.room, "late joiners see this\n")]):
            await until(lambda: "late joiners" in a.room.text_value)
        # B opens the room from the stored state (the seed: A has not saved since).
        await asyncio.sleep(0.2)
        async with process(SEED) as b:
            assert b.room.text_value == a.room.text_value


async def test_cursors_cross_processes() -> None:
    peer: Doc[Any] = Doc()
    awareness = Awareness(peer)
    awareness.set_local_state({"user": {"name": "Ada", "color": "#ff0000"}})
    cursor = create_awareness_message(awareness.encode_awareness_update([peer.client_id]))
    async with process(SEED) as a, process(SEED) as b, client(b.room) as watcher:
        async with client(a.room, [cursor]):
            await until(lambda: peer.client_id in b.room.awareness.states)
            await until(
                lambda: any(
                    (m.get("bytes") or b"")[:1] == bytes([YMessageType.AWARENESS])
                    and b"Ada" in (m.get("bytes") or b"")
                    for m in watcher.received
                )
            )
        # A's client left: its cursor leaves B's room too.
        await until(lambda: peer.client_id not in b.room.awareness.states)


async def test_the_stream_keeps_only_the_retention_window() -> None:
    async with process(SEED) as a:
        a.relay.retention_seconds = 0.5
        async with client(a.room, [edit_message(a.room, f"{i}") for i in range(5)]):
            await until(lambda: "4" in a.room.text_value)
        redis = aioredis.from_url(REDIS_URL)
        ttl = await redis.pttl(KEY_PREFIX + ROOM)
        await redis.aclose()
        assert 0 < ttl <= 1000


async def test_without_redis_rooms_say_degraded_and_converge_once_it_is_back(
    own_redis: Any,
) -> None:
    await until(lambda: _answers(own_redis.url))
    async with process(SEED, own_redis.url) as a, process(SEED, own_redis.url) as b:
        own_redis.stop()
        async with client(a.room, [edit_message(a.room, "typed while Redis was down\n")]):
            await until(lambda: a.relay.degraded and b.relay.degraded)
            assert a.room.awareness.get_local_state() == {"rivendell": {"degraded": True}}
            assert "typed while" not in b.room.text_value
            own_redis.start()
            await until(lambda: not a.relay.degraded and not b.relay.degraded, within=20)
            await until(lambda: b.room.text_value == a.room.text_value)
        assert "typed while Redis was down" in b.room.text_value
        assert b.room.awareness.get_local_state() == {"rivendell": {"degraded": False}}


def _answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url).ping())
    except redis.exceptions.RedisError:
        return False


async def test_a_process_without_the_room_reads_the_code_another_has_not_saved_yet() -> None:
    async def load(_interview_id: str) -> tuple[bytes | None, str]:
        return SEED, "print('hi')\n"  # the stored state: A has not saved its edit

    async def refuse(_interview_id: str, _token: str) -> Admission:
        raise Refused(4403, "not in this test")

    other = CollabServer(admit=refuse, load=load, save=noop_save, relay=Relay(REDIS_URL))
    async with process(SEED) as a, other:
        async with client(a.room, [edit_message(a.room, "print('unsaved ✓')\n")]):
            await until(lambda: "unsaved ✓" in a.room.text_value)
            for _ in range(500):  # until A's batch is in the stream
                if (read := await other.current_text(ROOM)) == a.room.text_value:
                    break
                await asyncio.sleep(0.02)
            assert read == a.room.text_value
        assert ROOM not in other.rooms  # a one-off read opens nothing
