"""Readiness in-process against the real Redis and databases (up, and ports where nothing
listens)."""

from __future__ import annotations

import pytest

from rivendell.api.health import check_health
from rivendell.settings import get_settings


@pytest.mark.parametrize(
    ("redis_url", "expected"),
    [("redis://127.0.0.1:6379/0", "up"), ("redis://127.0.0.1:9/0", "down")],
    ids=["redis-up", "redis-down"],
)
async def test_redis_when_configured_is_required(
    migrated: str, redis_url: str, expected: str
) -> None:
    settings = get_settings().model_copy(update={"redis_url": redis_url, "executor": "off"})
    report = await check_health(settings)
    assert set(report.components) == {"database", "redis"}
    assert report.components["database"].status == "up"
    assert report.components["redis"].status == expected
    assert report.status == expected


async def test_an_unreachable_database_is_down_with_the_drivers_words(unreachable: str) -> None:
    settings = get_settings().model_copy(update={"executor": "off"})
    report = await check_health(settings)
    assert report.status == "down"
    assert report.components["database"].status == "down"
    assert "Connection refused" in report.components["database"].detail
