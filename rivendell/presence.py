"""Who is in which room right now, from the heartbeats of their open pages.

A participant is online while at least one of their pages (a Reflex client token) was heard
from within the timeout; a page that disconnects is dropped at once.
"""

from __future__ import annotations

from functools import cache

from rivendell.settings import get_settings

__all__ = ["Presence", "Seat", "get_presence"]

Seat = tuple[str, int]
"""An interview id and a participant id."""


class Presence:
    """In-process presence for one instance."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._last_seen: dict[str, float] = {}
        self._seat_of: dict[str, Seat] = {}
        # interview id -> participant id -> the pages showing that participant
        self._rooms: dict[str, dict[int, set[str]]] = {}

    def beat(self, *, client: str, seat: Seat, now: float) -> bool:
        """Record that ``client`` is showing ``seat``'s room; True when the seat came online."""
        if self._seat_of.get(client, seat) != seat:
            self._remove(client)
        interview_id, participant_id = seat
        pages = self._rooms.setdefault(interview_id, {}).setdefault(participant_id, set())
        came_online = not pages
        pages.add(client)
        self._last_seen[client] = now
        self._seat_of[client] = seat
        return came_online

    def leave(self, client: str) -> Seat | None:
        """Forget ``client``; returns its seat when that seat has no other page open."""
        return self._remove(client)

    def sweep(self, now: float) -> list[Seat]:
        """Forget pages not heard from within the timeout; returns the seats that went offline."""
        stale = [c for c, seen in self._last_seen.items() if now - seen > self.timeout]
        gone = [self._remove(client) for client in stale]
        return [seat for seat in gone if seat is not None]

    def drop_room(self, interview_id: str) -> list[Seat]:
        """Forget every page of a room that is gone (ended or deleted); the seats dropped."""
        clients = [c for c, seat in self._seat_of.items() if seat[0] == interview_id]
        gone = [self._remove(client) for client in clients]
        return [seat for seat in gone if seat is not None]

    def rooms(self) -> set[str]:
        """The ids of the interviews someone is online in."""
        return set(self._rooms)

    def online(self, interview_id: str) -> set[int]:
        """The ids of the participants of this interview who are online."""
        return set(self._rooms.get(interview_id, {}))

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


@cache
def get_presence() -> Presence:
    """This instance's presence registry."""
    return Presence(timeout=get_settings().presence_timeout_seconds)
