"""Rooms nobody is in close on their own, and rooms left together do not all close at once."""

from __future__ import annotations

import asyncio

from rivendell.collab.server import Admission, CollabServer, Refused
from tests.collab.test_room import noop_save

ROOMS = 40
IDLE = 0.4


async def refuse(_interview_id: str, _token: str) -> Admission:
    raise Refused(4403, "no sockets in this test")


async def load(_interview_id: str) -> tuple[bytes | None, str]:
    return None, "print('hello')\n"


async def test_rooms_left_together_close_spread_over_half_their_idle_time_again() -> None:
    async with CollabServer(admit=refuse, load=load, save=noop_save, idle_seconds=IDLE) as server:
        ids = [f"room-{i}" for i in range(ROOMS)]
        rooms = [await server.get_room(interview_id) for interview_id in ids]
        loop = asyncio.get_running_loop()
        left = loop.time()
        for interview_id, room in zip(ids, rooms, strict=True):
            server._left(interview_id, room)  # their last client left, all in the same instant
        closed: dict[str, float] = {}
        while len(closed) < ROOMS and loop.time() - left < IDLE * 3:
            await asyncio.sleep(0.005)
            closed |= {
                i: loop.time() - left for i in ids if i not in server.rooms and i not in closed
            }
    assert len(closed) == ROOMS, "every idle room closes"
    times = sorted(closed.values())
    assert times[0] >= IDLE
    assert times[-1] <= IDLE * 1.5 + 0.1
    # Spread, not in one instant: 40 uniform draws over 0.2 s all within 0.05 s is a 1e-23 chance.
    assert times[-1] - times[0] > IDLE / 8
