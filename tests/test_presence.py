"""Presence: online while any page of a participant beats, offline on leave or silence.

Every behaviour is checked on both implementations: in this process (with a clock the test
moves) and in Redis (logical database 13, flushed; Redis's own clock, so the test waits).
Two ``RedisPresence`` objects on one database stand for two processes of a fleet.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import pytest
import redis.asyncio as aioredis

from rivendell.presence import KEY_PREFIX, LocalPresence, Presence, RedisPresence
from tests.conftest import fresh_redis_database

REDIS_DB = 13
TIMEOUT = 1.0

Advance = Callable[[float], Awaitable[None]]


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    with fresh_redis_database(REDIS_DB) as url:
        yield url


@contextlib.asynccontextmanager
async def flushed_client(url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.from_url(url)
    await client.flushdb()
    try:
        yield client
    finally:
        await client.flushdb()
        await client.aclose()


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    async with flushed_client(redis_url) as client:
        yield client


@pytest.fixture(params=["local", "redis"])
async def presence(
    request: pytest.FixtureRequest,
) -> AsyncIterator[tuple[Presence, Advance]]:
    """A presence registry and a way to let time pass for it."""
    if request.param == "local":
        now = [0.0]

        async def move(seconds: float) -> None:
            now[0] += seconds

        yield LocalPresence(timeout=TIMEOUT, clock=lambda: now[0]), move
        return
    async with flushed_client(request.getfixturevalue("redis_url")) as client:
        yield RedisPresence(client, TIMEOUT), asyncio.sleep


async def test_first_beat_brings_a_seat_online_and_later_beats_do_not(
    presence: tuple[Presence, Advance],
) -> None:
    registry, _ = presence
    assert await registry.beat(client="tab1", seat=("room", 1)) is True
    assert await registry.beat(client="tab1", seat=("room", 1)) is False
    assert await registry.beat(client="tab2", seat=("room", 1)) is False
    assert await registry.online("room") == {1}
    assert await registry.online("other") == set()
    assert await registry.online_in(["room", "other"]) == {"room": {1}, "other": set()}


async def test_seat_goes_offline_only_when_its_last_page_leaves(
    presence: tuple[Presence, Advance],
) -> None:
    registry, _ = presence
    await registry.beat(client="tab1", seat=("room", 1))
    await registry.beat(client="tab2", seat=("room", 1))
    assert await registry.leave("tab1") is None
    assert await registry.online("room") == {1}
    assert await registry.leave("tab2") == ("room", 1)
    assert await registry.online("room") == set()
    assert await registry.leave("tab2") is None


async def test_silent_pages_are_swept_after_the_timeout(
    presence: tuple[Presence, Advance],
) -> None:
    registry, advance = presence
    await registry.beat(client="quiet", seat=("room", 1))
    await registry.beat(client="chatty", seat=("room", 2))
    await advance(0.6 * TIMEOUT)
    await registry.beat(client="chatty", seat=("room", 2))
    assert await registry.sweep() == []
    await advance(0.5 * TIMEOUT)
    assert await registry.sweep() == [("room", 1)]
    assert await registry.online("room") == {2}
    assert await registry.sweep() == []


async def test_a_page_that_moves_to_another_room_leaves_the_first(
    presence: tuple[Presence, Advance],
) -> None:
    registry, _ = presence
    await registry.beat(client="tab", seat=("a", 1))
    assert await registry.beat(client="tab", seat=("b", 7)) is True
    assert await registry.online("a") == set()
    assert await registry.online("b") == {7}


async def test_dropping_a_room_forgets_its_pages_and_no_other(
    presence: tuple[Presence, Advance],
) -> None:
    registry, advance = presence
    await registry.beat(client="tab1", seat=("gone", 1))
    await registry.beat(client="tab2", seat=("gone", 1))
    await registry.beat(client="tab3", seat=("gone", 2))
    await registry.beat(client="tab4", seat=("kept", 1))
    assert sorted(await registry.drop_room("gone")) == [("gone", 1), ("gone", 2)]
    assert await registry.online_in(["gone", "kept"]) == {"gone": set(), "kept": {1}}
    assert await registry.leave("tab1") is None
    await advance(1.2 * TIMEOUT)
    assert await registry.sweep() == [("kept", 1)]


async def test_every_change_of_a_seat_is_reported_to_one_process_only(
    redis_client: aioredis.Redis,
) -> None:
    one, other = RedisPresence(redis_client, TIMEOUT), RedisPresence(redis_client, TIMEOUT)
    came = await asyncio.gather(
        *(p.beat(client=f"tab{i}", seat=("room", 1)) for i, p in enumerate([one, other] * 5))
    )
    assert came.count(True) == 1
    await one.beat(client="alone", seat=("room", 2))
    left = await asyncio.gather(one.leave("alone"), other.leave("alone"))
    assert sorted(left, key=str) == [("room", 2), None]
    await asyncio.sleep(1.2 * TIMEOUT)
    swept = await asyncio.gather(one.sweep(), other.sweep(), one.sweep())
    assert sorted(seat for gone in swept for seat in gone) == [("room", 1)]


async def test_redis_keys_expire_and_stay_under_the_prefix(redis_client: aioredis.Redis) -> None:
    await RedisPresence(redis_client, TIMEOUT).beat(client="tab", seat=("room", 1))
    keys = sorted(key.decode() for key in await redis_client.keys("*"))
    assert keys == [f"{KEY_PREFIX}:{name}" for name in ("pages", "room:room", "seen")]
    for key in keys:
        assert 0 < await redis_client.pttl(key) <= TIMEOUT * 1000 * 10


async def test_without_redis_presence_is_empty_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = aioredis.from_url("redis://127.0.0.1:9/0", socket_connect_timeout=1)
    registry = RedisPresence(client, TIMEOUT)
    with caplog.at_level(logging.WARNING, logger="rivendell.presence"):
        assert await registry.beat(client="tab", seat=("room", 1)) is False
        assert await registry.online("room") == set()
        assert await registry.leave("tab") is None
        assert await registry.sweep() == []
        assert await registry.drop_room("room") == []
    assert "Redis unreachable" in caplog.text
    await client.aclose()
