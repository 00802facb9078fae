"""The event stream: ``WS /ws/sessions/{id}?token=…`` sends a room's events as JSON objects.

Each connection subscribes to the room event bus and relays its room's events through a
bounded queue: a client that stops reading is disconnected (close code 1013) rather than
letting its backlog grow without end. Refusals close with a 44xx code and a reason; with the
database unreachable the socket closes with 1013 ("try again later").
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from datetime import timedelta

from starlette.websockets import WebSocket, WebSocketDisconnect

from rivendell import crud
from rivendell.db import DatabaseUnavailable, session
from rivendell.events import EventType, RoomEvent, bus
from rivendell.models import utcnow
from rivendell.settings import get_admin_token, get_settings

__all__ = ["QUEUE_SIZE", "STREAMED", "stream_events"]

logger = logging.getLogger(__name__)

QUEUE_SIZE = 256
"""Events waiting for one client before it counts as stuck and is dropped."""

STREAMED = frozenset(
    {
        EventType.USER_JOINED,
        EventType.USER_LEFT,
        EventType.PROBLEM_UPDATED,
        EventType.LANGUAGE_CHANGED,
        EventType.EXECUTION_STARTED,
        EventType.EXECUTION_COMPLETED,
        EventType.TESTS_CHANGED,
        EventType.TESTS_COMPLETED,
        EventType.SESSION_ENDED,
        EventType.CONTROLS_CHANGED,
    }
)
"""The event types clients receive (code saves come at typing speed and stay internal)."""

CLOSE_UNAUTHORIZED = 4401
CLOSE_NOT_FOUND = 4404
CLOSE_ENDED = 4409
CLOSE_TOO_SLOW = 1013
CLOSE_TRY_AGAIN = 1013


def _admission(interview_id: str, token: str) -> tuple[int, str] | None:
    """``None`` when ``token`` may watch the room, else the close code and reason."""
    ttl = timedelta(hours=get_settings().interview_ttl_hours)
    with session() as db:
        if crud.is_admin(token=token, admin_token=get_admin_token()):
            interview = crud.get_live_interview(db=db, interview_id=interview_id, ttl=ttl)
            if interview is not None:
                return None
            if crud.get_interview(db=db, interview_id=interview_id) is None:
                return CLOSE_NOT_FOUND, "interview not found"
            return CLOSE_ENDED, "this interview has ended"
        try:
            crud.get_member(db=db, interview_id=interview_id, token=token, ttl=ttl)
        except crud.Ended:
            return CLOSE_ENDED, "this interview has ended"
        except crud.NotFound:
            return CLOSE_NOT_FOUND, "interview not found"
        except crud.Forbidden:
            return CLOSE_UNAUTHORIZED, "invalid token"
    return None


def _message(event: RoomEvent) -> str:
    return json.dumps(
        {
            "type": event.type.value,
            "session_id": event.interview_id,
            "data": event.data,
            "at": utcnow().isoformat(),
        }
    )


async def stream_events(websocket: WebSocket) -> None:
    """Serve one client of a room's event stream until it leaves or the interview ends."""
    interview_id = str(websocket.path_params.get("session_id", ""))
    token = websocket.query_params.get("token", "")
    try:
        refusal = await asyncio.to_thread(_admission, interview_id, token)
    except DatabaseUnavailable as error:
        refusal = CLOSE_TRY_AGAIN, str(error)
    await websocket.accept()
    if refusal is not None:
        await websocket.close(code=refusal[0], reason=refusal[1])
        return

    queue: asyncio.Queue[RoomEvent | None] = asyncio.Queue(maxsize=QUEUE_SIZE)

    async def relay(event: RoomEvent) -> None:
        if event.interview_id != interview_id or event.type not in STREAMED:
            return
        try:
            queue.put_nowait(event)
        except asyncio.QueueFull:
            bus.unsubscribe(relay)
            with contextlib.suppress(asyncio.QueueEmpty):
                queue.get_nowait()  # room for the marker that ends this client's stream
            queue.put_nowait(None)

    async def until_gone() -> None:
        with contextlib.suppress(WebSocketDisconnect):
            while True:
                await websocket.receive_text()  # clients send nothing; this sees them leave

    bus.subscribe(relay)
    watcher = asyncio.create_task(until_gone())
    try:
        while not watcher.done():
            getter = asyncio.ensure_future(queue.get())
            await asyncio.wait({getter, watcher}, return_when=asyncio.FIRST_COMPLETED)
            if not getter.done():
                getter.cancel()
                break
            event = getter.result()
            if event is None:
                logger.warning("room %s: an event-stream client fell behind", interview_id)
                await websocket.close(code=CLOSE_TOO_SLOW, reason="too slow: events were lost")
                return
            await websocket.send_text(_message(event))
            if event.type == EventType.SESSION_ENDED:
                await websocket.close(code=1000, reason="the interview has ended")
                return
    except (WebSocketDisconnect, RuntimeError):
        pass  # the client went away mid-send
    finally:
        bus.unsubscribe(relay)
        watcher.cancel()
