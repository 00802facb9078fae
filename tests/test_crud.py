"""crud on the real databases: ids, tokens, roles, and the rules a forged request meets."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from rivendell import crud
from rivendell.markdown import MAX_MARKDOWN_CHARS
from rivendell.models import (
    Interview,
    InterviewCreate,
    Participant,
    ParticipantCreate,
    Role,
    utcnow,
)

TTL = timedelta(hours=24)


def create(db: Session, **overrides: str) -> tuple[Interview, Participant, str]:
    fields = {"title": "Pairing", "language": "go", "creator_name": "Alex"}
    fields.update(overrides)
    return crud.create_interview(db=db, data=InterviewCreate(**fields))


def test_interview_ids_are_url_safe_and_carry_160_random_bits() -> None:
    ids = {crud.new_interview_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(re.fullmatch(r"[a-z2-7]{32}", i) for i in ids)


def test_create_seats_the_creator_as_interviewer_with_starter_code(db: Session) -> None:
    interview, creator, token = create(db)
    assert interview.language == "go"
    assert interview.code.startswith("package main")
    assert creator.role == Role.INTERVIEWER
    assert creator.interview_id == interview.id
    assert len(token) >= 43
    assert creator.token_hash == crud.hash_token(token)
    stored = db.exec(select(Participant)).one()
    assert token not in stored.model_dump_json()


def test_tokens_identify_participants_only_in_their_own_interview(db: Session) -> None:
    first, creator, token = create(db)
    second, _, _ = create(db, title="Other")
    found = crud.participant_for_token(db=db, interview_id=first.id, token=token)
    assert found is not None
    assert found.id == creator.id
    assert crud.participant_for_token(db=db, interview_id=second.id, token=token) is None
    assert crud.participant_for_token(db=db, interview_id=first.id, token="") is None
    assert crud.participant_for_token(db=db, interview_id=first.id, token="x" * 10_000) is None


def test_joiners_are_candidates_with_distinct_colours(db: Session) -> None:
    interview, creator, _ = create(db)
    sam, _ = crud.join_interview(db=db, interview=interview, data=ParticipantCreate(name="Sam"))
    kim, _ = crud.join_interview(db=db, interview=interview, data=ParticipantCreate(name="Kim"))
    people = crud.list_participants(db=db, interview_id=interview.id)
    assert [p.name for p in people] == ["Alex", "Sam", "Kim"]
    assert [p.role for p in people] == [Role.INTERVIEWER, Role.CANDIDATE, Role.CANDIDATE]
    assert len({creator.color, sam.color, kim.color}) == 3


def test_only_the_interviewer_may_change_the_problem(
    db: Session, caplog: pytest.LogCaptureFixture
) -> None:
    interview, _, creator_token = create(db)
    _, candidate_token = crud.join_interview(
        db=db, interview=interview, data=ParticipantCreate(name="Sam")
    )
    updated = crud.update_problem(
        db=db, interview_id=interview.id, token=creator_token, markdown="# Two sum", ttl=TTL
    )
    assert updated.problem_markdown == "# Two sum"
    with pytest.raises(crud.Forbidden, match="only the interviewer"):
        crud.update_problem(
            db=db, interview_id=interview.id, token=candidate_token, markdown="pwned", ttl=TTL
        )
    assert "refused a problem edit from candidate" in caplog.text
    with pytest.raises(crud.Forbidden, match="not a participant"):
        crud.update_problem(
            db=db, interview_id=interview.id, token="guess", markdown="pwned", ttl=TTL
        )
    db.expire_all()
    assert db.get(Interview, interview.id).problem_markdown == "# Two sum"


def test_problem_length_is_capped_and_nul_is_replaced(db: Session) -> None:
    interview, _, token = create(db)
    with pytest.raises(crud.Invalid, match="too long"):
        crud.update_problem(
            db=db,
            interview_id=interview.id,
            token=token,
            markdown="x" * (10 * 1024 * 1024),
            ttl=TTL,
        )
    ok = crud.update_problem(
        db=db,
        interview_id=interview.id,
        token=token,
        markdown="a\x00b" + "c" * (MAX_MARKDOWN_CHARS - 3),
        ttl=TTL,
    )
    assert ok.problem_markdown.startswith("a\ufffdb")


def test_any_participant_may_change_the_language(db: Session) -> None:
    interview, _, _ = create(db)
    _, token = crud.join_interview(db=db, interview=interview, data=ParticipantCreate(name="Sam"))
    assert (
        crud.update_language(
            db=db, interview_id=interview.id, token=token, language="rust", ttl=TTL
        ).language
        == "rust"
    )
    with pytest.raises(crud.Invalid, match="unknown language"):
        crud.update_language(db=db, interview_id=interview.id, token=token, language="x", ttl=TTL)
    with pytest.raises(crud.Forbidden):
        crud.update_language(db=db, interview_id=interview.id, token="no", language="go", ttl=TTL)


def test_unknown_ended_and_idle_interviews_are_not_found(db: Session) -> None:
    interview, _, token = create(db)
    assert crud.get_live_interview(db=db, interview_id="nope", ttl=TTL) is None
    assert crud.get_live_interview(db=db, interview_id="x" * 500, ttl=TTL) is None
    assert crud.get_live_interview(db=db, interview_id=interview.id, ttl=TTL) is not None
    interview.updated_at = utcnow() - timedelta(hours=25)
    db.add(interview)
    db.commit()
    assert crud.get_live_interview(db=db, interview_id=interview.id, ttl=TTL) is None
    with pytest.raises(crud.NotFound):
        crud.update_language(db=db, interview_id=interview.id, token=token, language="go", ttl=TTL)
    interview.updated_at = utcnow()
    interview.ended_at = utcnow()
    db.add(interview)
    db.commit()
    assert crud.get_live_interview(db=db, interview_id=interview.id, ttl=TTL) is None


def test_deleting_an_interview_removes_its_participants(db: Session) -> None:
    interview, _, _ = create(db)
    crud.join_interview(db=db, interview=interview, data=ParticipantCreate(name="Sam"))
    db.delete(interview)
    db.commit()
    assert db.exec(select(Participant)).all() == []


def test_a_saved_document_mirrors_its_text_as_the_code(db: Session) -> None:
    interview, _, _ = create(db)
    assert crud.load_document(db=db, interview_id=interview.id) == (None, interview.code)
    other, _, _ = create(db)
    saved = crud.save_documents(
        db=db,
        documents={interview.id: (b"\x00\x00", "new code ✓"), other.id: (b"\x03", "other")},
    )
    assert sorted(saved) == sorted([interview.id, other.id])
    crud.save_documents(db=db, documents={interview.id: (b"\x01\x02", "newer")})
    assert crud.load_document(db=db, interview_id=interview.id) == (b"\x01\x02", "newer")
    assert crud.load_document(db=db, interview_id=other.id) == (b"\x03", "other")
    with pytest.raises(crud.NotFound):
        crud.load_document(db=db, interview_id="missing")


def test_only_the_first_seed_of_a_room_is_stored(db: Session) -> None:
    interview, _, _ = create(db)
    assert crud.seed_document(db=db, interview_id=interview.id, state=b"first") == b"first"
    # A second process seeding the same fresh room gets the first one's document back.
    assert crud.seed_document(db=db, interview_id=interview.id, state=b"second") == b"first"
    assert crud.load_document(db=db, interview_id=interview.id)[0] == b"first"


def test_a_deleted_room_does_not_fail_the_others_save(db: Session) -> None:
    kept, _, _ = create(db)
    saved = crud.save_documents(
        db=db, documents={"deleted-meanwhile": (b"\x00", "lost"), kept.id: (b"\x01", "kept")}
    )
    assert saved == [kept.id]
    assert crud.load_document(db=db, interview_id=kept.id) == (b"\x01", "kept")
