"""The rate limiter: in-process windows, and the same windows kept in the real Redis."""

from __future__ import annotations

import secrets

import pytest

from rivendell.ratelimit import RateLimiter

REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.mark.parametrize("redis_url", [None, REDIS_URL], ids=["in-process", "redis"])
async def test_a_window_allows_the_limit_then_says_how_long_to_wait(redis_url: str | None) -> None:
    limiter = RateLimiter(redis_url, window=30)
    key = f"test:{secrets.token_hex(4)}"
    assert [await limiter.hit(key, limit=3) for _ in range(3)] == [None, None, None]
    wait = await limiter.hit(key, limit=3)
    assert wait is not None
    assert 1 <= wait <= 30
    assert await limiter.hit(f"{key}:other", limit=3) is None


async def test_a_window_turns() -> None:
    limiter = RateLimiter(window=0.05)
    assert await limiter.hit("k", limit=1) is None
    assert await limiter.hit("k", limit=1) is not None
    limiter._windows["k"] = (limiter._windows["k"][0] - 1, 1)  # as if the window had passed
    assert await limiter.hit("k", limit=1) is None


async def test_redis_down_falls_back_to_counting_here() -> None:
    limiter = RateLimiter("redis://127.0.0.1:9/0")
    assert await limiter.hit("k", limit=1) is None
    assert await limiter.hit("k", limit=1) is not None
