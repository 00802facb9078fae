"""The room event bus: every subscriber gets every event, and a failing one hurts no other."""

from __future__ import annotations

import asyncio

import pytest

from rivendell.events import EventBus, EventType, RoomEvent


async def test_every_subscriber_receives_each_event() -> None:
    bus = EventBus()
    seen: list[tuple[str, RoomEvent]] = []

    async def first(event: RoomEvent) -> None:
        seen.append(("first", event))

    async def second(event: RoomEvent) -> None:
        seen.append(("second", event))

    bus.subscribe(first)
    bus.subscribe(second)
    bus.subscribe(first)
    event = RoomEvent("room", EventType.PROBLEM_UPDATED)
    bus.publish(event)
    await bus.drain()
    assert sorted(name for name, _ in seen) == ["first", "second"]
    assert all(got is event for _, got in seen)


async def test_publish_never_runs_a_subscriber_inline() -> None:
    bus = EventBus()
    lock = asyncio.Lock()
    delivered = asyncio.Event()

    async def needs_lock(_event: RoomEvent) -> None:
        async with lock:
            delivered.set()

    bus.subscribe(needs_lock)
    async with lock:
        bus.publish(RoomEvent("room", EventType.USER_JOINED))
        assert not delivered.is_set()
    await asyncio.wait_for(delivered.wait(), timeout=5)


async def test_a_failing_subscriber_is_logged_and_others_still_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bus = EventBus()
    got: list[RoomEvent] = []

    async def broken(_event: RoomEvent) -> None:
        raise RuntimeError("boom")

    async def healthy(event: RoomEvent) -> None:
        got.append(event)

    bus.subscribe(broken)
    bus.subscribe(healthy)
    bus.publish(RoomEvent("room", EventType.USER_LEFT))
    await bus.drain()
    assert len(got) == 1
    assert "a subscriber failed" in caplog.text


async def test_unsubscribed_functions_get_nothing() -> None:
    bus = EventBus()
    got: list[RoomEvent] = []

    async def listener(event: RoomEvent) -> None:
        got.append(event)

    bus.subscribe(listener)
    bus.unsubscribe(listener)
    bus.publish(RoomEvent("room", EventType.USER_LEFT))
    await bus.drain()
    assert got == []
