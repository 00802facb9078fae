"""Who is in which room right now, from the heartbeats of their open pages.

A participant is online while at least one of their pages (a Reflex client token) was heard
from within the timeout; a page that disconnects is dropped at once. Each change of a seat
(online, offline) is reported to exactly one caller, which announces it on the event bus.

Two implementations of one interface: :class:`LocalPresence` for one process (the single-machine
default) and :class:`RedisPresence` when Redis is configured, so that every worker of every
instance sees, and sweeps, the same pages. The interface is async for the Redis one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from functools import cache
from typing import Protocol

import redis.asyncio as aioredis
import redis.exceptions

from rivendell.settings import get_settings

__all__ = ["KEY_PREFIX", "LocalPresence", "Presence", "RedisPresence", "Seat", "get_presence"]

logger = logging.getLogger(__name__)

Seat = tuple[str, int]
"""An interview id and a participant id."""

KEY_PREFIX = "rivendell:presence"


class Presence(Protocol):
    """Where the pages of a room's participants are counted."""

    timeout: float

    async def beat(self, *, client: str, seat: Seat) -> bool:
        """Record that ``client`` is showing ``seat``'s room; True when the seat came online."""
        ...

    async def leave(self, client: str) -> Seat | None:
        """Forget ``client``; returns its seat when that seat has no other page open."""
        ...

    async def sweep(self) -> list[Seat]:
        """Forget pages not heard from within the timeout; returns the seats that went offline."""
        ...

    async def drop_room(self, interview_id: str) -> list[Seat]:
        """Forget every page of a room that is gone (ended or deleted); the seats dropped."""
        ...

    async def online(self, interview_id: str) -> set[int]:
        """The ids of the participants of this interview who are online."""
        ...

    async def online_in(self, interview_ids: Iterable[str]) -> dict[str, set[int]]:
        """:meth:`online` for several interviews at once."""
        ...


