"""Reflex's Redis listeners come back after a Redis restart, on a redis-server of the test's own.

Reflex's real state and token managers run against it; the "app" is only the two attributes the
supervisor reads (``state_manager``, ``event_namespace``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import redis
import redis.asyncio as aioredis
from reflex.istate.manager.redis import StateManagerRedis
from reflex.utils.token_manager import RedisTokenManager

from rivendell.reflex_redis import RedisListeners, _listeners
from tests.faults.services import RedisServer


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def reflex_app(redis_server: RedisServer) -> AsyncIterator[Any]:
    """Reflex's Redis state manager and token manager, as one worker of the app holds them."""

    async def emit_update(update: object, token: str) -> None:
        return None

    manager = StateManagerRedis(redis=aioredis.from_url(redis_server.url))
    tokens = RedisTokenManager(aioredis.from_url(redis_server.url))
    app = SimpleNamespace(
        state_manager=manager,
        event_namespace=SimpleNamespace(_token_manager=tokens, emit_update=emit_update),
    )
    yield app
    await tokens.close()
    await manager.close()


def _tasks(app: Any) -> list[asyncio.Task[None] | None]:
    return [getattr(listener.owner, listener.attribute) for listener in _listeners(app)]


def _subscriptions(server: RedisServer) -> int:
    client = redis.Redis.from_url(server.url)
    try:
        return sum(int(c.get("psub", 0)) for c in client.client_list())
    finally:
        client.close()


async def _until(check: Any, what: str, seconds: float = 90.0) -> None:
    for _ in range(int(seconds * 10)):
        if check():
            return
        await asyncio.sleep(0.1)
    pytest.fail(what)


async def test_the_supervisor_finds_reflexs_three_listeners(reflex_app: Any) -> None:
    # The non-public names the supervisor relies on: a Reflex upgrade renaming them fails here.
    found = _listeners(reflex_app)
    assert [listener.attribute for listener in found] == [
        "_lock_task",
        "_socket_record_task",
        "_lost_and_found_task",
    ]
    for listener in found:
        assert hasattr(listener.owner, listener.attribute)
        listener.restart_if_stopped()
        assert not getattr(listener.owner, listener.attribute).done()
    assert _listeners(SimpleNamespace(state_manager=None, event_namespace=None)) == []


async def test_listeners_and_notifications_come_back_after_a_restart(
    reflex_app: Any, redis_server: RedisServer
) -> None:
    restarts: list[str | None] = []

    async def restarted() -> None:
        restarts.append(listeners.run_id)

    listeners = RedisListeners(
        aioredis.from_url(redis_server.url, socket_connect_timeout=1),
        lambda: _listeners(reflex_app),
        restarted,
    )
    try:
        await listeners.check()
        assert all(task is not None and not task.done() for task in _tasks(reflex_app))
        await _until(lambda: _subscriptions(redis_server) == 4, "all four patterns subscribed")
        first_run = listeners.run_id
        await listeners.check()
        assert restarts == []

        redis_server.stop()
        # Reflex's listeners give up after five failures in a minute; the supervisor waits.
        await _until(
            lambda: all(task is not None and task.done() for task in _tasks(reflex_app)),
            "Reflex's listeners gave up while Redis was down",
        )
        await listeners.check()
        assert not listeners.reachable
        assert all(task is not None and task.done() for task in _tasks(reflex_app))

        redis_server.start()
        assert redis.Redis.from_url(redis_server.url).config_get("notify-keyspace-events") == {
            "notify-keyspace-events": ""
        }
        await listeners.check()
        assert listeners.reachable
        assert listeners.run_id != first_run
        assert restarts == [listeners.run_id]  # once: the browsers are told to reconnect
        await listeners.check()
        assert len(restarts) == 1
        assert all(task is not None and not task.done() for task in _tasks(reflex_app))
        await _until(lambda: _subscriptions(redis_server) == 4, "all four patterns again")
        events = redis.Redis.from_url(redis_server.url).config_get("notify-keyspace-events")
        assert "K" in events["notify-keyspace-events"]
    finally:
        await listeners.client.aclose()
