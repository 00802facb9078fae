"""One document across processes: every open room's changes go through one Redis stream per room.

Each process (every Granian worker of every instance) keeps its own replica of a room it serves.
Local changes and cursor moves are appended to the room's stream, ``rivendell:collab:{id}``,
tagged with the process's origin; one reader per process follows the streams of its open rooms
and merges what other processes wrote. Yjs updates are idempotent and commute, so a replica may
see an update twice or late and still ends equal, and its clients are sent only what changed.

A stream keeps the last ``retention_seconds`` of updates: a process opening a room loads the
stored document (saved at most a second ago by whoever serves it) and replays that backlog, so
it catches up without asking anyone. When Redis is unreachable the rooms keep serving their own
clients and say they are degraded; once it answers again each process re-sends every open
room's whole state, which brings every replica back to one document.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Callable
from typing import Any, Protocol

import redis.asyncio as aioredis
import redis.exceptions

from rivendell.collab.room import Kind

__all__ = ["Relay", "Replica"]

logger = logging.getLogger(__name__)

KEY_PREFIX = "rivendell:collab:"
# How long a blocking read waits before it looks again at which rooms are open.
READ_BLOCK_MS = 200
MAX_BACKOFF_SECONDS = 5.0


class Replica(Protocol):
    """What the relay needs of an open room (``CollabRoom``)."""

    def apply_remote_update(self, update: bytes) -> None: ...
    def apply_remote_awareness(self, payload: bytes) -> None: ...
    def full_state(self) -> bytes: ...
    def set_degraded(self, degraded: bool) -> None: ...


class Relay:
    """This process's link to the other processes serving the same rooms; an async context."""

    def __init__(self, redis_url: str, *, retention_seconds: float = 60.0) -> None:
        self.origin = secrets.token_hex(8).encode()
        self.retention_seconds = retention_seconds
        self.degraded = False
        self._redis = aioredis.from_url(
            redis_url, socket_connect_timeout=2, socket_timeout=READ_BLOCK_MS / 1000 + 5
        )
        self._rooms: dict[str, Replica] = {}
        self._last_ids: dict[str, bytes] = {}
        self._outbox: list[tuple[str, Kind, bytes]] = []
        self._flusher: asyncio.Task[None] | None = None
        self._reader: asyncio.Task[None] | None = None
        self._rooms_changed = asyncio.Event()

    async def __aenter__(self) -> Relay:
        self._reader = asyncio.create_task(self._follow(), name="collab relay reader")
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._flusher is not None:
            with contextlib.suppress(Exception):
                await self._flusher
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        await self._redis.aclose()

    # --- rooms opening and closing ----------------------------------------------------------

    async def catch_up(self, interview_id: str, apply: Callable[[bytes], None]) -> None:
        """Replay the room's recent updates (``apply`` each) into a document being opened."""
        entries = await self._backlog(interview_id)
        for _, fields in entries:
            if fields.get(b"k") == Kind.UPDATE and fields.get(b"o") != self.origin:
                apply(fields[b"u"])
        # Everything after the backlog comes through the reader ("0-0": the stream was empty).
        self._last_ids[interview_id] = entries[-1][0] if entries else b"0-0"

    async def recent_updates(self, interview_id: str) -> list[bytes]:
        """Every process's updates to the room still in its stream (for a one-off read)."""
        return [
            fields[b"u"]
            for _, fields in await self._backlog(interview_id)
            if fields.get(b"k") == Kind.UPDATE
        ]

    async def _backlog(self, interview_id: str) -> list[tuple[bytes, dict[bytes, bytes]]]:
        try:
            return await self._redis.xrange(KEY_PREFIX + interview_id)
        except redis.exceptions.RedisError as error:
            self._lost(error)
            return []

    def attach(self, interview_id: str, room: Replica) -> None:
        """Follow the room's stream for ``room`` (after ``catch_up``)."""
        self._rooms[interview_id] = room
        self._last_ids.setdefault(interview_id, b"0-0")
        if self.degraded:
            room.set_degraded(True)
        self._rooms_changed.set()

    def detach(self, interview_id: str) -> None:
        """Stop following a room this process closed."""
        self._rooms.pop(interview_id, None)
        self._last_ids.pop(interview_id, None)

    # --- outgoing ----------------------------------------------------------------------------

    def publish(self, interview_id: str, kind: Kind, payload: bytes) -> None:
        """Send a local change to the other processes (batched; never waits)."""
        self._outbox.append((interview_id, kind, payload))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.get_running_loop().create_task(self._flush())

    async def _flush(self) -> None:
        # Let the rest of this event-loop turn add to the batch: one round trip for all of it.
        await asyncio.sleep(0)
        while self._outbox:
            batch, self._outbox = self._outbox, []
            oldest_kept = int((time.time() - self.retention_seconds) * 1000)
            expire_ms = int(self.retention_seconds * 2000)
            try:
                async with self._redis.pipeline(transaction=False) as pipe:
                    keys = set()
                    for interview_id, kind, payload in batch:
                        key = KEY_PREFIX + interview_id
                        fields: dict[Any, Any] = {"o": self.origin, "k": kind.value, "u": payload}
                        pipe.xadd(key, fields, minid=oldest_kept, approximate=True)
                        keys.add(key)
                    for key in keys:
                        pipe.pexpire(key, expire_ms)
                    await pipe.execute()
            except redis.exceptions.RedisError as error:
                # Dropped, not queued: on reconnecting every room re-sends its whole state.
                self._lost(error)

    # --- incoming ----------------------------------------------------------------------------

    async def _follow(self) -> None:
        backoff = 0.1
        while True:
            if not self._rooms:
                self._rooms_changed.clear()
                await self._rooms_changed.wait()
                continue
            streams: dict[Any, Any] = {
                KEY_PREFIX + room: self._last_ids.get(room, b"0-0") for room in self._rooms
            }
            try:
                reply = await self._redis.xread(streams, block=READ_BLOCK_MS, count=1000)
            except redis.exceptions.RedisError as error:
                self._lost(error)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
                continue
            backoff = 0.1
            if self.degraded:
                self._recovered()
            for key, entries in reply or []:
                interview_id = key.decode().removeprefix(KEY_PREFIX)
                room = self._rooms.get(interview_id)
                if room is None or not entries:
                    continue
                self._last_ids[interview_id] = entries[-1][0]
                for _, fields in entries:
                    if fields.get(b"o") == self.origin:
                        continue
                    if fields.get(b"k") == Kind.UPDATE:
                        room.apply_remote_update(fields[b"u"])
                    elif fields.get(b"k") == Kind.AWARENESS:
                        room.apply_remote_awareness(fields[b"u"])

    # --- losing and finding Redis --------------------------------------------------------------

    def _lost(self, error: Exception) -> None:
        if not self.degraded:
            logger.warning("collab relay: Redis unreachable (%s); rooms serve locally", error)
        self._set_degraded(True)

    def _recovered(self) -> None:
        logger.warning("collab relay: Redis is back; re-sending %d open rooms", len(self._rooms))
        self._set_degraded(False)
        for interview_id, room in list(self._rooms.items()):
            self.publish(interview_id, Kind.UPDATE, room.full_state())

    def _set_degraded(self, degraded: bool) -> None:
        if degraded == self.degraded:
            return
        self.degraded = degraded
        for room in list(self._rooms.values()):
            room.set_degraded(degraded)