class LocalPresence:
    """In-process presence for one process; ``clock`` is injectable for tests."""

    def __init__(self, timeout: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.timeout = timeout
        self._clock = clock
        self._last_seen: dict[str, float] = {}
        self._seat_of: dict[str, Seat] = {}
        # interview id -> participant id -> the pages showing that participant
        self._rooms: dict[str, dict[int, set[str]]] = {}

    async def beat(self, *, client: str, seat: Seat) -> bool:
        """Record that ``client`` is showing ``seat``'s room; True when the seat came online."""
        if self._seat_of.get(client, seat) != seat:
            self._remove(client)
        interview_id, participant_id = seat
        pages = self._rooms.setdefault(interview_id, {}).setdefault(participant_id, set())
        came_online = not pages
        pages.add(client)
        self._last_seen[client] = self._clock()
        self._seat_of[client] = seat
        return came_online

    async def leave(self, client: str) -> Seat | None:
        """Forget ``client``; returns its seat when that seat has no other page open."""
        return self._remove(client)

    async def sweep(self) -> list[Seat]:
        """Forget pages not heard from within the timeout; returns the seats that went offline."""
        now = self._clock()
        stale = [c for c, seen in self._last_seen.items() if now - seen > self.timeout]
        gone = [self._remove(client) for client in stale]
        return [seat for seat in gone if seat is not None]

    async def drop_room(self, interview_id: str) -> list[Seat]:
        """Forget every page of a room that is gone (ended or deleted); the seats dropped."""
        clients = [c for c, seat in self._seat_of.items() if seat[0] == interview_id]
        gone = [self._remove(client) for client in clients]
        return [seat for seat in gone if seat is not None]

    async def online(self, interview_id: str) -> set[int]:
        """The ids of the participants of this interview who are online."""
        return set(self._rooms.get(interview_id, {}))

    async def online_in(self, interview_ids: Iterable[str]) -> dict[str, set[int]]:
        """:meth:`online` for several interviews at once."""
        return {i: set(self._rooms.get(i, {})) for i in interview_ids}

    def _remove(self, client: str) -> Seat | None:
        self._last_seen.pop(client, None)
        seat = self._seat_of.pop(client, None)
        if seat is None:
            return None
        interview_id, participant_id = seat
        room = self._rooms.get(interview_id, {})
        pages = room.get(participant_id, set())
        pages.discard(client)
        if pages:
            return None
        room.pop(participant_id, None)
        if not room:
            self._rooms.pop(interview_id, None)
        return seat


# Keys (``p`` is the prefix), all refreshed by every beat and left to expire after
# KEEP_TIMEOUTS timeouts without one, so a fleet that stopped leaves nothing behind:
#   p:seen        sorted set, page -> its last beat (ms, Redis's clock: one clock for the fleet)
#   p:pages       hash, page -> "interview|participant"
#   p:room:<id>   hash, page -> participant, the pages showing the room
# Each script runs atomically, so a seat's coming online or going offline is seen by one caller.
_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""

_REMOVE = """
local function remove(p, client)
  local seat = redis.call('HGET', p .. ':pages', client)
  redis.call('HDEL', p .. ':pages', client)
  redis.call('ZREM', p .. ':seen', client)
  if not seat then return false end
  local interview, participant = string.match(seat, '^(.*)|(.*)$')
  local room = p .. ':room:' .. interview
  redis.call('HDEL', room, client)
  for _, other in ipairs(redis.call('HVALS', room)) do
    if other == participant then return false end
  end
  return seat
end
"""

_BEAT = (
    _NOW
    + """
local p, client, interview, participant, keep = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local seat = interview .. '|' .. participant
local old = redis.call('HGET', p .. ':pages', client)
if old and old ~= seat then
  redis.call('HDEL', p .. ':room:' .. string.match(old, '^(.*)|'), client)
end
local room = p .. ':room:' .. interview
local came_online = 1
for _, other in ipairs(redis.call('HVALS', room)) do
  if other == participant then came_online = 0 break end
end
redis.call('HSET', room, client, participant)
redis.call('HSET', p .. ':pages', client, seat)
redis.call('ZADD', p .. ':seen', now, client)
for _, key in ipairs({room, p .. ':pages', p .. ':seen'}) do
  redis.call('PEXPIRE', key, keep)
end
return came_online
"""
)

_LEAVE = (
    _REMOVE
    + """
return remove(ARGV[1], ARGV[2])
"""
)

_SWEEP = (
    _NOW
    + _REMOVE
    + """
local p, timeout, limit = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local stale = redis.call('ZRANGEBYSCORE', p .. ':seen', '-inf', '(' .. (now - timeout),
                         'LIMIT', 0, limit)
local gone = {}
for _, client in ipairs(stale) do
  local seat = remove(p, client)
  if seat then table.insert(gone, seat) end
end
return gone
"""
)

_DROP_ROOM = (
    _REMOVE
    + """
local p, room = ARGV[1], ARGV[1] .. ':room:' .. ARGV[2]
local gone = {}
for _, client in ipairs(redis.call('HKEYS', room)) do
  local seat = remove(p, client)
  if seat then table.insert(gone, seat) end
end
redis.call('DEL', room)
return gone
"""
)

KEEP_TIMEOUTS = 10
"""Presence keys expire this many timeouts after the last beat that refreshed them."""

SWEEP_BATCH = 1000
"""Pages one sweep forgets at most (the next sweep, a second later, takes the rest)."""


def _seat(raw: bytes | str) -> Seat:
    text = raw.decode() if isinstance(raw, bytes) else raw
    interview_id, participant_id = text.rsplit("|", 1)
    return interview_id, int(participant_id)


class RedisPresence:
    """Presence in Redis, shared by every worker of every instance.

    A Redis failure is logged and read as "nobody online, nothing changed": the room pages and
    the API keep answering, and the next beat after Redis is back counts again.
    """

    def __init__(self, client: aioredis.Redis, timeout: float, *, prefix: str = KEY_PREFIX) -> None:
        self.timeout = timeout
        self._client = client
        self._prefix = prefix
        self._beat = client.register_script(_BEAT)
        self._leave = client.register_script(_LEAVE)
        self._sweep = client.register_script(_SWEEP)
        self._drop_room = client.register_script(_DROP_ROOM)

    @property
    def _timeout_ms(self) -> int:
        return round(self.timeout * 1000)

    def _failed(self, what: str, error: Exception) -> None:
        logger.warning("presence: %s failed, Redis unreachable (%s)", what, error)

    async def beat(self, *, client: str, seat: Seat) -> bool:
        """Record that ``client`` is showing ``seat``'s room; True when the seat came online."""
        interview_id, participant_id = seat
        keep = self._timeout_ms * KEEP_TIMEOUTS
        try:
            came = await self._beat(args=[self._prefix, client, interview_id, participant_id, keep])
        except redis.exceptions.RedisError as error:
            self._failed("a heartbeat", error)
            return False
        return bool(came)

    async def leave(self, client: str) -> Seat | None:
        """Forget ``client``; returns its seat when that seat has no other page open."""
        try:
            seat = await self._leave(args=[self._prefix, client])
        except redis.exceptions.RedisError as error:
            self._failed("a leave", error)
            return None
        return _seat(seat) if seat else None

    async def sweep(self) -> list[Seat]:
        """Forget pages not heard from within the timeout; returns the seats that went offline."""
        try:
            gone = await self._sweep(args=[self._prefix, self._timeout_ms, SWEEP_BATCH])
        except redis.exceptions.RedisError as error:
            self._failed("a sweep", error)
            return []
        return [_seat(seat) for seat in gone]

    async def drop_room(self, interview_id: str) -> list[Seat]:
        """Forget every page of a room that is gone (ended or deleted); the seats dropped."""
        try:
            gone = await self._drop_room(args=[self._prefix, interview_id])
        except redis.exceptions.RedisError as error:
            self._failed("dropping a room", error)
            return []
        return [_seat(seat) for seat in gone]

    async def online(self, interview_id: str) -> set[int]:
        """The ids of the participants of this interview who are online."""
        return (await self.online_in([interview_id]))[interview_id]

    async def online_in(self, interview_ids: Iterable[str]) -> dict[str, set[int]]:
        """:meth:`online` for several interviews at once (one round trip)."""
        ids = list(dict.fromkeys(interview_ids))
        if not ids:
            return {}
        try:
            async with self._client.pipeline(transaction=False) as pipe:
                for interview_id in ids:
                    pipe.hvals(f"{self._prefix}:room:{interview_id}")
                rows = await pipe.execute()
        except redis.exceptions.RedisError as error:
            self._failed("reading who is online", error)
            return {interview_id: set() for interview_id in ids}
        return {i: {int(p) for p in row} for i, row in zip(ids, rows, strict=True)}


@cache
def get_presence() -> Presence:
    """This process's presence: in Redis when configured, else in this process."""
    settings = get_settings()
    if settings.redis_url:
        return RedisPresence(
            aioredis.from_url(settings.redis_url, socket_connect_timeout=2),
            settings.presence_timeout_seconds,
        )
    return LocalPresence(timeout=settings.presence_timeout_seconds)
