"""Live co-editing: the Yjs room server mounted on the Reflex backend at ``/ws/collab/{id}``.

``create_collab_server`` wires the server to the database (admission by token, seeding,
saving in group commits by a writer process of its own, with the edits since the last save as
the timeline's update log) and, with a Redis URL, to the other processes serving the same rooms
(``relay``).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from functools import cache

from rivendell import crud
from rivendell.collab.channel import Limits
from rivendell.collab.relay import Relay
from rivendell.collab.room import CODE, CollabRoom, new_document
from rivendell.collab.saver import GroupSaver
from rivendell.collab.server import PATH_PREFIX, Admission, CollabServer, Refused
from rivendell.collab.writer import DocumentWriter
from rivendell.db import DatabaseUnavailable, session
from rivendell.models import MAX_CODE_CHARS, Interview, Role
from rivendell.settings import get_settings

__all__ = [
    "CODE",
    "MAX_DOCUMENT_BYTES",
    "PATH_PREFIX",
    "CollabRoom",
    "CollabServer",
    "Limits",
    "create_collab_server",
    "get_collab_server",
]

# Twice MAX_CODE_CHARS of ASCII leaves the CRDT room for its bookkeeping.
MAX_DOCUMENT_BYTES = 512 * 1024
assert MAX_CODE_CHARS * 2 <= MAX_DOCUMENT_BYTES

# Close codes the browser shows as a reason and does not retry.
REFUSED_UNKNOWN = 4404
REFUSED_TOKEN = 4401
TRY_AGAIN_LATER = 1013


def _ttl() -> timedelta:
    return timedelta(hours=get_settings().interview_ttl_hours)


def _admit_sync(interview_id: str, token: str) -> Admission:
    with session() as db:
        interview = db.get(Interview, interview_id) if 0 < len(interview_id) <= 64 else None
        if interview is None:
            raise Refused(REFUSED_UNKNOWN, "interview not found")
        participant = crud.participant_for_token(db=db, interview_id=interview_id, token=token)
        if participant is None or participant.id is None:
            raise Refused(REFUSED_TOKEN, "not a participant of this interview")
        return Admission(
            participant.id,
            read_only=crud.is_closed(interview, _ttl()),
            interviewer=participant.role == Role.INTERVIEWER,
            locked=interview.locked,
        )


async def admit(interview_id: str, token: str) -> Admission:
    """Let a participant's socket in; raises ``Refused`` for anyone else."""
    try:
        return await asyncio.to_thread(_admit_sync, interview_id, token)
    except DatabaseUnavailable:
        # Not the client's fault and logged once by rivendell.db: 1013 makes y-websocket retry.
        raise Refused(TRY_AGAIN_LATER, "the database is unavailable; reconnecting") from None


def _load_sync(interview_id: str) -> tuple[bytes | None, str]:
    with session() as db:
        state, code = crud.load_document(db=db, interview_id=interview_id)
        if state is None:
            seeded = new_document(None, code).get_update()
            state = crud.seed_document(db=db, interview_id=interview_id, state=seeded)
        return state, code


async def load(interview_id: str) -> tuple[bytes | None, str]:
    """The stored document; a room that never had one is seeded (by one process only)."""
    return await asyncio.to_thread(_load_sync, interview_id)


@cache
def get_collab_server() -> CollabServer:
    """This process's collaboration server (started by the app's lifespan)."""
    return create_collab_server()


def create_collab_server() -> CollabServer:
    """The process's collaboration server, bound to the database (and the fleet's relay)."""
    writer = DocumentWriter()
    saver = GroupSaver(writer.write)
    redis_url = get_settings().redis_url
    return CollabServer(
        admit=admit,
        load=load,
        save=saver.save,
        max_document_bytes=MAX_DOCUMENT_BYTES,
        relay=Relay(redis_url) if redis_url else None,
        writer=writer,
    )
