"""Builds the Rivendell app: pages, HTTP routes and the tasks that live as long as the server."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import logging
from collections.abc import AsyncIterator, Coroutine
from typing import Any

import redis.exceptions
import reflex as rx
from reflex.app import default_backend_exception_handler
from reflex.event import EventSpec
from starlette.types import ASGIApp

from rivendell import db
from rivendell.api import create_api
from rivendell.cleanup import cleanup_loop
from rivendell.collab import get_collab_server
from rivendell.events import EventType, RedisRelay, RoomEvent, bus
from rivendell.pages.admin import ROUTE as ADMIN_ROUTE
from rivendell.pages.admin import AdminState, admin_page
from rivendell.pages.index import HomeState, index_page
from rivendell.pages.not_found import not_found_page
from rivendell.pages.playback import ROUTE as PLAYBACK_ROUTE
from rivendell.pages.playback import PlaybackState, playback_page
from rivendell.pages.room import ROUTE as ROOM_ROUTE
from rivendell.pages.room import RoomState, refresh_room, room_page
from rivendell.pages.room_notes import refresh_interviewers
from rivendell.pages.room_tests import refresh_tests
from rivendell.presence import get_presence
from rivendell.reflex_redis import supervise
from rivendell.runs import get_room_runner
from rivendell.settings import DEFAULT_ADMIN_TOKEN_FILE, get_admin_token, get_settings
from rivendell.timeline import record_presence

logger = logging.getLogger("rivendell")

STARTUP_GRACE_SECONDS = 10.0
"""How long a start waits for its database before serving without it."""

GC_THRESHOLDS = (2000, 10, 100)
"""The worker's garbage collector thresholds (Python's defaults: 700, 10, 10): see steady_heap."""

collab = get_collab_server()


def backend_error(exception: Exception) -> EventSpec:
    """What a browser is told when one of its events fails: Reflex's generic toast and logged
    traceback, except when the database or Redis is unreachable, which it says (one log line,
    no traceback: the health check and the pages tell the rest)."""
    if isinstance(exception, db.DatabaseUnavailable):
        title = "The database is unreachable"
    elif isinstance(exception, redis.exceptions.ConnectionError | redis.exceptions.TimeoutError):
        title = "The server lost its connection to Redis"
    else:
        return default_backend_exception_handler(exception)
    logger.warning("an event failed: %s: %s", title, exception)
    return rx.toast.warning(
        title,
        description="That did not go through: try again in a moment.",
        id="dependency_unavailable",
        position="top-center",
    )


class RivendellApp(rx.App):
    """Reflex's app, with the collaboration sockets in front of its ASGI middleware."""

    def __call__(self) -> ASGIApp:
        # Reflex mounts what ``api_transformer`` returns inside a Starlette app whose middleware
        # wraps every ASGI send (ExceptionMiddleware's sender: 5 % of the worker's event loop at
        # 200 typing rooms). A collaboration socket sends thousands of messages a second and
        # needs none of it: no Reflex state, no HTTP errors, no CORS (a WebSocket has none).
        return collab.asgi(super().__call__())


app = RivendellApp(
    stylesheets=["/rivendell.css"],
    api_transformer=create_api(),
    backend_exception_handler=backend_error,
)
app.add_page(
    index_page,
    route="/",
    title="Rivendell — live coding interviews",
    on_load=HomeState.check_database,
)
app.add_page(not_found_page, route="404", title="Not found · Rivendell")
app.add_page(
    room_page, route=ROOM_ROUTE, title="Interview · Rivendell", on_load=RoomState.open_room
)
app.add_page(
    playback_page,
    route=PLAYBACK_ROUTE,
    title="Playback · Rivendell",
    on_load=PlaybackState.open,
)
app.add_page(admin_page, route=ADMIN_ROUTE, title="Admin · Rivendell", on_load=AdminState.open)


@contextlib.asynccontextmanager
async def _running(work: Coroutine[Any, Any, None]) -> AsyncIterator[None]:
    """Run ``work`` as a task for as long as the server runs."""
    task = asyncio.create_task(work)
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@app.register_lifespan_task
@contextlib.asynccontextmanager
async def database_watch() -> AsyncIterator[None]:
    """Migrate the database once it answers, then keep watching it.

    A start waits for the migration, but not for ever: with the database still down after
    ``STARTUP_GRACE_SECONDS`` the server serves anyway (liveness up, readiness and the API 503,
    the pages "unreachable — retrying"), migrates once it answers, and never exits over it.
    """
    migrated = asyncio.Event()
    async with _running(db.watch(migrated)):
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(migrated.wait(), STARTUP_GRACE_SECONDS)
        yield


@app.register_lifespan_task
@contextlib.asynccontextmanager
async def reflex_redis_listeners() -> AsyncIterator[None]:
    """With Redis: restart Reflex's pub/sub listeners after an outage stopped them."""
    redis_url = get_settings().redis_url
    if not redis_url:
        yield
        return
    async with _running(supervise(app, redis_url)):
        yield


