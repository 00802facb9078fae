"""REST v1: an interview's test cases and "Run tests".

Thin routes, like the sessions': ``crud`` decides who may do what (only an interviewer's token
writes cases; any participant's runs them), and each change publishes the room event the UI
publishes. A candidate's token never gets a hidden case's input, expected or actual output.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from sqlmodel import Session

from rivendell import crud
from rivendell.api.errors import ApiError, error_responses
from rivendell.api.schemas import TestCaseIn, TestCaseOut, TestResultOut, TestRunOut
from rivendell.api.sessions import Token, _client
from rivendell.db import session
from rivendell.events import EventType, RoomEvent, bus
from rivendell.executor.base import MAX_INPUT_BYTES
from rivendell.models import Role, TestCase, TestCaseCreate, first_error_message
from rivendell.runs import get_room_runner
from rivendell.settings import get_settings
from rivendell.testcases import case_label, for_candidate, run_tests

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["test cases"])

# Bounded by what every database's integer id holds: past it a lookup would fail, not miss.
CaseId = Annotated[int, Path(ge=1, le=2**31 - 1, description="A test case's id")]


def _ttl() -> timedelta:
    return timedelta(hours=get_settings().interview_ttl_hours)


def _case_out(case: TestCase, index: int, *, full: bool) -> TestCaseOut:
    secret = case.hidden and not full
    return TestCaseOut(
        id=case.id or 0,
        position=index,
        name=case_label(index, case.name, secret),
        hidden=case.hidden,
        stdin=None if secret else case.stdin,
        expected_stdout=None if secret else case.expected_stdout,
    )


def _checked(data: TestCaseIn) -> TestCaseCreate:
    for field, text in (("stdin", data.stdin), ("expected_stdout", data.expected_stdout)):
        if len(text.encode("utf-8", "surrogatepass")) > MAX_INPUT_BYTES:
            raise ApiError("payload_too_large", f"{field}: over {MAX_INPUT_BYTES // 1024} KiB")
    try:
        return TestCaseCreate(**data.model_dump())
    except ValueError as error:
        raise ApiError("validation_error", first_error_message(error)) from None


def _position(db: Session, interview_id: str, case_id: int | None) -> int:
    ids = [c.id for c in crud.list_test_cases(db=db, interview_id=interview_id)]
    return ids.index(case_id) if case_id in ids else len(ids)


@router.get(
    "/sessions/{session_id}/tests",
    response_model=list[TestCaseOut],
    responses=error_responses(401, 404, 409, 422, 503),
    summary="List the test cases (participant or creator token)",
)
async def list_tests(session_id: str, token: Token) -> list[TestCaseOut]:
    """Every case in the order "Run tests" runs them; hidden ones stripped for candidates."""

    def read() -> list[TestCaseOut]:
        with session() as db:
            _, me = crud.get_member(db=db, interview_id=session_id, token=token, ttl=_ttl())
            full = me.role == Role.INTERVIEWER
            cases = crud.list_test_cases(db=db, interview_id=session_id)
            return [_case_out(case, i, full=full) for i, case in enumerate(cases)]

    return await asyncio.to_thread(read)


@router.post(
    "/sessions/{session_id}/tests",
    status_code=201,
    response_model=TestCaseOut,
    responses=error_responses(401, 403, 404, 409, 413, 422, 503),
    summary="Add a test case (interviewer token)",
)
async def create_test(
    session_id: str, data: TestCaseIn, token: Token, response: Response
) -> TestCaseOut:
    """Add a case after the others (at most 20 per interview)."""
    checked = _checked(data)

    def write() -> TestCaseOut:
        with session() as db:
            case = crud.create_test_case(
                db=db, interview_id=session_id, token=token, ttl=_ttl(), data=checked
            )
            return _case_out(case, _position(db, session_id, case.id), full=True)

    created = await asyncio.to_thread(write)
    bus.publish(RoomEvent(session_id, EventType.TESTS_CHANGED, {"test_case_id": created.id}))
    response.headers["Location"] = f"/api/v1/sessions/{session_id}/tests/{created.id}"
    return created


@router.put(
    "/sessions/{session_id}/tests/{case_id}",
    response_model=TestCaseOut,
    responses=error_responses(401, 403, 404, 409, 413, 422, 503),
    summary="Replace a test case (interviewer token)",
)
async def update_test(
    session_id: str, case_id: CaseId, data: TestCaseIn, token: Token
) -> TestCaseOut:
    """Replace the case's name, input, expected output and visibility."""
    checked = _checked(data)

    def write() -> TestCaseOut:
        with session() as db:
            case = crud.update_test_case(
                db=db,
                interview_id=session_id,
                token=token,
                ttl=_ttl(),
                case_id=case_id,
                data=checked,
            )
            return _case_out(case, _position(db, session_id, case.id), full=True)

    updated = await asyncio.to_thread(write)
    bus.publish(RoomEvent(session_id, EventType.TESTS_CHANGED, {"test_case_id": case_id}))
    return updated


@router.delete(
    "/sessions/{session_id}/tests/{case_id}",
    status_code=204,
    responses=error_responses(401, 403, 404, 409, 422, 503),
    summary="Delete a test case (interviewer token)",
)
async def delete_test(session_id: str, case_id: CaseId, token: Token) -> Response:
    """Remove the case; the runs that checked it keep their outcome."""

    def write() -> None:
        with session() as db:
            crud.delete_test_case(
                db=db, interview_id=session_id, token=token, ttl=_ttl(), case_id=case_id
            )

    await asyncio.to_thread(write)
    bus.publish(RoomEvent(session_id, EventType.TESTS_CHANGED, {"test_case_id": case_id}))
    return Response(status_code=204)


@router.post(
    "/sessions/{session_id}/tests/run",
    response_model=TestRunOut,
    responses=error_responses(401, 403, 404, 409, 422, 429, 503),
    summary="Run every test case on the room's code (participant or creator token)",
)
async def run_all_tests(session_id: str, token: Token, request: Request) -> TestRunOut:
    """Run each case, in order, in the sandbox on the room's current code, as one of the room's
    runs (409 ``run_in_progress`` while another goes on; 422 when there are no cases). Everyone
    in the room sees the outcome; it goes on the timeline as one ``tests`` entry. For a
    candidate's token, hidden cases come back with their outcome only."""

    def role() -> Role:
        with session() as db:
            _, me = crud.get_member(db=db, interview_id=session_id, token=token, ttl=_ttl())
            return me.role

    full = await asyncio.to_thread(role) == Role.INTERVIEWER
    batch = await run_tests(
        get_room_runner(), interview_id=session_id, token=token, client=_client(request)
    )
    results = [
        TestResultOut(**(result if full else for_candidate(result, index)))
        for index, result in enumerate(batch.results)
    ]
    return TestRunOut(passed=batch.passed, total=batch.total, results=results)
