"""The timeline: entries written with the changes they record, the document they read as, and
the export archive, on the real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from pycrdt import Decoder, Doc, Text
from sqlmodel import Session

from rivendell import crud
from rivendell.anchors import make_anchor
from rivendell.collab import CODE, load
from rivendell.events import EventType, RoomEvent
from rivendell.models import (
    Edit,
    InterviewCreate,
    NoteCreate,
    ParticipantCreate,
    Runner,
    RunStatus,
)
from rivendell.timeline import (
    TimelineDocument,
    TimelineEntry,
    export_archive,
    record_presence,
    schema_json,
    timeline_document,
    update_log,
)


def new_room(db: Session) -> tuple[str, str, str, int, int]:
    interview, host, host_token = crud.create_interview(
        db=db, data=InterviewCreate(title="Two Sum / v2", language="python", creator_name="Alex")
    )
    guest, guest_token = crud.join_interview(
        db=db, interview=interview, data=ParticipantCreate(name="Sam")
    )
    assert host.id is not None
    assert guest.id is not None
    return interview.id, host_token, guest_token, host.id, guest.id


def edit(doc: Doc[Any], change: str) -> bytes:
    """Append ``change`` to the document's code; the update it makes."""
    before = doc.get_state()
    doc.get(CODE, type=Text).__iadd__(change)
    return doc.get_update(before)


def replay(events: list[TimelineEntry]) -> str:
    doc: Doc[Any] = Doc()
    for event in events:
        if event.update is not None:
            doc.apply_update(base64.b64decode(event.update))
    return str(doc.get(CODE, type=Text))


async def test_every_change_goes_on_the_timeline_and_replays_to_the_final_code(
    db: Session,
) -> None:
    room, host_token, guest_token, host_id, guest_id = new_room(db)
    state, _ = await load(room)  # a room opened for the first time is seeded
    assert state is not None
    doc: Doc[Any] = Doc()
    doc.apply_update(state)
    candidate = edit(doc, "# Sam: two pointers ✓\n")
    interviewer = edit(doc, "# Alex: why not a set?\n")
    final = str(doc.get(CODE, type=Text))
    crud.save_documents(
        db=db,
        documents={room: (doc.get_update(), final)},
        edits={room: [Edit(guest_id, candidate), Edit(host_id, interviewer)]},
    )
    ttl = timedelta(hours=1)
    crud.update_language(db=db, interview_id=room, token=guest_token, language="go", ttl=ttl)
    crud.update_problem(db=db, interview_id=room, token=host_token, markdown="# Sum", ttl=ttl)
    run, _ = crud.start_run(
        db=db,
        interview_id=room,
        token=guest_token,
        ttl=ttl,
        runner=Runner.SERVER,
        code=final,
        stdin="1 2",
    )
    crud.finish_run(db=db, run_id=run.id or 0, status=RunStatus.OK, stdout="3\n", exit_code=0)
    await record_presence(RoomEvent(room, EventType.USER_LEFT, {"id": guest_id}))
    crud.end_interview(db=db, interview_id=room, token=host_token, admin_token="")

    document = timeline_document(db=db, interview_id=room, final_code=final)
    kinds = [(e.kind.value, e.participant_id) for e in document.events]
    assert kinds == [
        ("seed", None),
        ("edit", guest_id),
        ("edit", host_id),
        ("language", guest_id),
        ("problem", host_id),
        ("run", guest_id),
        ("leave", guest_id),
        ("ended", None),
    ]
    events = document.events
    assert events[3].data == {"language": "go"}
    assert events[4].data == {"markdown": "# Sum"}
    assert (events[5].data["stdin"], events[5].data["stdout"]) == ("1 2", "3\n")
    assert [e.at for e in events] == sorted(e.at for e in events)
    assert all(e.at.utcoffset() == timedelta(0) for e in events)
    assert replay(events) == final == document.interview.final_code
    assert [p.role.value for p in document.participants] == ["interviewer", "candidate"]
    later = timeline_document(db=db, interview_id=room, final_code=final, after_id=events[5].id)
    assert [e.kind.value for e in later.events] == ["leave", "ended"]


async def test_the_archive_holds_the_timeline_code_problem_runs_and_update_log(
    db: Session,
) -> None:
    room, _, _, host_id, _ = new_room(db)
    state, _ = await load(room)
    assert state is not None
    doc: Doc[Any] = Doc()
    doc.apply_update(state)
    change = edit(doc, "print('🦀')\n")
    final = str(doc.get(CODE, type=Text))
    crud.save_documents(
        db=db, documents={room: (doc.get_update(), final)}, edits={room: [Edit(host_id, change)]}
    )
    document = timeline_document(db=db, interview_id=room, final_code=final)
    with zipfile.ZipFile(io.BytesIO(export_archive(document))) as archive:
        assert sorted(archive.namelist()) == [
            "code/main.py",
            "notes.md",
            "problem.md",
            "runs.json",
            "timeline.json",
            "updates.bin",
        ]
        assert archive.read("code/main.py").decode() == final
        stored = json.loads(archive.read("timeline.json"))
        assert TimelineDocument.model_validate(stored) == document
        log = archive.read("updates.bin")
    assert log == update_log(document)
    replayed: Doc[Any] = Doc()
    for update in Decoder(log).read_messages():  # lib0's readVarUint8Array, in a loop
        replayed.apply_update(update)
    assert str(replayed.get(CODE, type=Text)).encode() == final.encode()


