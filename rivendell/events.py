"""The room event bus: every change to a room is announced here once, whoever made it.

Writers call :func:`publish` after their ``crud`` write commits; the room's shared Reflex state
(and later the API stream and other instances) subscribe. In-process by default.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = ["EventBus", "EventType", "RoomEvent", "bus"]

logger = logging.getLogger(__name__)


class EventType(StrEnum):
    """What happened in a room (the names the API's event stream will carry)."""

    USER_JOINED = "user_joined"
    USER_LEFT = "user_left"
    PROBLEM_UPDATED = "problem_updated"
    LANGUAGE_CHANGED = "language_changed"
    CODE_SAVED = "code_saved"
    EXECUTION_STARTED = "execution_started"
    EXECUTION_COMPLETED = "execution_completed"
    SESSION_ENDED = "session_ended"


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
        self._subscribers: list[Subscriber] = []
        self._tasks: set[asyncio.Task[None]] = set()

    def subscribe(self, subscriber: Subscriber) -> None:
        """Receive every later event."""
        if subscriber not in self._subscribers:
            self._subscribers.append(subscriber)

    def unsubscribe(self, subscriber: Subscriber) -> None:
        """Stop receiving events."""
        if subscriber in self._subscribers:
            self._subscribers.remove(subscriber)

    def publish(self, event: RoomEvent) -> None:
        """Announce ``event``; returns at once (call it from the event loop)."""
        for subscriber in list(self._subscribers):
            task = asyncio.get_running_loop().create_task(self._deliver(subscriber, event))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait until every event published so far was delivered (tests and shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    @staticmethod
    async def _deliver(subscriber: Subscriber, event: RoomEvent) -> None:
        try:
            await subscriber(event)
        except Exception:
            logger.exception("room %s: a subscriber failed on %s", event.interview_id, event.type)


bus = EventBus()
