"""The collaboration server: ``/ws/collab/{interview_id}?token=…`` speaks the y-websocket protocol.

Only participants get in: the token is checked before a single document byte is sent. Each room
is created, seeded from the database and started before its first client is served, so clients
arriving together all get their initial sync. A room idle for ``idle_seconds`` (up to half as
long again, so that rooms left together do not all close at once) is saved and stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import random
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from anyio import create_task_group
from anyio.abc import TaskGroup
from pycrdt import Doc, Text
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rivendell.collab.channel import ClientChannel, Limits
from rivendell.collab.relay import Relay
from rivendell.collab.room import CODE, CollabRoom, SaveDocument, is_cancellation, new_document

__all__ = ["PATH_PREFIX", "Admission", "CollabServer", "Refused"]

logger = logging.getLogger(__name__)

PATH_PREFIX = "/ws/collab/"

# A change is committed at most SAVE_DELAY + the group commit's wait (GroupSaver.min_interval,
# 0.1 s) + one commit after it is made: under the one second a restart may lose, and the stored
# code another worker's Run falls back to is as fresh. Each typing room saves about 1.4 times a
# second.
SAVE_DELAY = 0.7


@dataclass(frozen=True, slots=True)
class Admission:
    """Who a token belongs to, as far as the document cares."""

    participant_id: int
    read_only: bool
    interviewer: bool = False
    # The room's lock when the socket was admitted; later changes come through ``set_locked``.
    locked: bool = False


class Refused(Exception):
    """A connection the server turns away: a WebSocket close code and a reason for the user."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


Admit = Callable[[str, str], Awaitable[Admission]]
"""Checks (interview id, token); raises ``Refused``."""
Load = Callable[[str], Awaitable[tuple[bytes | None, str]]]
"""Loads (stored document state or ``None``, the interview's code to seed with)."""


