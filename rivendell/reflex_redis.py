"""Keeps Reflex's Redis listeners alive across a Redis restart (with ``REFLEX_REDIS_URL``).

Reflex listens on Redis pub/sub in three tasks per worker: lock releases (its state manager),
socket records and "lost and found" state updates for this worker's browsers (its token
manager). Each gives up for good after five failures within a minute, so a Redis outage of more
than a few seconds kills all three and nothing restarts them until a new browser connects (or
never, for the lock listener): updates made on another worker stop reaching this worker's
browsers, and contended events wait out the whole lock timeout. A restarted Redis has also
forgotten the keyspace notifications Reflex turned on, which the lock and socket listeners need,
and, unless it persists its data, every page's state: Reflex then rebuilds a page's state on its
next event without what the browser stores (its tokens), and that first event is lost.

Reflex 0.10 has no option for this, so ``supervise`` does it from outside, every two seconds
while Redis answers: it restarts any of the three that stopped (Reflex's own idempotent
"ensure" calls, which start a task only when the previous one is done) and, when Redis has
restarted, turns the notifications on again and disconnects this worker's browsers: each
reconnects with its next event (a room's heartbeat comes within 4 s) and Reflex hydrates it
from scratch with what it stores, as after a network blip. A click that is the page's first
event then may do nothing while the page gets its state back. (Closing the transport instead,
which browsers reconnect from at once, left them connected but unanswered here.)

It changes nothing inside Reflex: the only non-public names it uses are the ones in
``_listeners``, checked by a test so that a Reflex upgrade which renames them fails there
rather than here in production.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any, cast

import redis.asyncio as aioredis
import redis.exceptions
from reflex.istate.manager.redis import StateManagerRedis, enable_keyspace_notifications
from reflex.utils.token_manager import RedisTokenManager

__all__ = ["SUPERVISE_INTERVAL_SECONDS", "Listener", "RedisListeners", "supervise"]

logger = logging.getLogger(__name__)

SUPERVISE_INTERVAL_SECONDS = 2.0


@dataclasses.dataclass(frozen=True)
class Listener:
    """One of Reflex's listener tasks: where Reflex keeps it, and its own idempotent starter."""

    owner: object
    attribute: str
    start: Callable[[], object]

    def restart_if_stopped(self) -> None:
        """Start it again if it stopped, saying why it did."""
        task = getattr(self.owner, self.attribute, None)
        if isinstance(task, asyncio.Task) and task.done():
            # Retrieved here, or asyncio logs it again as "never retrieved" when it is dropped.
            error = None if task.cancelled() else task.exception()
            logger.warning("restarting Reflex's Redis listener %s (%s)", self.attribute, error)
        self.start()


def _listeners(app: Any) -> list[Listener]:
    """This worker's Reflex listener tasks (none without Redis)."""
    found: list[Listener] = []
    manager = app.state_manager
    if isinstance(manager, StateManagerRedis):
        found.append(Listener(manager, "_lock_task", manager._ensure_lock_task))
    namespace = app.event_namespace
    tokens = getattr(namespace, "_token_manager", None) if namespace is not None else None
    if isinstance(tokens, RedisTokenManager):
        emit = namespace.emit_update
        found += [
            Listener(tokens, "_socket_record_task", tokens._ensure_socket_record_task),
            Listener(
                tokens, "_lost_and_found_task", lambda: tokens.ensure_lost_and_found_task(emit)
            ),
        ]
    return found


async def _reconnect_browsers(app: Any) -> None:
    """Make every browser of this worker reconnect (Reflex hydrates it again when it does)."""
    namespace = app.event_namespace
    if namespace is None:
        return
    sids = list(namespace.sid_to_token)
    for sid in sids:
        await namespace.disconnect(sid)
    if sids:
        logger.warning("Redis restarted: %d browsers reconnect to get their state back", len(sids))


class RedisListeners:
    """One worker's view of its Redis: which server it last saw, and whether it answered."""

    def __init__(
        self,
        client: aioredis.Redis,
        listeners: Callable[[], list[Listener]],
        restarted: Callable[[], Awaitable[None]],
    ) -> None:
        self.client = client
        self._listeners = listeners
        self._restarted = restarted
        self.run_id: str | None = None
        self.reachable = True

    async def check(self) -> None:
        """One round: when Redis answers, restart stopped listeners; after a restart, notify."""
        try:
            info = await cast(Awaitable[dict[str, Any]], self.client.info("server"))
        except redis.exceptions.RedisError as error:
            if self.reachable:
                logger.error("Redis unreachable (%s); Reflex events wait for it", error)
            self.reachable = False
            return
        run_id = str(info.get("run_id", ""))
        restarted = self.run_id is not None and run_id != self.run_id
        if not self.reachable or run_id != self.run_id:
            if self.run_id is not None:
                logger.warning("Redis is back%s", " (restarted)" if restarted else "")
            try:
                await enable_keyspace_notifications(self.client)
            except redis.exceptions.ResponseError as error:  # a managed Redis may refuse CONFIG
                logger.warning("could not turn on Redis keyspace notifications: %s", error)
            self.run_id, self.reachable = run_id, True
        for listener in self._listeners():
            listener.restart_if_stopped()
        if restarted:
            await self._restarted()


async def supervise(app: Any, redis_url: str, interval: float = SUPERVISE_INTERVAL_SECONDS) -> None:
    """Keep this worker's Reflex listeners running until cancelled (a lifespan task)."""
    client = aioredis.from_url(redis_url, socket_connect_timeout=3, socket_timeout=3)
    listeners = RedisListeners(
        client, lambda: _listeners(app), functools.partial(_reconnect_browsers, app)
    )
    try:
        while True:
            try:
                await listeners.check()
            except Exception:
                logger.exception("supervising Reflex's Redis listeners failed; retrying")
            await asyncio.sleep(interval)
    finally:
        await client.aclose()
