"""REST v1 for the interviewer's toolkit: private notes and hints, and the room's controls.

Thin routes like the others: ``crud`` decides (only interviewers' tokens; a candidate's gets
403), then the same room event the UI publishes. Notes are answered with where their pinned
code is now (``current_line_*``), resolved against the room's live document when this process
serves it, else against the stored one (at most a save, about a second, behind).
"""

from __future__ import annotations

import asyncio
import base64
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Response

from rivendell import crud
from rivendell.anchors import resolve_lines
from rivendell.api.errors import error_responses
from rivendell.api.schemas import ControlsOut, ControlsUpdate, NoteOut
from rivendell.api.sessions import Token
from rivendell.collab import get_collab_server
from rivendell.db import session
from rivendell.events import EventType, RoomEvent, bus
from rivendell.markdown import render_markdown
from rivendell.models import Note, NoteCreate, NoteUpdate
from rivendell.settings import get_settings

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["interviewer toolkit"])

_NOTES = "/sessions/{session_id}/notes"
NoteId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The note's id")]


def _ttl() -> timedelta:
    return timedelta(hours=get_settings().interview_ttl_hours)


def _b64(anchor: bytes | None) -> str | None:
    return base64.b64encode(anchor).decode() if anchor else None


def _note_out(note: Note, document: bytes | None) -> NoteOut:
    current = None
    if document is not None and note.anchor_start and note.anchor_end:
        current = resolve_lines(document, note.anchor_start, note.anchor_end)
    try:
        html = render_markdown(note.markdown)
    except ValueError:
        html = ""
    return NoteOut(
        id=note.id or 0,
        kind=note.kind,
        markdown=note.markdown,
        html=html,
        author_id=note.author_id,
        anchor_start=_b64(note.anchor_start),
        anchor_end=_b64(note.anchor_end),
        line_start=note.line_start,
        line_end=note.line_end,
        current_line_start=current[0] if current else None,
        current_line_end=current[1] if current else None,
        moment=note.moment,
        created_at=note.created_at,
        updated_at=note.updated_at,
    )


def _stored_document(interview_id: str) -> bytes | None:
    with session() as db:
        try:
            state, _ = crud.load_document(db=db, interview_id=interview_id)
        except crud.NotFound:
            return None
    return state


async def _answer(notes: list[Note], interview_id: str) -> list[NoteOut]:
    """The notes as the API shows them, each with where its pinned code is now."""
    document: bytes | None = None
    if any(n.anchor_start for n in notes):
        # The open room's document is read on the loop (pycrdt documents are not thread-safe).
        room = get_collab_server().rooms.get(interview_id)
        if room is not None:
            document = room.ydoc.get_update()
        else:
            document = await asyncio.to_thread(_stored_document, interview_id)
    return await asyncio.to_thread(lambda: [_note_out(n, document) for n in notes])


def _changed(session_id: str, note_id: int | None) -> None:
    bus.publish(RoomEvent(session_id, EventType.NOTES_CHANGED, {"note_id": note_id}))


@router.get(
    _NOTES,
    response_model=list[NoteOut],
    responses=error_responses(401, 403, 404, 422, 503),
    summary="The private notes and hints (interviewer token)",
)
async def list_notes(session_id: str, token: Token) -> list[NoteOut]:
    """Every note and hint in the order written, also once the interview ended.
    A candidate's token gets 403: notes are private to the interviewers."""

    def read() -> list[Note]:
        with session() as db:
            return crud.list_notes(db=db, interview_id=session_id, token=token, ttl=_ttl())

    return await _answer(await asyncio.to_thread(read), session_id)


@router.post(
    _NOTES,
    status_code=201,
    response_model=NoteOut,
    responses=error_responses(401, 403, 404, 409, 413, 422, 503),
    summary="Write a private note, or record a hint (interviewer token)",
)
async def create_note(session_id: str, data: NoteCreate, token: Token) -> NoteOut:
    """A note (``kind`` ``note``) or a hint given (``hint``), optionally pinned to code (both
    anchors and both lines) and to a ``moment`` (default: now). It goes on the timeline."""

    def write() -> Note:
        with session() as db:
            return crud.create_note(
                db=db, interview_id=session_id, token=token, ttl=_ttl(), data=data
            )

    note = await asyncio.to_thread(write)
    _changed(session_id, note.id)
    return (await _answer([note], session_id))[0]


@router.patch(
    _NOTES + "/{note_id}",
    response_model=NoteOut,
    responses=error_responses(401, 403, 404, 409, 413, 422, 503),
    summary="Change a private note (interviewer token)",
)
async def update_note(session_id: str, note_id: NoteId, data: NoteUpdate, token: Token) -> NoteOut:
    """Only the fields sent change; re-pinning sends both anchors and both lines."""

    def write() -> Note:
        with session() as db:
            return crud.update_note(
                db=db, interview_id=session_id, token=token, ttl=_ttl(), note_id=note_id, data=data
            )

    note = await asyncio.to_thread(write)
    _changed(session_id, note.id)
    return (await _answer([note], session_id))[0]


@router.delete(
    _NOTES + "/{note_id}",
    status_code=204,
    response_class=Response,
    responses=error_responses(401, 403, 404, 409, 422, 503),
    summary="Delete a private note (interviewer token)",
)
async def delete_note(session_id: str, note_id: NoteId, token: Token) -> Response:
    """Delete the note; the timeline keeps that it was written and deleted."""

    def write() -> None:
        with session() as db:
            crud.delete_note(
                db=db, interview_id=session_id, token=token, ttl=_ttl(), note_id=note_id
            )

    await asyncio.to_thread(write)
    _changed(session_id, note_id)
    return Response(status_code=204)


@router.patch(
    "/sessions/{session_id}/controls",
    response_model=ControlsOut,
    responses=error_responses(401, 403, 404, 409, 422, 503),
    summary="Lock the editor or disable Run for candidates (interviewer token)",
)
async def set_controls(session_id: str, data: ControlsUpdate, token: Token) -> ControlsOut:
    """Every open browser (on every instance) follows at once; each change is on the timeline."""

    def write() -> ControlsOut:
        with session() as db:
            interview = crud.set_controls(
                db=db,
                interview_id=session_id,
                token=token,
                ttl=_ttl(),
                locked=data.locked,
                run_disabled=data.run_disabled,
            )
            return ControlsOut(locked=interview.locked, run_disabled=interview.run_disabled)

    controls = await asyncio.to_thread(write)
    bus.publish(RoomEvent(session_id, EventType.CONTROLS_CHANGED, controls.model_dump()))
    return controls
