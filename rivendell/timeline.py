"""The interview's timeline: what the room's events put on it, and the one document it reads as.

Most entries are written by ``crud`` in the transaction of the change they record (an edit with
its save, a run with its outcome); presence has no such transaction, so this module records
joins and leaves from the room event bus. ``timeline_document`` is the documented JSON
(docs/timeline.md) the API serves and the export archive holds; ``export_archive`` is that
archive.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import logging
import zipfile
from datetime import UTC, datetime
from typing import Any, Literal

from pycrdt import Encoder
from pydantic import BaseModel, Field
from sqlmodel import Session

from rivendell import crud
from rivendell.anchors import resolve_lines
from rivendell.collab import get_collab_server
from rivendell.db import DatabaseUnavailable, session
from rivendell.events import EventType, RoomEvent
from rivendell.executor.languages import languages
from rivendell.models import Note, NoteKind, Role, TimelineEvent, TimelineKind
from rivendell.settings import get_admin_token

__all__ = [
    "FORMAT",
    "VERSION",
    "TimelineDocument",
    "TimelineEntry",
    "export_archive",
    "export_name",
    "notes_markdown",
    "read_timeline",
    "record_presence",
    "schema_json",
    "timeline_document",
    "update_log",
]

logger = logging.getLogger(__name__)

FORMAT: Literal["rivendell-timeline"] = "rivendell-timeline"
VERSION: Literal[1] = 1

_ONLINE = {EventType.USER_JOINED: True, EventType.USER_LEFT: False}
_recording: dict[tuple[str, int], asyncio.Lock] = {}


async def record_presence(event: RoomEvent) -> None:
    """Event-bus subscriber (this process's events only): put joins and leaves on the timeline."""
    online = _ONLINE.get(event.type)
    participant_id = event.data.get("id")
    if online is None or not isinstance(participant_id, int):
        return

    def write() -> None:
        with session() as db:
            crud.record_presence(
                db=db,
                interview_id=event.interview_id,
                participant_id=participant_id,
                online=online,
            )

    # One at a time per person: taking a seat and the first heartbeat announce the same arrival
    # together, and each read of "where their last entry left them" must see the other's write.
    seat = (event.interview_id, participant_id)
    lock = _recording.setdefault(seat, asyncio.Lock())
    try:
        async with lock:
            await asyncio.to_thread(write)
    except DatabaseUnavailable:
        return  # logged once by rivendell.db; presence itself carries on
    except Exception:
        logger.exception("timeline %s: recording %s failed", event.interview_id, event.type)


class TimelineInterview(BaseModel):
    """The interview the timeline belongs to, as it is at the time of reading."""

    id: str
    title: str
    language: str = Field(description="The room's language id now (its changes are entries)")
    problem_markdown: str
    created_at: datetime
    ended_at: datetime | None
    final_code: str = Field(description="The code now; replaying the updates gives it")


class TimelineParticipant(BaseModel):
    """Someone who joined; entries name them by ``id``."""

    id: int
    name: str
    role: Role
    color: str = Field(description="Their colour in the room (cursors, playback)")


class TimelineEntry(BaseModel):
    """One thing that happened; ``data`` depends on ``kind`` (docs/timeline.md lists each)."""

    id: int = Field(description="Increasing in the order things happened")
    at: datetime = Field(description="When the server recorded it (UTC)")
    kind: TimelineKind
    participant_id: int | None = Field(description="Who did it; null for the server")
    data: dict[str, Any]
    update: str | None = Field(
        description="seed and edit entries: the Yjs update (v1 encoding), base64"
    )


class TimelineNote(BaseModel):
    """A private note or hint as it is now (its history is its ``note``/``hint`` entries)."""

    id: int
    kind: NoteKind
    author_id: int | None
    markdown: str
    line_start: int | None = Field(description="The first line it was pinned to, as written")
    line_end: int | None
    current_line_start: int | None = Field(
        description="Where its pinned code is in the stored document now (null: not pinned, "
        "or the code is gone)"
    )
    current_line_end: int | None
    anchor_start: str | None = Field(description="Yjs relative position (base64)")
    anchor_end: str | None
    moment: datetime = Field(description="The moment of the interview it is about")
    created_at: datetime
    updated_at: datetime


class TimelineDocument(BaseModel):
    """An interview's whole timeline: what the API serves and ``timeline.json`` in the export."""

    format: Literal["rivendell-timeline"] = FORMAT
    version: Literal[1] = VERSION
    interview: TimelineInterview
    participants: list[TimelineParticipant]
    events: list[TimelineEntry]
    notes: list[TimelineNote] = Field(description="Every note and hint as it is now")


async def read_timeline(interview_id: str, token: str, after_id: int = 0) -> TimelineDocument:
    """The timeline for an interviewer's (or the admin's) token; raises ``crud.Error`` otherwise.

    The final code is the room's as it is now anywhere in the fleet, not its last save.
    """

    def check() -> None:
        with session() as db:
            crud.require_interviewer(
                db=db, interview_id=interview_id, token=token, admin_token=get_admin_token()
            )

    await asyncio.to_thread(check)
    live_code = await get_collab_server().current_text(interview_id)

    def read() -> TimelineDocument:
        with session() as db:
            interview = crud.get_interview(db=db, interview_id=interview_id)
            final = live_code if live_code is not None else interview.code if interview else ""
            return timeline_document(
                db=db, interview_id=interview_id, final_code=final, after_id=after_id
            )

    return await asyncio.to_thread(read)


def _utc(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; every one is stored in UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _b64(data: bytes | None) -> str | None:
    return base64.b64encode(data).decode("ascii") if data else None


def _note(note: Note, state: bytes | None) -> TimelineNote:
    now = None
    if state is not None and note.anchor_start and note.anchor_end:
        now = resolve_lines(state, note.anchor_start, note.anchor_end)
    return TimelineNote(
        id=note.id or 0,
        kind=note.kind,
        author_id=note.author_id,
        markdown=note.markdown,
        line_start=note.line_start,
        line_end=note.line_end,
        current_line_start=now[0] if now else None,
        current_line_end=now[1] if now else None,
        anchor_start=_b64(note.anchor_start),
        anchor_end=_b64(note.anchor_end),
        moment=_utc(note.moment),
        created_at=_utc(note.created_at),
        updated_at=_utc(note.updated_at),
    )


def _entry(entry: TimelineEvent) -> TimelineEntry:
    return TimelineEntry(
        id=entry.id or 0,
        at=_utc(entry.at),
        kind=entry.kind,
        participant_id=entry.participant_id,
        data=entry.data,
        update=_b64(entry.update),
    )


def timeline_document(
    *, db: Session, interview_id: str, final_code: str, after_id: int = 0
) -> TimelineDocument:
    """The interview's whole timeline (from just after ``after_id``) in the documented format."""
    interview = crud.get_interview(db=db, interview_id=interview_id)
    if interview is None:
        raise crud.NotFound("interview not found")
    people = crud.list_participants(db=db, interview_id=interview_id)
    state, _ = crud.load_document(db=db, interview_id=interview_id)
    return TimelineDocument(
        interview=TimelineInterview(
            id=interview.id,
            title=interview.title,
            language=interview.language,
            problem_markdown=interview.problem_markdown,
            created_at=_utc(interview.created_at),
            ended_at=_utc(interview.ended_at) if interview.ended_at else None,
            final_code=final_code,
        ),
        participants=[
            TimelineParticipant(id=p.id or 0, name=p.name, role=p.role, color=p.color)
            for p in people
        ],
        events=[
            _entry(entry)
            for entry in crud.list_timeline(db=db, interview_id=interview_id, after_id=after_id)
        ],
        notes=[_note(note, state) for note in crud.room_notes(db=db, interview_id=interview_id)],
    )


def update_log(document: TimelineDocument) -> bytes:
    """The document's updates as one binary log: each a varint length, then the Yjs update.

    The same framing as lib0's ``writeVarUint8Array``, so a Yjs tool reads it with
    ``decoding.readVarUint8Array`` in a loop and applies each update.
    """
    out = bytearray()
    for event in document.events:
        if event.update is None:
            continue
        update = base64.b64decode(event.update)
        length = Encoder()
        length.write_var_uint(len(update))
        out += length.to_bytes() + update
    return bytes(out)


def export_archive(document: TimelineDocument) -> bytes:
    """The whole interview as one zip: timeline, final code, problem, runs, the update log."""
    interview = document.interview
    language = languages().get(interview.language)
    code_name = f"code/{language.file_name if language else 'code.txt'}"
    runs = [event.data for event in document.events if event.kind == TimelineKind.RUN]
    files = {
        "timeline.json": document.model_dump_json(indent=1),
        code_name: interview.final_code,
        "problem.md": interview.problem_markdown,
        "runs.json": json.dumps(runs, ensure_ascii=False, indent=1),
        "notes.md": notes_markdown(document),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, text)
        archive.writestr("updates.bin", update_log(document))
    return buffer.getvalue()


def notes_markdown(document: TimelineDocument) -> str:
    """The interviewers' notes and hints as one Markdown file, in the order written."""
    names = {p.id: p.name for p in document.participants}
    parts = [f"# Notes: {document.interview.title}\n"]
    for note in document.notes:
        heading = "Hint" if note.kind == NoteKind.HINT else "Note"
        by = names.get(note.author_id or 0, "someone")
        pinned = ""
        if note.line_start is not None:
            pinned = f", lines {note.line_start}\u2013{note.line_end or note.line_start}"
            if note.current_line_start is not None:
                pinned += f" (now {note.current_line_start}\u2013{note.current_line_end})"
        moment = note.moment.strftime("%Y-%m-%d %H:%M:%S UTC")
        parts.append(f"## {heading} by {by}{pinned}, {moment}\n\n{note.markdown}\n")
    if not document.notes:
        parts.append("No notes.\n")
    return "\n".join(parts)


def export_name(document: TimelineDocument) -> str:
    """The archive's file name: the title made safe for any file system, and the id."""
    interview = document.interview
    title = "".join(c if c.isascii() and c.isalnum() else "-" for c in interview.title.lower())
    title = "-".join(part for part in title.split("-") if part)[:40] or "interview"
    return f"rivendell-{title}-{interview.id[:8]}.zip"


def schema_json() -> str:
    """The JSON Schema of ``timeline.json`` and the API's timeline (docs/timeline.schema.json)."""
    schema = TimelineDocument.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://github.com/rivendell/rivendell/docs/timeline.schema.json"
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    print(schema_json(), end="")