class CollabServer:
    """Every open room of this process; an async context manager that owns their tasks."""

    def __init__(
        self,
        *,
        admit: Admit,
        load: Load,
        save: SaveDocument,
        limits: Limits | None = None,
        max_document_bytes: int = 1024 * 1024,
        save_delay: float = SAVE_DELAY,
        idle_seconds: float = 30.0,
        relay: Relay | None = None,
        writer: contextlib.AbstractAsyncContextManager[Any] | None = None,
    ) -> None:
        self._admit = admit
        self.relay = relay
        # What ``save`` stores through (rivendell.collab.writer): running before the first room
        # opens, stopped after the last one saved.
        self._writer = writer
        self._load = load
        self._save = save
        self.limits = limits or Limits()
        self.max_document_bytes = max_document_bytes
        self.save_delay = save_delay
        self.idle_seconds = idle_seconds
        self.rooms: dict[str, CollabRoom] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._idle_timers: dict[str, asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._task_group: TaskGroup | None = None
        self._exit_stack: contextlib.AsyncExitStack | None = None

    async def __aenter__(self) -> CollabServer:
        stack = contextlib.AsyncExitStack()
        if self._writer is not None:
            await stack.enter_async_context(self._writer)
        if self.relay is not None:
            # Entered before the rooms start, left after them: their final updates still go out.
            await stack.enter_async_context(self.relay)
        self._task_group = await stack.enter_async_context(create_task_group())
        self._exit_stack = stack
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        for timer in self._idle_timers.values():
            timer.cancel()
        rooms = list(self.rooms.values())
        # Together: their saves then share a batch instead of queueing one behind another.
        await asyncio.gather(*(room.flush() for room in rooms))
        for room in rooms:
            with contextlib.suppress(RuntimeError):
                await room.stop()
        self.rooms.clear()
        if self._task_group is not None:
            self._task_group.cancel_scope.cancel()
        if self._exit_stack is not None:
            await self._exit_stack.aclose()
        self._task_group = self._exit_stack = None

    @property
    def running(self) -> bool:
        """Whether the server was started (inside its ``async with``)."""
        return self._task_group is not None

    def text_of(self, interview_id: str) -> str | None:
        """The code as the room's open document holds it now; ``None`` when it is not open."""
        room = self.rooms.get(interview_id)
        return room.text_value if room is not None else None

    def set_locked(self, interview_id: str, locked: bool) -> None:
        """Lock (or unlock) the room's document for candidates, if it is open here."""
        if (room := self.rooms.get(interview_id)) is not None:
            room.locked = locked

    def set_ended(self, interview_id: str) -> None:
        """Refuse every further change to the room's document, if it is open here."""
        if (room := self.rooms.get(interview_id)) is not None:
            room.ended = True

    async def current_text(self, interview_id: str) -> str | None:
        """The code as it is now anywhere in the fleet; ``None`` when this process cannot know.

        Another process (or worker) may serve the room, with changes not saved yet: its stream
        holds them all, so the stored document plus the stream is the room's document now.
        """
        if (text := self.text_of(interview_id)) is not None or self.relay is None:
            return text
        state, seed = await self._load(interview_id)
        doc = new_document(state, seed)
        for update in await self.relay.recent_updates(interview_id):
            _apply_update(doc, update)
        return str(doc.get(CODE, type=Text))

    async def get_room(self, interview_id: str) -> CollabRoom:
        """The started room for an interview, created and seeded on first use."""
        if (timer := self._idle_timers.pop(interview_id, None)) is not None:
            timer.cancel()
        room = self.rooms.get(interview_id)
        if room is not None:
            return room
        lock = self._locks.setdefault(interview_id, asyncio.Lock())
        async with lock:
            room = self.rooms.get(interview_id)
            if room is not None:
                return room
            if self._task_group is None:
                raise RuntimeError("the collaboration server is not running")
            state, seed = await self._load(interview_id)
            doc = new_document(state, seed)
            if state is None:
                # Store the seeded document before anyone sees it: re-seeding after a crash would
                # be another client's insert, and every open editor would show the code twice.
                await self._save(interview_id, doc.get_update(), seed, ())
            if self.relay is not None:
                await self.relay.catch_up(interview_id, functools.partial(_apply_update, doc))
            room = CollabRoom(
                interview_id=interview_id,
                doc=doc,
                save=self._save,
                max_document_bytes=self.max_document_bytes,
                save_delay=self.save_delay,
            )
            await self._task_group.start(room.start)
            await room.ydoc_observed.wait()
            if self.relay is not None:
                room.publish = self.relay.publish
                self.relay.attach(interview_id, room)
            self.rooms[interview_id] = room
            return room

    def _left(self, interview_id: str, room: CollabRoom) -> None:
        if room.clients or self.rooms.get(interview_id) is not room:
            return
        self._spawn(room.flush())
        # Spread over half as long again: rooms whose clients all left at once (a network blip,
        # a load test ending) would otherwise close in the same instant, about 0.1 ms of the
        # event loop each, a stall of every other room's keystrokes.
        delay = self.idle_seconds * random.uniform(1.0, 1.5)  # noqa: S311 - not a secret
        self._idle_timers[interview_id] = asyncio.get_running_loop().call_later(
            delay, lambda: self._spawn(self._close_idle(interview_id, room))
        )

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _close_idle(self, interview_id: str, room: CollabRoom) -> None:
        self._idle_timers.pop(interview_id, None)
        if room.clients or self.rooms.get(interview_id) is not room:
            return
        del self.rooms[interview_id]
        self._locks.pop(interview_id, None)
        if self.relay is not None:
            self.relay.detach(interview_id)
        await room.flush()
        with contextlib.suppress(RuntimeError):
            await room.stop()

    async def serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one WebSocket connection to ``/ws/collab/{interview_id}``."""
        message = await receive()
        if message.get("type") != "websocket.connect":
            return
        await send({"type": "websocket.accept"})
        path: str = scope.get("path", "")
        interview_id = path.removeprefix(PATH_PREFIX).strip("/")
        try:
            admission = await self._admit(interview_id, _token(scope))
        except Refused as refusal:
            # A Yjs client sends its first sync message as soon as the socket opens. Closing
            # before it arrives lets the transport reset the connection, and the client loses
            # the close frame with its reason: take that message first (never reading it).
            first: Message = {}
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(0.5):
                    first = await receive()
            if first.get("type") == "websocket.disconnect":
                return
            await send({"type": "websocket.close", "code": refusal.code, "reason": refusal.reason})
            await _drain(receive)
            return
        channel = ClientChannel(receive, send, path, self.limits)
        writer = asyncio.create_task(channel.write_loop())
        try:
            await self._serve_channel(channel, interview_id, admission)
        finally:
            channel.close(1000, "")
            gone = channel.peer_gone or await _until_quiet(receive)
            channel.may_send_close.set()
            await writer
            if not gone:
                await _drain(receive)

    async def _serve_channel(
        self, channel: ClientChannel, interview_id: str, admission: Admission
    ) -> None:
        fresh = interview_id not in self.rooms
        room = await self.get_room(interview_id)
        if fresh:
            room.locked = admission.locked
        channel.screen = lambda data: room.screen(
            channel,
            data,
            read_only=admission.read_only or room.ended,
            author=admission.participant_id,
            interviewer=admission.interviewer,
        )
        try:
            await room.serve_client(channel)
        finally:
            self._left(interview_id, room)

    def asgi(self, app: ASGIApp) -> ASGIApp:
        """Wrap ``app``: collaboration sockets come here, everything else goes to ``app``."""

        async def route(scope: Scope, receive: Receive, send: Send) -> None:
            if scope.get("type") == "websocket" and scope.get("path", "").startswith(PATH_PREFIX):
                if not self.running:
                    await receive()
                    await send({"type": "websocket.close", "code": 1013, "reason": "starting"})
                    return
                await self.serve(scope, receive, send)
                return
            await app(scope, receive, send)

        return route


def _apply_update(doc: Doc, update: bytes) -> None:
    try:
        doc.apply_update(update)
    except BaseException as error:  # pyo3 panics are BaseException
        if is_cancellation(error):
            raise
        logger.exception("collab: a relayed update did not apply")


def _token(scope: Scope) -> str:
    query = scope.get("query_string", b"").decode("latin-1")
    values = parse_qs(query).get("token", [""])
    return values[0][:256]


async def _drain(receive: Receive, within: float = 2.0) -> None:
    """Read (and drop) what the client still sends until it acknowledges the close.

    Returning at once would close the TCP connection with unread data in it, which the
    client sees as a reset instead of the close frame and its reason.
    """
    with contextlib.suppress(TimeoutError, OSError, RuntimeError):
        async with asyncio.timeout(within):
            while (await receive()).get("type") != "websocket.disconnect":
                pass


async def _until_quiet(receive: Receive, quiet: float = 0.2, within: float = 2.0) -> bool:
    """Drop what the client sends until it pauses for ``quiet`` seconds (at most ``within``).

    Returns whether the client disconnected meanwhile.
    """
    with contextlib.suppress(TimeoutError, OSError, RuntimeError):
        async with asyncio.timeout(within):
            while True:
                try:
                    async with asyncio.timeout(quiet):
                        message = await receive()
                except TimeoutError:
                    return False
                if message.get("type") == "websocket.disconnect":
                    return True
    return False
