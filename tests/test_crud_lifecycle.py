"""crud's end of an interview's life: ending (who may), listing for the admin, deleting, and
the cleanup's two steps. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from rivendell import crud
from rivendell.models import (
    Document,
    Edit,
    Interview,
    InterviewCreate,
    Note,
    NoteKind,
    Participant,
    ParticipantCreate,
    Run,
    Runner,
    TestCase,
    TimelineEvent,
    utcnow,
)

ADMIN = "admin-token-for-tests-0123456789"
TTL = timedelta(hours=24)


def _interview(db: Session, title: str = "Round") -> tuple[Interview, str, str]:
    interview, _, creator = crud.create_interview(
        db=db, data=InterviewCreate(title=title, language="python", creator_name="Ada")
    )
    _, candidate = crud.join_interview(
        db=db, interview=interview, data=ParticipantCreate(name="Casey")
    )
    return interview, creator, candidate


def test_the_interviewer_or_the_admin_may_end_an_interview(db: Session) -> None:
    interview, creator, candidate = _interview(db)
    with pytest.raises(crud.Unauthorized):
        crud.end_interview(db=db, interview_id=interview.id, token="forged", admin_token=ADMIN)
    with pytest.raises(crud.Forbidden):
        crud.end_interview(db=db, interview_id=interview.id, token=candidate, admin_token=ADMIN)
    crud.end_interview(db=db, interview_id=interview.id, token=creator, admin_token=ADMIN)
    with pytest.raises(crud.Ended):
        crud.end_interview(db=db, interview_id=interview.id, token=ADMIN, admin_token=ADMIN)
    with pytest.raises(crud.Ended):
        crud.update_problem(db=db, interview_id=interview.id, token=creator, markdown="x", ttl=TTL)
    other, _, _ = _interview(db)
    crud.end_interview(db=db, interview_id=other.id, token=ADMIN, admin_token=ADMIN)
    with pytest.raises(crud.NotFound):
        crud.end_interview(db=db, interview_id="unknown", token=ADMIN, admin_token=ADMIN)


def test_only_the_admin_lists_and_the_list_filters_and_counts(db: Session) -> None:
    first, creator, _ = _interview(db, "Graph search 100%")
    second, second_creator, _ = _interview(db, "Strings")
    crud.start_run(
        db=db,
        interview_id=second.id,
        token=second_creator,
        ttl=TTL,
        runner=Runner.SERVER,
        code="print(1)",
        stdin="",
    )
    crud.end_interview(db=db, interview_id=first.id, token=ADMIN, admin_token=ADMIN)
    for token in (creator, "", "x" * 300):
        with pytest.raises(crud.Unauthorized):
            crud.list_interviews(db=db, token=token, admin_token=ADMIN)
    rows, total = crud.list_interviews(db=db, token=ADMIN, admin_token=ADMIN)
    assert total == 2
    assert {r.id for r in rows} == {first.id, second.id}
    ended, _ = crud.list_interviews(db=db, token=ADMIN, admin_token=ADMIN, status="ended")
    assert [r.id for r in ended] == [first.id]
    found, _ = crud.list_interviews(db=db, token=ADMIN, admin_token=ADMIN, search="100%")
    assert [r.id for r in found] == [first.id]
    assert crud.list_interviews(db=db, token=ADMIN, admin_token=ADMIN, search="_")[1] == 0
    strings = next(r for r in rows if r.id == second.id)
    assert strings.participants == 2
    assert strings.runs == 1
    assert strings.size_bytes >= len(second.code) + len("print(1)")
    page, total = crud.list_interviews(db=db, token=ADMIN, admin_token=ADMIN, limit=1, offset=1)
    assert len(page) == 1
    assert total == 2


def test_deleting_removes_everything_of_the_interview(db: Session) -> None:
    interview, creator, _ = _interview(db)
    kept, _, _ = _interview(db)
    crud.save_documents(
        db=db,
        documents={interview.id: (b"state", "code")},
        edits={interview.id: [Edit(None, b"update")]},
    )
    db.add(TestCase(interview_id=interview.id, stdin="1", expected_stdout="1"))
    db.add(Note(interview_id=interview.id, kind=NoteKind.NOTE, markdown="strong start"))
    db.commit()
    crud.start_run(
        db=db,
        interview_id=interview.id,
        token=creator,
        ttl=TTL,
        runner=Runner.SERVER,
        code="1",
        stdin="",
    )
    with pytest.raises(crud.Unauthorized):
        crud.delete_interviews(
            db=db, interview_ids=[interview.id], token=creator, admin_token=ADMIN
        )
    assert crud.delete_interviews(
        db=db, interview_ids=[interview.id, "unknown"], token=ADMIN, admin_token=ADMIN
    ) == [interview.id]
    for table in (TimelineEvent, Note, Run, TestCase, Document, Participant):
        assert db.exec(select(table).where(table.interview_id == interview.id)).all() == []
    assert db.get(Interview, kept.id) is not None


def test_the_cleanup_steps_end_the_idle_then_delete_the_long_ended(db: Session) -> None:
    idle, _, _ = _interview(db)
    active, _, _ = _interview(db)
    idle.updated_at = utcnow() - timedelta(hours=30)
    db.add(idle)
    db.commit()
    assert crud.end_idle_interviews(db=db, idle_since=utcnow() - TTL) == [idle.id]
    assert crud.delete_ended_interviews(db=db, ended_before=utcnow() - timedelta(hours=1)) == []
    assert crud.delete_ended_interviews(db=db, ended_before=utcnow()) == [idle.id]
    assert db.get(Interview, active.id) is not None
    assert active.ended_at is None
