"""crud's interviewer toolkit on the real databases: the interviewer link, private notes and
hints, the room's controls, and what an ended interview refuses."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pycrdt import Doc, Text
from sqlmodel import Session, select

from rivendell import crud
from rivendell.anchors import make_anchor, resolve_lines
from rivendell.models import (
    Interview,
    InterviewCreate,
    NoteCreate,
    NoteKind,
    NoteUpdate,
    ParticipantCreate,
    Role,
    Runner,
    TimelineEvent,
    TimelineKind,
)

TTL = timedelta(hours=24)


def room(db: Session) -> tuple[Interview, str, str]:
    """An interview, its creator's (interviewer's) token and a candidate's token."""
    interview, _, creator = crud.create_interview(
        db=db, data=InterviewCreate(title="Toolkit", language="python", creator_name="Alex")
    )
    _, candidate = crud.join_interview(
        db=db, interview=interview, data=ParticipantCreate(name="Sam")
    )
    return interview, creator, candidate


def timeline(db: Session, interview_id: str, kind: TimelineKind) -> list[TimelineEvent]:
    return [e for e in crud.list_timeline(db=db, interview_id=interview_id) if e.kind == kind]


def test_the_interviewer_link_seats_an_interviewer_and_a_wrong_key_seats_no_one(
    db: Session,
) -> None:
    interview, creator, candidate = room(db)
    key = crud.interviewer_key(db=db, interview_id=interview.id, token=creator, ttl=TTL)
    assert key == interview.interviewer_key
    assert len(key) >= 43
    seat, _ = crud.join_interview(
        db=db, interview=interview, data=ParticipantCreate(name="Robin"), interviewer_key=key
    )
    assert seat.role == Role.INTERVIEWER
    before = len(crud.list_participants(db=db, interview_id=interview.id))
    with pytest.raises(crud.Forbidden, match="interviewer link is not valid"):
        crud.join_interview(
            db=db,
            interview=interview,
            data=ParticipantCreate(name="Eve"),
            interviewer_key=key[:-1] + ("A" if key[-1] != "A" else "B"),
        )
    assert len(crud.list_participants(db=db, interview_id=interview.id)) == before
    with pytest.raises(crud.Forbidden, match="only interviewers"):
        crud.interviewer_key(db=db, interview_id=interview.id, token=candidate, ttl=TTL)


def test_an_interview_made_before_the_link_gets_a_key_when_an_interviewer_asks(
    db: Session,
) -> None:
    interview, creator, _ = room(db)
    interview.interviewer_key = ""
    db.add(interview)
    db.commit()
    with pytest.raises(crud.Forbidden):  # an empty key matches nothing, not even ""
        crud.join_interview(
            db=db, interview=interview, data=ParticipantCreate(name="X"), interviewer_key=" "
        )
    key = crud.interviewer_key(db=db, interview_id=interview.id, token=creator, ttl=TTL)
    assert key
    assert crud.interviewer_key(db=db, interview_id=interview.id, token=creator, ttl=TTL) == key


def test_notes_are_for_interviewers_only_and_go_on_the_timeline(db: Session) -> None:
    interview, creator, candidate = room(db)
    doc: Doc[Any] = Doc()
    doc.get("code", type=Text).insert(0, "a = 1\nb = 2\nc = 3\n")
    start, end = make_anchor(doc, 6), make_anchor(doc, 17, end=True)
    data = NoteCreate(
        markdown="Good **naming**",
        anchor_start=base64.b64encode(start).decode(),
        anchor_end=base64.b64encode(end).decode(),
        line_start=2,
        line_end=3,
    )
    note = crud.create_note(db=db, interview_id=interview.id, token=creator, ttl=TTL, data=data)
    assert (note.anchor_start, note.anchor_end) == (start, end)
    assert resolve_lines(doc, note.anchor_start or b"", note.anchor_end or b"") == (2, 3)
    hint = crud.create_note(
        db=db, interview_id=interview.id, token=creator, ttl=TTL, data=NoteCreate(kind="hint")
    )
    assert hint.kind == NoteKind.HINT
    assert hint.markdown == ""

    for refused in (
        lambda: crud.list_notes(db=db, interview_id=interview.id, token=candidate, ttl=TTL),
        lambda: crud.create_note(
            db=db, interview_id=interview.id, token=candidate, ttl=TTL, data=data
        ),
        lambda: crud.delete_note(
            db=db, interview_id=interview.id, token=candidate, ttl=TTL, note_id=note.id or 0
        ),
    ):
        with pytest.raises(crud.Forbidden, match="only interviewers"):
            refused()

    notes = crud.list_notes(db=db, interview_id=interview.id, token=creator, ttl=TTL)
    assert [n.id for n in notes] == [note.id, hint.id]
    [written] = timeline(db, interview.id, TimelineKind.NOTE)
    assert written.data == {
        "note_id": note.id,
        "markdown": "Good **naming**",
        "line_start": 2,
        "line_end": 3,
        "moment": note.moment.isoformat(),
    }
    [given] = timeline(db, interview.id, TimelineKind.HINT)
    assert given.data["note_id"] == hint.id

    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    changed = crud.update_note(
        db=db,
        interview_id=interview.id,
        token=creator,
        ttl=TTL,
        note_id=note.id or 0,
        data=NoteUpdate(markdown="Better", moment=moment),
    )
    assert changed.markdown == "Better"
    assert changed.line_start == 2
    assert changed.anchor_start
    crud.delete_note(db=db, interview_id=interview.id, token=creator, ttl=TTL, note_id=hint.id or 0)
    assert [
        n.id for n in crud.list_notes(db=db, interview_id=interview.id, token=creator, ttl=TTL)
    ] == [note.id]
    edits = timeline(db, interview.id, TimelineKind.NOTE)
    assert edits[-1].data["edited"] is True
    assert edits[-1].data["markdown"] == "Better"
    assert timeline(db, interview.id, TimelineKind.HINT)[-1].data["deleted"] is True


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"markdown": "   "}, "empty"),
        ({"markdown": "x", "anchor_start": "AAcHAA=="}, "both anchors"),
        ({"markdown": "x", "anchor_start": "!!", "anchor_end": "AAcHAA=="}, "base64"),
        (
            {"markdown": "x", "anchor_start": "AAcHAA==", "anchor_end": "AAcHAA=="},
            "needs the lines",
        ),
        ({"markdown": "x", "line_start": 3, "line_end": 2}, "after line_end"),
    ],
)
def test_a_malformed_note_is_refused_with_the_reason(
    db: Session, fields: dict[str, Any], message: str
) -> None:
    interview, creator, _ = room(db)
    with pytest.raises(crud.Invalid, match=message):
        crud.create_note(
            db=db, interview_id=interview.id, token=creator, ttl=TTL, data=NoteCreate(**fields)
        )