def test_a_seed_that_loses_the_race_leaves_no_second_seed_entry(db: Session) -> None:
    room, *_ = new_room(db)
    first = crud.seed_document(db=db, interview_id=room, state=b"\x00\x00")
    again = crud.seed_document(db=db, interview_id=room, state=b"\x01\x00")
    assert again == first
    document = timeline_document(db=db, interview_id=room, final_code="")
    assert [e.kind.value for e in document.events] == ["seed"]


def test_only_interviewers_and_the_admin_may_read_the_timeline(db: Session) -> None:
    room, host_token, guest_token, *_ = new_room(db)
    assert crud.require_interviewer(db=db, interview_id=room, token=host_token, admin_token="")
    assert crud.require_interviewer(db=db, interview_id=room, token="adm", admin_token="adm")
    with pytest.raises(crud.Forbidden, match="only interviewers can see this"):
        crud.require_interviewer(db=db, interview_id=room, token=guest_token, admin_token="adm")
    with pytest.raises(crud.Unauthorized):
        crud.require_interviewer(db=db, interview_id=room, token="forged", admin_token="adm")


def test_the_documented_schema_is_the_one_the_code_serves() -> None:
    committed = (Path(__file__).parent.parent / "docs" / "timeline.schema.json").read_text()
    assert committed == schema_json(), (
        "regenerate: .venv/bin/python -m rivendell.timeline > docs/timeline.schema.json"
    )


def test_an_exported_timeline_validates_against_the_schema_and_a_wrong_one_does_not(
    db: Session,
) -> None:
    room, *_ = new_room(db)
    crud.seed_document(db=db, interview_id=room, state=Doc().get_update())
    document = json.loads(
        timeline_document(db=db, interview_id=room, final_code="").model_dump_json()
    )
    validator = jsonschema_rs.validator_for(json.loads(schema_json()))
    validator.validate(document)
    document["events"][0]["kind"] = "teleport"
    assert not validator.is_valid(document)


async def test_presence_goes_on_the_timeline_once_per_change(db: Session) -> None:
    room, *_, guest_id = new_room(db)
    arrive = RoomEvent(room, EventType.USER_JOINED, {"id": guest_id})
    await asyncio.gather(record_presence(arrive), record_presence(arrive))  # seat + heartbeat
    await record_presence(RoomEvent(room, EventType.USER_LEFT, {"id": guest_id}))
    await record_presence(arrive)
    document = timeline_document(db=db, interview_id=room, final_code="")
    assert [e.kind.value for e in document.events] == ["join", "leave", "join"]


async def test_the_seed_entry_names_the_starter_codes_language(db: Session) -> None:
    room, *_ = new_room(db)
    await load(room)
    document = timeline_document(db=db, interview_id=room, final_code="")
    assert [(e.kind.value, e.data) for e in document.events] == [("seed", {"language": "python"})]


async def test_the_document_and_archive_hold_notes_where_their_code_is_now(db: Session) -> None:
    room, host_token, _, host_id, _ = new_room(db)
    state, _ = await load(room)
    assert state is not None
    doc: Doc[Any] = Doc()
    doc.apply_update(state)
    text = doc.get(CODE, type=Text)
    text.clear()
    text += "def solve():\n    return 42\n"
    line_two = len("def solve():\n")
    start, end = make_anchor(doc, line_two), make_anchor(doc, len(str(text)) - 1, end=True)
    note = NoteCreate(
        markdown="hard-codes the answer",
        anchor_start=base64.b64encode(start).decode(),
        anchor_end=base64.b64encode(end).decode(),
        line_start=2,
        line_end=2,
    )
    crud.create_note(db=db, interview_id=room, token=host_token, ttl=timedelta(hours=1), data=note)
    text.insert(0, "import sys\n\n")  # two lines above the pinned one
    crud.save_documents(db=db, documents={room: (doc.get_update(), str(text))})
    document = timeline_document(db=db, interview_id=room, final_code=str(text))
    [stored] = document.notes
    assert (stored.line_start, stored.current_line_start, stored.current_line_end) == (2, 4, 4)
    assert stored.author_id == host_id
    assert "note" in {e.kind.value for e in document.events}
    with zipfile.ZipFile(io.BytesIO(export_archive(document))) as archive:
        notes = archive.read("notes.md").decode()
    assert "## Note by Alex, lines 2\u20132 (now 4\u20134)" in notes
    assert "hard-codes the answer" in notes
