"""The room event bus: every subscriber gets every event, and a failing one hurts no other.

With Redis (logical database 13; the restart test uses a redis-server of its own) each
``process`` below is what one server process holds: an ``EventBus`` with its ``RedisRelay``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Iterator

import pytest
import redis.asyncio as aioredis

from rivendell.events import EventBus, EventType, RedisRelay, RoomEvent, channel_for
from tests.conftest import OwnRedis, fresh_redis_database

REDIS_DB = 13


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


async def test_local_only_subscribers_hear_nothing_from_other_processes() -> None:
    bus = EventBus()
    everywhere: list[RoomEvent] = []
    here: list[RoomEvent] = []

    async def anywhere(event: RoomEvent) -> None:
        everywhere.append(event)

    async def own(event: RoomEvent) -> None:
        here.append(event)

    bus.subscribe(anywhere)
    bus.subscribe(own, local_only=True)
    mine, theirs = RoomEvent("room", EventType.USER_JOINED), RoomEvent("room", EventType.USER_LEFT)
    bus.publish(mine)
    bus.deliver_remote(theirs)
    await bus.drain()
    assert everywhere == [mine, theirs]
    assert here == [mine]


def test_the_channel_is_named_after_the_logical_database() -> None:
    assert channel_for("redis://127.0.0.1:6379/7") == "rivendell:7:events"
    assert channel_for("redis://redis.internal") == "rivendell:0:events"


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    with fresh_redis_database(REDIS_DB) as url:
        yield url


async def until(predicate: Callable[[], bool], within: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


class Process:
    """What one server process holds: its bus, relayed over Redis, and what it heard."""

    def __init__(self, relay: RedisRelay) -> None:
        self.bus, self.relay = relay.bus, relay
        self.heard: list[RoomEvent] = []
        self.heard_local_only: list[RoomEvent] = []

        async def hear(event: RoomEvent) -> None:
            self.heard.append(event)

        async def hear_own(event: RoomEvent) -> None:
            self.heard_local_only.append(event)

        self.bus.subscribe(hear)
        self.bus.subscribe(hear_own, local_only=True)


@contextlib.asynccontextmanager
async def process(redis_url: str) -> AsyncIterator[Process]:
    async with RedisRelay(EventBus(), redis_url) as relay:
        await asyncio.wait_for(relay.subscribed.wait(), timeout=10)
        yield Process(relay)


async def test_an_event_reaches_every_process_once(redis_url: str) -> None:
    async with process(redis_url) as a, process(redis_url) as b, process(redis_url) as c:
        event = RoomEvent("room", EventType.PROBLEM_UPDATED, {"by": "api", "n": 1})
        a.bus.publish(event)
        await until(lambda: len(b.heard) == 1 and len(c.heard) == 1)
        assert b.heard == c.heard == [event]
        await asyncio.sleep(0.2)  # its own copy comes back from Redis too: it must be skipped
        await a.bus.drain()
        assert a.heard == a.heard_local_only == [event]
        assert b.heard_local_only == c.heard_local_only == []
        assert len(b.heard) == 1


async def test_events_arrive_in_the_order_they_were_published(redis_url: str) -> None:
    async with process(redis_url) as a, process(redis_url) as b:
        for n in range(200):
            a.bus.publish(RoomEvent("room", EventType.EXECUTION_STARTED, {"run_id": n}))
        await until(lambda: len(b.heard) == 200)
        assert [e.data["run_id"] for e in b.heard] == list(range(200))


async def test_a_malformed_message_is_logged_and_skipped(
    redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with process(redis_url) as b:
        client = aioredis.from_url(redis_url)
        for junk in (b"not json", b'{"origin": "x", "type": "no_such_type"}', b"[1, 2]"):
            await client.publish(b.relay.channel, junk)
        await client.aclose()
        async with process(redis_url) as a:
            a.bus.publish(RoomEvent("room", EventType.USER_LEFT, {"id": 3}))
            await until(lambda: len(b.heard) == 1)
    assert b.heard == [RoomEvent("room", EventType.USER_LEFT, {"id": 3})]
    assert caplog.text.count("ignored a malformed message") == 3


async def test_the_relay_reconnects_by_itself_after_redis_restarts(
    own_redis: OwnRedis, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="rivendell.events")
    async with process(own_redis.url) as a, process(own_redis.url) as b:
        own_redis.stop()
        await until(lambda: not a.relay.subscribed.is_set() and not b.relay.subscribed.is_set())
        a.bus.publish(RoomEvent("room", EventType.USER_JOINED, {"id": 1}))  # lost: Redis is down
        await until(lambda: "not sent to other instances" in caplog.text)
        own_redis.start()
        await until(lambda: a.relay.subscribed.is_set() and b.relay.subscribed.is_set(), 30)
        a.bus.publish(RoomEvent("room", EventType.USER_JOINED, {"id": 2}))
        await until(lambda: len(b.heard) == 1)
        assert b.heard[0].data == {"id": 2}
    assert "event relay: lost Redis" in caplog.text
    assert "event relay: listening to Redis again" in caplog.text
