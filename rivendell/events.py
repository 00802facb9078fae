"""The room event bus: every change to a room is announced here once, whoever made it.

Writers call :func:`EventBus.publish` after their ``crud`` write commits; the room's shared Reflex
state and the API event stream subscribe. In-process by default. With Redis configured a
:class:`RedisRelay` (started by the app's lifespan) also sends each event to every other process
of the fleet, every Granian worker of every instance, over one pub/sub channel, and delivers
theirs here.

Two kinds of subscriber: most want every event of the fleet (an API stream relays a room's
events to a client connected to this process, whoever caused them); a ``local_only`` one wants
only what this process published (the room's ``RoomState`` lives in Redis with several
instances: the publishing process updates it once, for everyone).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Self

import redis.asyncio as aioredis
import redis.exceptions
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.connection import parse_url

__all__ = [
    "EventBus",
    "EventType",
    "RedisRelay",
    "RoomEvent",
    "bus",
    "channel_for",
]

logger = logging.getLogger(__name__)


class EventType(StrEnum):
    """What happened in a room (the names the API's event stream carries)."""

    USER_JOINED = "user_joined"
    USER_LEFT = "user_left"
    PROBLEM_UPDATED = "problem_updated"
    LANGUAGE_CHANGED = "language_changed"
    EXECUTION_STARTED = "execution_started"
    EXECUTION_COMPLETED = "execution_completed"
    # The test cases were added, changed or removed (data: no case's content, which may be hidden).
    TESTS_CHANGED = "tests_changed"
    # "Run tests" finished (data: passed, total); each case's run also starts and completes
    # like any run, with its test_case_id in the data.
    TESTS_COMPLETED = "tests_completed"
    SESSION_ENDED = "session_ended"
    # The interviewer's toolkit. NOTES_CHANGED carries only the note's id (notes are private:
    # the API stream never relays it); CONTROLS_CHANGED the room's {locked, run_disabled}.
    NOTES_CHANGED = "notes_changed"
    CONTROLS_CHANGED = "controls_changed"


@dataclass(frozen=True, slots=True)
class RoomEvent:
    """One thing that happened in one room."""

    interview_id: str
    type: EventType
    data: dict[str, Any] = field(default_factory=dict)


Subscriber = Callable[[RoomEvent], Awaitable[None]]


class EventBus:
    """Fans each event out to every subscriber, each in its own task.

    Delivery never runs inside the publisher's call: a publisher may hold the room's state lock,
    and a subscriber that takes the same lock would otherwise wait on itself.
    """

    def __init__(self) -> None:
        # subscriber -> whether it wants only this process's own events
        self._subscribers: dict[Subscriber, bool] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._forward: Callable[[RoomEvent], None] | None = None

    def subscribe(self, subscriber: Subscriber, *, local_only: bool = False) -> None:
        """Receive every later event; with ``local_only``, only those published in this process."""
        self._subscribers.setdefault(subscriber, local_only)

    def unsubscribe(self, subscriber: Subscriber) -> None:
        """Stop receiving events."""
        self._subscribers.pop(subscriber, None)

    def publish(self, event: RoomEvent) -> None:
        """Announce ``event`` here and to the fleet; returns at once (call it from the loop)."""
        self._fan_out(event, remote=False)
        if self._forward is not None:
            self._forward(event)

    def deliver_remote(self, event: RoomEvent) -> None:
        """Hand an event another process published to this process's subscribers."""
        self._fan_out(event, remote=True)

    def connect(self, forward: Callable[[RoomEvent], None] | None) -> None:
        """Send every later published event to ``forward`` too; None stops."""
        self._forward = forward

    async def drain(self) -> None:
        """Wait until every event published so far was delivered (tests and shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _fan_out(self, event: RoomEvent, *, remote: bool) -> None:
        loop = asyncio.get_running_loop()
        for subscriber, local_only in list(self._subscribers.items()):
            if remote and local_only:
                continue
            task = loop.create_task(self._deliver(subscriber, event))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _deliver(subscriber: Subscriber, event: RoomEvent) -> None:
        try:
            await subscriber(event)
        except Exception:
            logger.exception("room %s: a subscriber failed on %s", event.interview_id, event.type)


bus = EventBus()


def channel_for(redis_url: str) -> str:
    """The fleet's event channel; named after the logical database, which pub/sub ignores."""
    return f"rivendell:{parse_url(redis_url).get('db', 0)}:events"


class RedisRelay:
    """Carries one process's room events to the rest of the fleet over Redis, and theirs back.

    Every process subscribes to one channel. Each message is JSON with an ``origin`` drawn when
    the relay starts (after Granian forked the worker), so a process skips its own messages:
    it delivered them when it published them. Sending goes through one queue and one task, in
    order; when Redis is unreachable the events are logged and dropped (the database holds the
    truth; the next event rebuilds what a room shows). The listener reconnects by itself, with
    exponential backoff, and logs each outage and recovery.
    """

    MIN_BACKOFF = 0.1
    MAX_BACKOFF = 5.0
    OUTBOX_SIZE = 10_000

    def __init__(self, event_bus: EventBus, redis_url: str, *, channel: str | None = None) -> None:
        self.bus = event_bus
        self.channel = channel or channel_for(redis_url)
        self.origin = secrets.token_hex(8)
        self.subscribed = asyncio.Event()
        """Set while the listener is subscribed (tests wait for it)."""
        self._url = redis_url
        self._client: aioredis.Redis | None = None
        self._outbox: asyncio.Queue[str] = asyncio.Queue(maxsize=self.OUTBOX_SIZE)
        self._tasks: list[asyncio.Task[None]] = []
        self._dropped = 0

    async def __aenter__(self) -> Self:
        # No retries inside redis-py: the loops below decide, and log, when to try again.
        self._client = aioredis.from_url(
            self._url,
            retry=Retry(NoBackoff(), 0),
            socket_connect_timeout=2,
            health_check_interval=5,
        )
        self._tasks = [
            asyncio.create_task(self._listen(self._client), name="rivendell-events-listen"),
            asyncio.create_task(self._send(self._client), name="rivendell-events-send"),
        ]
        self.bus.connect(self._enqueue)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.bus.connect(None)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._client is not None:
            await self._client.aclose()

    def _enqueue(self, event: RoomEvent) -> None:
        message = json.dumps(
            {
                "origin": self.origin,
                "interview_id": event.interview_id,
                "type": event.type.value,
                "data": event.data,
            }
        )
        try:
            self._outbox.put_nowait(message)
        except asyncio.QueueFull:
            self._drop(event.type.value, "the outbox is full")

    def _drop(self, what: str, why: str) -> None:
        self._dropped += 1
        if self._dropped == 1 or self._dropped % 100 == 0:
            logger.warning(
                "event relay: %s not sent to other instances (%s); %d dropped so far",
                what,
                why,
                self._dropped,
            )

    async def _send(self, client: aioredis.Redis) -> None:
        while True:
            message = await self._outbox.get()
            try:
                await client.publish(self.channel, message)
            except (redis.exceptions.RedisError, OSError) as error:
                self._drop("an event", f"Redis: {error}")

    async def _listen(self, client: aioredis.Redis) -> None:
        backoff, outage = self.MIN_BACKOFF, False
        while True:
            try:
                async with client.pubsub() as pubsub:
                    await pubsub.subscribe(self.channel)
                    self.subscribed.set()
                    if outage:
                        logger.warning("event relay: listening to Redis again")
                    backoff, outage = self.MIN_BACKOFF, False
                    while True:
                        message = await pubsub.get_message(timeout=1.0)
                        if message is not None and message.get("type") == "message":
                            self._receive(message["data"])
            except (redis.exceptions.RedisError, OSError) as error:
                self.subscribed.clear()
                logger.warning(
                    "event relay: lost Redis (%s: %s); retrying in %.1f s",
                    type(error).__name__,
                    error,
                    backoff,
                )
                outage = True
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.MAX_BACKOFF)

    def _receive(self, raw: bytes | str) -> None:
        try:
            message = json.loads(raw)
            if message.get("origin") == self.origin:
                return
            event = RoomEvent(
                str(message["interview_id"]), EventType(message["type"]), dict(message["data"])
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            logger.warning("event relay: ignored a malformed message on %s", self.channel)
            return
        self.bus.deliver_remote(event)