@app.register_lifespan_task
@contextlib.asynccontextmanager
async def steady_heap() -> AsyncIterator[None]:
    """Keep the garbage collector off what this worker built at start-up, and collect rarely.

    Reflex freezes the supervisor's heap before forking, not what each worker builds after; a
    full collection walks every tracked object (34-86 ms seen in a worker carrying 600
    connections), a stall in every room's keystrokes. Frozen objects are never walked again.
    But they no longer count as old either, so Python's rule that spaces full collections (a
    quarter more old objects than at the last one) let them come every 3 s at 200 typing rooms,
    50-140 ms each: most of the tail latency left. Thresholds of ``GC_THRESHOLDS`` leave one
    full collection for 100 middle ones instead of 10 (under one a minute there), and a young
    collection for 2,000 new objects instead of 700.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    yield


@app.register_lifespan_task
@contextlib.asynccontextmanager
async def collaboration() -> AsyncIterator[None]:
    """Serve the shared documents; save every open one on the way down."""
    async with collab:
        yield


@app.register_lifespan_task
@contextlib.asynccontextmanager
async def code_runs() -> AsyncIterator[None]:
    """Keep the sandbox pool warm while the server runs; remove its containers on the way down."""
    async with get_room_runner():
        yield


@app.register_lifespan_task
@contextlib.asynccontextmanager
async def event_relay() -> AsyncIterator[None]:
    """With Redis, carry room events between this process and every other one of the fleet."""
    redis_url = get_settings().redis_url
    if not redis_url:
        yield
        return
    async with RedisRelay(bus, redis_url):
        yield


@app.register_lifespan_task
@contextlib.asynccontextmanager
async def room_sync() -> AsyncIterator[None]:
    """Keep every room's shared state (and its timeline's joins and leaves) in step with the bus.

    Only this process's own events: with Redis the state lives there, and the process that
    published an event updates it once for every instance.
    """
    subscriber = functools.partial(refresh_room, app)
    interviewers = functools.partial(refresh_interviewers, app)
    tests = functools.partial(refresh_tests, app)
    bus.subscribe(subscriber, local_only=True)
    bus.subscribe(tests, local_only=True)
    bus.subscribe(record_presence, local_only=True)
    bus.subscribe(interviewers, local_only=True)
    try:
        yield
    finally:
        bus.unsubscribe(record_presence)
        bus.unsubscribe(subscriber)
        bus.unsubscribe(interviewers)
        bus.unsubscribe(tests)


async def enforce_room_rules(event: RoomEvent) -> None:
    """Event-bus subscriber: this process's open Yjs rooms follow the interviewer's controls.

    Every process's own: each serves its own sockets, so each must drop a locked room's
    candidate updates, and every update once the interview ended (the bus relays the event).
    """
    if event.type == EventType.SESSION_ENDED:
        collab.set_ended(event.interview_id)
    elif event.type == EventType.CONTROLS_CHANGED and isinstance(
        locked := event.data.get("locked"), bool
    ):
        collab.set_locked(event.interview_id, locked)


@app.register_lifespan_task
@contextlib.asynccontextmanager
async def room_rules() -> AsyncIterator[None]:
    """Keep the open documents locked or closed as their interviews' controls say."""
    bus.subscribe(enforce_room_rules)
    try:
        yield
    finally:
        bus.unsubscribe(enforce_room_rules)


def _announce_left(seat: tuple[str, int]) -> None:
    bus.publish(RoomEvent(seat[0], EventType.USER_LEFT, {"id": seat[1]}))


@app.register_lifespan_task
@contextlib.asynccontextmanager
async def presence_watch() -> AsyncIterator[None]:
    """Mark people offline when their page closes (socket gone) or falls silent (no heartbeat)."""
    presence = get_presence()
    namespace = app.event_namespace
    original_disconnect = namespace.on_disconnect if namespace else None
    leaving: set[asyncio.Task[None]] = set()

    async def leave(token: str) -> None:
        if (seat := await presence.leave(token)) is not None:
            _announce_left(seat)

    def on_disconnect(sid: str) -> asyncio.Task[Any] | None:
        token = namespace.sid_to_token.get(sid) if namespace else None
        result = original_disconnect(sid) if original_disconnect else None
        if token:
            task = asyncio.get_running_loop().create_task(leave(token))
            leaving.add(task)
            task.add_done_callback(leaving.discard)
        return result

    if namespace is not None:
        # Reflex has no leave hook; python-socketio dispatches to this attribute by name.
        namespace.on_disconnect = on_disconnect  # type: ignore[method-assign]

    async def sweep() -> None:
        while True:
            await asyncio.sleep(1)
            try:
                for seat in await presence.sweep():
                    _announce_left(seat)
            except Exception:
                logger.exception("presence: the sweep failed")

    sweeper = asyncio.create_task(sweep())
    try:
        yield
    finally:
        sweeper.cancel()
        if namespace is not None and original_disconnect is not None:
            namespace.on_disconnect = original_disconnect  # type: ignore[method-assign]


@app.register_lifespan_task
@contextlib.asynccontextmanager
async def cleanup() -> AsyncIterator[None]:
    """End idle interviews, delete ended ones, drop stale presence and lost sandboxes."""
    if get_settings().admin_token is None:
        get_admin_token()  # made now, not on the first visit, so the file is there to read
        logger.warning(
            "admin page: /admin, with the development token in %s", DEFAULT_ADMIN_TOKEN_FILE
        )
    async with _running(cleanup_loop()):
        yield
