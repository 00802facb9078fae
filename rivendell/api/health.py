"""Health checks: ``/health`` for load balancers, ``/api/v1/health`` for operators.

Liveness checks nothing but the event loop. Readiness asks each dependency in turn (the
database, Redis when configured, the Docker engine when runs use it), times it, and answers
503 when a required one is down, so a balancer stops sending traffic to this instance.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import cast

import redis.asyncio as aioredis
from fastapi import APIRouter, Response
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import JSONResponse

from rivendell import db
from rivendell.runs import get_room_runner
from rivendell.settings import Settings, get_settings

__all__ = ["CHECK_TIMEOUT_SECONDS", "HealthReport", "check_health", "liveness", "router"]

CHECK_TIMEOUT_SECONDS = 3.0

router = APIRouter(tags=["health"])


class ComponentStatus(StrEnum):
    """How one dependency answered."""

    UP = "up"
    DOWN = "down"


class Component(BaseModel):
    """One dependency's answer."""

    status: ComponentStatus
    required: bool
    latency_ms: float
    detail: str = ""


class HealthReport(BaseModel):
    """Every dependency's answer; ``status`` is ``down`` when a required one is."""

    status: ComponentStatus
    components: dict[str, Component]


async def liveness(_request: Request) -> JSONResponse:
    """The process is up and its event loop answers; nothing else is checked."""
    return JSONResponse({"status": "ok"})


def _database() -> None:
    try:
        db.ping()
    except db.DatabaseUnavailable as error:
        raise RuntimeError(error.detail) from None  # the driver's words, for the operator


async def _redis(url: str) -> None:
    client = aioredis.from_url(url, socket_connect_timeout=CHECK_TIMEOUT_SECONDS)
    try:
        await cast(Awaitable[bool], client.ping())
    finally:
        await client.aclose()


async def _docker() -> None:
    if not await get_room_runner().executor.available():
        raise RuntimeError("the Docker engine is not reachable")


async def _timed(required: bool, check: Callable[[], Awaitable[None]]) -> Component:
    started = time.perf_counter()
    try:
        await asyncio.wait_for(check(), timeout=CHECK_TIMEOUT_SECONDS)
    except Exception as error:
        detail = str(error) or type(error).__name__
        status = ComponentStatus.DOWN
    else:
        detail, status = "", ComponentStatus.UP
    latency = round((time.perf_counter() - started) * 1000, 2)
    return Component(status=status, required=required, latency_ms=latency, detail=detail[:300])


async def check_health(settings: Settings | None = None) -> HealthReport:
    """Ask every dependency this instance has, at once."""
    settings = settings or get_settings()
    checks: dict[str, Callable[[], Awaitable[None]]] = {
        "database": lambda: asyncio.to_thread(_database)
    }
    if settings.redis_url:
        redis_url = settings.redis_url
        checks["redis"] = lambda: _redis(redis_url)
    if settings.executor == "docker":
        checks["docker"] = _docker
    answers = await asyncio.gather(*(_timed(True, check) for check in checks.values()))
    components = dict(zip(checks, answers, strict=True))
    down = any(c.required and c.status == ComponentStatus.DOWN for c in components.values())
    return HealthReport(
        status=ComponentStatus.DOWN if down else ComponentStatus.UP, components=components
    )


@router.get(
    "/api/v1/health",
    response_model=HealthReport,
    responses={503: {"model": HealthReport, "description": "A required dependency is down"}},
    summary="Readiness: every dependency, timed",
)
async def readiness(response: Response) -> HealthReport:
    """The database, Redis (when configured) and the Docker engine (when runs use it)."""
    report = await check_health()
    if report.status == ComponentStatus.DOWN:
        response.status_code = 503
    return report
