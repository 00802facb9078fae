"""crud's test cases on the real databases: who may edit them, their bounds, and a batch's slot."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session

from rivendell import crud
from rivendell.executor.base import MAX_INPUT_BYTES
from rivendell.models import (
    MAX_CASE_NAME_CHARS,
    MAX_TEST_CASES,
    InterviewCreate,
    ParticipantCreate,
    Runner,
    RunStatus,
    TestCaseCreate,
    TimelineKind,
)

TTL = timedelta(hours=24)


def room(db: Session) -> tuple[str, str, str]:
    interview, _, host = crud.create_interview(
        db=db, data=InterviewCreate(title="Tests", language="python", creator_name="Alex")
    )
    _, guest = crud.join_interview(db=db, interview=interview, data=ParticipantCreate(name="Sam"))
    return interview.id, host, guest


def case(name: str = "adds", **fields: object) -> TestCaseCreate:
    return TestCaseCreate(name=name, **fields)


def test_a_case_needs_a_name_and_bounded_input_and_output() -> None:
    assert case("  two   numbers ").name == "two numbers"
    with pytest.raises(ValueError, match="Name must not be empty"):
        case(" \n ")
    with pytest.raises(ValueError, match=f"at most {MAX_CASE_NAME_CHARS} characters"):
        case("n" * (MAX_CASE_NAME_CHARS + 1))
    over = "x" * (MAX_INPUT_BYTES + 1)
    with pytest.raises(ValueError, match="Input is over the 1 MiB limit"):
        case(stdin=over)
    with pytest.raises(ValueError, match="Expected output is over the 1 MiB limit"):
        case(expected_stdout=over)
    # Exactly at the limit is fine; a NUL cannot reach a program's stdin intact, so it is shown.
    assert case(stdin="x" * MAX_INPUT_BYTES, expected_stdout="a\x00b").expected_stdout == "a\ufffdb"


def test_only_the_interviewer_adds_edits_and_deletes_cases(db: Session) -> None:
    interview_id, host, guest = room(db)
    with pytest.raises(crud.Forbidden, match="only interviewers can edit test cases"):
        crud.create_test_case(db=db, interview_id=interview_id, token=guest, ttl=TTL, data=case())
    with pytest.raises(crud.Unauthorized):
        crud.create_test_case(db=db, interview_id=interview_id, token="x", ttl=TTL, data=case())
    first = crud.create_test_case(
        db=db, interview_id=interview_id, token=host, ttl=TTL, data=case("one", stdin="1")
    )
    second = crud.create_test_case(
        db=db, interview_id=interview_id, token=host, ttl=TTL, data=case("two", hidden=True)
    )
    assert [c.name for c in crud.list_test_cases(db=db, interview_id=interview_id)] == [
        "one",
        "two",
    ]
    assert second.position > first.position
    edit = case("uno", stdin="1\n", expected_stdout="1\n", hidden=True)
    with pytest.raises(crud.Forbidden):
        crud.update_test_case(
            db=db, interview_id=interview_id, token=guest, ttl=TTL, case_id=first.id, data=edit
        )
    changed = crud.update_test_case(
        db=db, interview_id=interview_id, token=host, ttl=TTL, case_id=first.id, data=edit
    )
    assert (changed.name, changed.stdin, changed.hidden) == ("uno", "1\n", True)
    with pytest.raises(crud.Forbidden):
        crud.delete_test_case(
            db=db, interview_id=interview_id, token=guest, ttl=TTL, case_id=first.id
        )
    crud.delete_test_case(db=db, interview_id=interview_id, token=host, ttl=TTL, case_id=first.id)
    assert [c.id for c in crud.list_test_cases(db=db, interview_id=interview_id)] == [second.id]
    with pytest.raises(crud.NotFound, match="test case not found"):
        crud.delete_test_case(
            db=db, interview_id=interview_id, token=host, ttl=TTL, case_id=first.id
        )


def test_a_case_of_another_interview_is_not_found(db: Session) -> None:
    mine, host, _ = room(db)
    theirs, other_host, _ = room(db)
    other = crud.create_test_case(
        db=db, interview_id=theirs, token=other_host, ttl=TTL, data=case()
    )
    with pytest.raises(crud.NotFound):
        crud.update_test_case(
            db=db, interview_id=mine, token=host, ttl=TTL, case_id=other.id, data=case()
        )


def test_an_interview_holds_a_bounded_number_of_cases(db: Session) -> None:
    interview_id, host, _ = room(db)
    for index in range(MAX_TEST_CASES):
        crud.create_test_case(
            db=db, interview_id=interview_id, token=host, ttl=TTL, data=case(f"c{index}")
        )
    with pytest.raises(crud.Invalid, match=f"at most {MAX_TEST_CASES} test cases"):
        crud.create_test_case(db=db, interview_id=interview_id, token=host, ttl=TTL, data=case())


def test_a_batch_holds_the_run_slot_from_its_first_case_to_its_last(db: Session) -> None:
    interview_id, host, guest = room(db)
    with pytest.raises(crud.Invalid, match="no test cases"):
        crud.start_tests(db=db, interview_id=interview_id, token=guest, ttl=TTL, code="print(1)")
    for name in ("a", "b"):
        crud.create_test_case(
            db=db, interview_id=interview_id, token=host, ttl=TTL, data=case(name, stdin=name)
        )
    cases, run, _ = crud.start_tests(
        db=db, interview_id=interview_id, token=guest, ttl=TTL, code="print(1)"
    )
    assert (run.test_case_id, run.stdin, run.status) == (cases[0].id, "a", RunStatus.RUNNING)
    with pytest.raises(crud.Busy):
        crud.start_run(
            db=db,
            interview_id=interview_id,
            token=host,
            ttl=TTL,
            runner=Runner.SERVER,
            code="x",
            stdin="",
        )
    assert crud.running_tests(db=db, interview_id=interview_id) == [run]
    first, second = crud.finish_test_run(
        db=db, run_id=run.id, status=RunStatus.OK, stdout="a", next_cases=cases[1:]
    )
    assert second is not None
    assert second.stdin == "b"
    assert second.status == RunStatus.RUNNING
    assert [r.id for r in crud.running_tests(db=db, interview_id=interview_id)] == [
        first.id,
        second.id,
    ]
    results = [{"run_id": first.id, "passed": True}, {"run_id": second.id, "passed": False}]
    _, after = crud.finish_test_run(
        db=db, run_id=second.id, status=RunStatus.ERROR, results=results
    )
    assert after is None
    assert crud.running_tests(db=db, interview_id=interview_id) == []
    # Test-case runs stay out of the room's run history; the batch is one TESTS entry.
    assert crud.list_runs(db=db, interview_id=interview_id) == []
    kinds = [e.kind for e in crud.list_timeline(db=db, interview_id=interview_id)]
    assert TimelineKind.RUN not in kinds
    entry = crud.last_tests(db=db, interview_id=interview_id)
    assert entry is not None
    assert (entry.data["passed"], entry.data["total"]) == (1, 2)


def test_run_disabled_refuses_candidates_tests_but_not_the_interviewer(db: Session) -> None:
    interview_id, host, guest = room(db)
    crud.create_test_case(db=db, interview_id=interview_id, token=host, ttl=TTL, data=case())
    interview = crud.get_interview(db=db, interview_id=interview_id)
    assert interview is not None
    interview.run_disabled = True
    db.add(interview)
    db.commit()
    with pytest.raises(crud.Forbidden, match="turned off"):
        crud.start_tests(db=db, interview_id=interview_id, token=guest, ttl=TTL, code="print(1)")
    _, run, _ = crud.start_tests(
        db=db, interview_id=interview_id, token=host, ttl=TTL, code="print(1)"
    )
    assert run.status == RunStatus.RUNNING