def test_controls_are_the_interviewers_and_each_change_is_on_the_timeline(db: Session) -> None:
    interview, creator, candidate = room(db)
    with pytest.raises(crud.Forbidden):
        crud.set_controls(db=db, interview_id=interview.id, token=candidate, ttl=TTL, locked=True)
    crud.set_controls(db=db, interview_id=interview.id, token=creator, ttl=TTL, locked=True)
    crud.set_controls(db=db, interview_id=interview.id, token=creator, ttl=TTL, locked=True)
    crud.set_controls(db=db, interview_id=interview.id, token=creator, ttl=TTL, run_disabled=True)
    db.refresh(interview)
    assert interview.locked
    assert interview.run_disabled
    assert [e.data for e in timeline(db, interview.id, TimelineKind.CONTROL)] == [
        {"locked": True},
        {"run_disabled": True},
    ]

    with pytest.raises(crud.Forbidden, match="disabled Run for candidates"):
        crud.start_run(
            db=db,
            interview_id=interview.id,
            token=candidate,
            ttl=TTL,
            runner=Runner.SERVER,
            code="print(1)",
            stdin="",
        )
    run, _ = crud.start_run(
        db=db,
        interview_id=interview.id,
        token=creator,
        ttl=TTL,
        runner=Runner.SERVER,
        code="print(1)",
        stdin="",
    )
    assert run.id


def test_an_ended_interview_refuses_every_change_but_keeps_its_notes_readable(
    db: Session,
) -> None:
    interview, creator, candidate = room(db)
    crud.create_note(
        db=db, interview_id=interview.id, token=creator, ttl=TTL, data=NoteCreate(markdown="n")
    )
    crud.end_interview(db=db, interview_id=interview.id, token=creator, admin_token="")
    for change in (
        lambda: crud.update_problem(
            db=db, interview_id=interview.id, token=creator, markdown="x", ttl=TTL
        ),
        lambda: crud.update_language(
            db=db, interview_id=interview.id, token=candidate, language="go", ttl=TTL
        ),
        lambda: crud.start_run(
            db=db,
            interview_id=interview.id,
            token=candidate,
            ttl=TTL,
            runner=Runner.SERVER,
            code="",
            stdin="",
        ),
        lambda: crud.create_note(
            db=db, interview_id=interview.id, token=creator, ttl=TTL, data=NoteCreate(markdown="x")
        ),
        lambda: crud.set_controls(
            db=db, interview_id=interview.id, token=creator, ttl=TTL, locked=True
        ),
    ):
        with pytest.raises(crud.Ended, match="ended"):
            change()
    assert len(crud.list_notes(db=db, interview_id=interview.id, token=creator, ttl=TTL)) == 1


def test_deleting_an_interview_deletes_its_notes(db: Session) -> None:
    interview, creator, _ = room(db)
    crud.create_note(
        db=db, interview_id=interview.id, token=creator, ttl=TTL, data=NoteCreate(markdown="n")
    )
    crud.delete_interviews(
        db=db, interview_ids=[interview.id], token="a" * 20, admin_token="a" * 20
    )
    from rivendell.models import Note

    assert db.exec(select(Note)).all() == []
