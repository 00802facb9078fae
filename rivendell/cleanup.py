"""The automatic cleanup: ends idle interviews, deletes ended ones, drops what they leave behind.

One pass: interviews idle longer than the TTL are ended (their rooms show "interview ended" at
once: a ``SESSION_ENDED`` event each), interviews ended longer than the retention ago are
deleted with everything in them, presence of gone rooms and silent pages is dropped, and sandbox
containers that stopped long ago are removed. Each pass is logged and kept as a ``CleanupRun``
(the admin page shows the latest). With Redis configured, a lock makes one instance at a time
run it; without, there is one instance.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import AsyncIterator
from datetime import timedelta

import redis.asyncio as aioredis
import redis.exceptions

from rivendell import crud
from rivendell.db import session
from rivendell.events import EventType, RoomEvent, bus
from rivendell.models import CleanupRun, utcnow
from rivendell.presence import get_presence
from rivendell.settings import Settings, get_settings

__all__ = ["LOCK_NAME", "ORPHAN_AGE_SECONDS", "cleanup_loop", "run_cleanup"]

logger = logging.getLogger(__name__)

LOCK_NAME = "rivendell:cleanup"
ORPHAN_AGE_SECONDS = 600.0
"""A stopped sandbox older than this was lost by its executor (which removes its own at once)."""

INSTANCE = f"{socket.gethostname()}:{os.getpid()}"


def _database_pass(settings: Settings) -> tuple[list[str], list[str]]:
    now = utcnow()
    with session() as db:
        ended = crud.end_idle_interviews(
            db=db, idle_since=now - timedelta(hours=settings.interview_ttl_hours)
        )
        deleted = crud.delete_ended_interviews(
            db=db, ended_before=now - timedelta(hours=settings.ended_retention_hours)
        )
    return ended, deleted


def _remove_orphans() -> int:
    from rivendell.executor.docker import remove_finished

    return remove_finished(older_than_seconds=ORPHAN_AGE_SECONDS)


async def run_cleanup(settings: Settings | None = None) -> CleanupRun:
    """One pass of the cleanup on this instance; what it did is recorded and returned."""
    settings = settings or get_settings()
    report = CleanupRun(instance=INSTANCE)
    errors: list[str] = []
    try:
        ended, deleted = await asyncio.to_thread(_database_pass, settings)
    except Exception as error:
        logger.exception("cleanup: the database pass failed")
        ended, deleted, errors = [], [], [f"database: {type(error).__name__}"]
    for interview_id in ended:
        logger.info("cleanup: interview %s ended (idle)", interview_id)
        bus.publish(RoomEvent(interview_id, EventType.SESSION_ENDED, {"reason": "idle"}))
    for interview_id in deleted:
        logger.info("cleanup: interview %s deleted", interview_id)

    presence = get_presence()
    gone = set(ended) | set(deleted)
    dropped = [seat for room in gone for seat in await presence.drop_room(room)]
    dropped += await presence.sweep()
    for interview_id, participant_id in dropped:
        if interview_id not in gone:
            bus.publish(RoomEvent(interview_id, EventType.USER_LEFT, {"id": participant_id}))

    removed = 0
    if settings.executor == "docker":
        try:
            removed = await asyncio.to_thread(_remove_orphans)
        except Exception as error:  # Docker down is the health check's news, not a failure here
            errors.append(f"docker: {type(error).__name__}")

    report.ended, report.deleted = len(ended), len(deleted)
    report.presence_dropped, report.containers_removed = len(dropped), removed
    report.error = "; ".join(errors)
    report.finished_at = utcnow()
    logger.info(
        "cleanup: ended %d idle interviews, deleted %d, dropped %d stale presences, "
        "removed %d orphaned sandboxes%s",
        report.ended,
        report.deleted,
        report.presence_dropped,
        report.containers_removed,
        f" (errors: {report.error})" if report.error else "",
    )
    with contextlib.suppress(Exception):

        def record() -> CleanupRun:
            with session() as db:
                return crud.record_cleanup(db=db, report=report)

        report = await asyncio.to_thread(record)
    return report


@contextlib.asynccontextmanager
async def _turn(settings: Settings) -> AsyncIterator[bool]:
    """Whether this instance runs this pass: always alone, or holding the Redis lock."""
    if not settings.redis_url:
        yield True
        return
    client = aioredis.from_url(settings.redis_url)
    lock = client.lock(LOCK_NAME, timeout=max(60.0, settings.cleanup_interval_seconds))
    try:
        acquired = await lock.acquire(blocking=False)
    except redis.exceptions.RedisError:
        logger.warning("cleanup: Redis unreachable, skipping this pass")
        acquired = False
    try:
        yield bool(acquired)
    finally:
        if acquired:
            with contextlib.suppress(redis.exceptions.RedisError):
                await lock.release()
        await client.aclose()


async def cleanup_loop(settings: Settings | None = None) -> None:
    """Run the cleanup every ``cleanup_interval_seconds`` until cancelled."""
    settings = settings or get_settings()
    if not logger.handlers and logger.getEffectiveLevel() > logging.INFO:
        # Reflex leaves Python logging at warnings; each pass's summary belongs in the log.
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    while True:
        await asyncio.sleep(settings.cleanup_interval_seconds)
        try:
            async with _turn(settings) as mine:
                if mine:
                    await run_cleanup(settings)
                else:
                    logger.debug("cleanup: another instance holds the lock")
        except Exception:
            logger.exception("cleanup: the pass failed")
