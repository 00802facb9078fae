"""Rate limits for the costly actions (creating interviews, running code), per client and room.

A fixed window per key: at most ``limit`` hits per ``window`` seconds, then ``RateLimited`` with
the seconds until the window turns. In-process by default; with ``REFLEX_REDIS_URL`` the counters
live in Redis, so every worker and instance counts against the same window.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from functools import cache

import redis.asyncio as aioredis
import redis.exceptions

from rivendell.crud import Error
from rivendell.settings import get_settings

__all__ = ["RateLimited", "RateLimiter", "check_create", "check_run", "get_rate_limiter"]

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 60.0


class RateLimited(Error):
    """Too many of one action; ``retry_after`` says when to try again (whole seconds)."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RateLimiter:
    """Counts hits per key in fixed windows, in this process or in Redis."""

    def __init__(self, redis_url: str | None = None, *, window: float = WINDOW_SECONDS) -> None:
        self.window = window
        self._redis = aioredis.from_url(redis_url) if redis_url else None
        self._windows: dict[str, tuple[float, int]] = {}
        self._lock = asyncio.Lock()

    async def hit(self, key: str, *, limit: int) -> int | None:
        """Count one hit on ``key``; the seconds to wait when it is over ``limit``, else None."""
        if self._redis is not None:
            try:
                return await self._hit_redis(key, limit)
            except redis.exceptions.RedisError:
                # A limiter outage must not take the feature down with it: count locally.
                logger.warning("rate limits: Redis unreachable, counting in this process")
        return await self._hit_local(key, limit)

    async def _hit_local(self, key: str, limit: int) -> int | None:
        async with self._lock:
            now = time.monotonic()
            started, count = self._windows.get(key, (now, 0))
            if now - started >= self.window:
                started, count = now, 0
            if count >= limit:
                return max(1, math.ceil(started + self.window - now))
            self._windows[key] = (started, count + 1)
            if len(self._windows) > 100_000:  # forget finished windows of clients long gone
                self._windows = {k: v for k, v in self._windows.items() if now - v[0] < self.window}
            return None

    async def _hit_redis(self, key: str, limit: int) -> int | None:
        assert self._redis is not None
        name = f"rivendell:rate:{key}"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(name)
            pipe.expire(name, math.ceil(self.window), nx=True)
            pipe.ttl(name)
            count, _, ttl = await pipe.execute()
        if int(count) > limit:
            return max(1, int(ttl))
        return None


@cache
def get_rate_limiter() -> RateLimiter:
    """This process's limiter, on Redis when the settings name one."""
    return RateLimiter(get_settings().redis_url)


async def check_create(*, client: str) -> None:
    """Refuse a new interview when ``client`` created too many in the last window."""
    limit = get_settings().rate_create_per_minute
    if wait := await get_rate_limiter().hit(f"create:{client}", limit=limit):
        raise RateLimited(f"too many new interviews; try again in {wait} s", wait)


async def check_run(*, interview_id: str, client: str | None) -> None:
    """Refuse a run when its room, or its client (when known), started too many lately."""
    settings = get_settings()
    limiter = get_rate_limiter()
    room_limit = settings.rate_runs_per_room_per_minute
    if wait := await limiter.hit(f"run-room:{interview_id}", limit=room_limit):
        raise RateLimited(f"this room is running code too often; try again in {wait} s", wait)
    if client is not None:
        client_limit = settings.rate_runs_per_client_per_minute
        if wait := await limiter.hit(f"run-client:{client}", limit=client_limit):
            raise RateLimited(f"too many runs; try again in {wait} s", wait)
