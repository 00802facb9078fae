"""REST v1: interviews ("sessions" in the API's words), joining them, running code, ending them.

Thin routes: each one calls ``crud`` (or the room runner) for the write and its permission
check, then publishes the same room event the UI does, so open browsers update at once.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from reflex_base.config import get_config

from rivendell import crud
from rivendell.api.errors import ApiError, error_responses
from rivendell.api.schemas import (
    Execute,
    JoinRequest,
    JoinResult,
    Page,
    ParticipantOut,
    ProblemUpdate,
    RunOut,
    SessionCreated,
    SessionOut,
    SessionStatus,
    SessionSummaryOut,
    StatusFilter,
)
from rivendell.collab import get_collab_server
from rivendell.db import session
from rivendell.events import EventType, RoomEvent, bus
from rivendell.executor.base import MAX_INPUT_BYTES
from rivendell.models import (
    Interview,
    InterviewCreate,
    InterviewSummary,
    ParticipantCreate,
    Run,
    first_error_message,
    utcnow,
)
from rivendell.presence import get_presence
from rivendell.ratelimit import check_create
from rivendell.runs import get_room_runner
from rivendell.settings import get_admin_token, get_settings
from rivendell.timeline import TimelineDocument, export_archive, export_name, read_timeline

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["sessions"])

_bearer = HTTPBearer(
    auto_error=False,
    description="A participant's or the creator's token (from create or join), or the admin token.",
)


def _ttl() -> timedelta:
    return timedelta(hours=get_settings().interview_ttl_hours)


async def bearer_token(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
) -> str:
    """The bearer token of the request; 401 without one."""
    if credentials is None or not credentials.credentials:
        raise ApiError("unauthorized", "send a token: Authorization: Bearer <token>")
    return credentials.credentials


Token = Annotated[str, Security(bearer_token)]


def _client(request: Request) -> str:
    """The caller's address, for rate limits: behind ``trusted_proxy_hops`` proxies (Reflex's
    ``REFLEX_TRUSTED_PROXY_HOPS``, as the UI uses), the one they say they forwarded for."""
    direct = request.client.host if request.client else "unknown"
    hops = get_config().trusted_proxy_hops
    if not hops:
        return direct
    forwarded = [ip.strip() for ip in request.headers.get("x-forwarded-for", "").split(",")]
    forwarded = [ip for ip in forwarded if ip]
    return forwarded[-hops] if len(forwarded) >= hops else direct


def _status(interview: Interview) -> SessionStatus:
    if interview.ended_at is not None:
        return SessionStatus.ENDED
    if crud.is_closed(interview, _ttl()):
        return SessionStatus.EXPIRED
    return SessionStatus.ACTIVE


def _url(request: Request, interview_id: str) -> str:
    return f"{str(request.base_url).rstrip('/')}/i/{interview_id}"


def _run_out(run: Run) -> RunOut:
    return RunOut(
        run_id=run.id or 0,
        status=run.status,
        stdout=run.stdout,
        stderr=run.stderr,
        exit_code=run.exit_code,
        duration_ms=run.duration_ms,
        language=run.language,
        runner=run.runner,
        started_at=run.started_at,
        finished_at=run.finished_at,
        details=run.details,
    )


def _session_out(
    request: Request, interview_id: str, online: set[int], live_code: str | None
) -> SessionOut:
    with session() as db:
        interview = crud.get_interview(db=db, interview_id=interview_id)
        if interview is None:
            raise ApiError("not_found", "interview not found")
        people = crud.list_participants(db=db, interview_id=interview_id)
        runs = crud.list_runs(db=db, interview_id=interview_id, limit=1)
    return SessionOut(
        id=interview.id,
        url=_url(request, interview.id),
        title=interview.title,
        language=interview.language,
        problem_markdown=interview.problem_markdown,
        code=interview.code if live_code is None else live_code,
        status=_status(interview),
        created_at=interview.created_at,
        updated_at=interview.updated_at,
        ended_at=interview.ended_at,
        participants=[
            ParticipantOut(
                id=p.id or 0, name=p.name, role=p.role, color=p.color, online=p.id in online
            )
            for p in people
        ],
        last_run=_run_out(runs[0][0]) if runs else None,
    )


async def _session(request: Request, interview_id: str) -> SessionOut:
    online = await get_presence().online(interview_id)
    live_code = await get_collab_server().current_text(interview_id)
    return await asyncio.to_thread(_session_out, request, interview_id, online, live_code)


@router.post(
    "/sessions",
    status_code=201,
    response_model=SessionCreated,
    responses=error_responses(413, 422, 429, 503),
    summary="Create an interview",
)
async def create_session(
    data: InterviewCreate, request: Request, response: Response
) -> SessionCreated:
    """A new interview; its creator is seated as interviewer and gets a token (shown once)."""
    await check_create(client=_client(request))

    def write() -> tuple[str, int, str]:
        with session() as db:
            interview, creator, token = crud.create_interview(db=db, data=data)
            return interview.id, creator.id or 0, token

    interview_id, participant_id, token = await asyncio.to_thread(write)
    response.headers["Location"] = f"/api/v1/sessions/{interview_id}"
    created = await _session(request, interview_id)
    return SessionCreated(
        **created.model_dump(), creator_token=token, creator_participant_id=participant_id
    )


@router.get(
    "/sessions",
    response_model=Page,
    responses=error_responses(401, 422, 503),
    summary="List interviews (admin token)",
)
async def list_sessions(
    request: Request,
    token: Token,
    status: StatusFilter = "all",
    q: Annotated[str, Query(max_length=120, description="Part of a title or an id")] = "",
    limit: Annotated[int, Query(ge=1, le=crud.MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Page:
    """A page of interviews, the most recently active first. Never shows a token."""

    def read() -> tuple[list[InterviewSummary], int]:
        with session() as db:
            return crud.list_interviews(
                db=db,
                token=token,
                admin_token=get_admin_token(),
                status=status,
                search=q,
                limit=limit,
                offset=offset,
            )

    rows, total = await asyncio.to_thread(read)
    online = await get_presence().online_in(row.id for row in rows)
    ttl, now = _ttl(), utcnow()
    items = [
        SessionSummaryOut(
            **row.model_dump(),
            url=_url(request, row.id),
            status=(
                SessionStatus.ENDED
                if row.ended_at
                else SessionStatus.EXPIRED
                if row.updated_at < now - ttl
                else SessionStatus.ACTIVE
            ),
            participants_online=len(online[row.id]),
        )
        for row in rows
    ]
    return Page(items=items, total=total, limit=limit, offset=offset)


@router.get(
    "/sessions/{session_id}",
    response_model=SessionOut,
    responses=error_responses(404, 422, 503),
    summary="An interview's details",
)
async def get_session(session_id: str, request: Request) -> SessionOut:
    """The interview, whether going on or ended (then read-only); 404 when unknown."""
    return await _session(request, session_id)


@router.put(
    "/sessions/{session_id}/problem",
    response_model=SessionOut,
    responses=error_responses(401, 403, 404, 409, 413, 422, 503),
    summary="Replace the problem statement (creator token)",
)
async def put_problem(
    session_id: str, data: ProblemUpdate, token: Token, request: Request
) -> SessionOut:
    """Replace the statement; only the interviewer's token may. Everyone in the room sees it."""

    def write() -> None:
        with session() as db:
            crud.update_problem(
                db=db, interview_id=session_id, token=token, markdown=data.markdown, ttl=_ttl()
            )

    await asyncio.to_thread(write)
    bus.publish(RoomEvent(session_id, EventType.PROBLEM_UPDATED))
    return await _session(request, session_id)


@router.post(
    "/sessions/{session_id}/join",
    status_code=201,
    response_model=JoinResult,
    responses=error_responses(404, 409, 413, 422, 429, 503),
    summary="Join as a candidate",
)
async def join_session(session_id: str, data: JoinRequest) -> JoinResult:
    """Seat someone as a candidate; the token is shown this once."""
    try:
        seat = ParticipantCreate(name=data.name)
    except ValueError as error:
        raise ApiError("validation_error", f"name: {first_error_message(error)}") from None

    def write() -> tuple[int, str, str]:
        with session() as db:
            interview = crud.get_live_interview(db=db, interview_id=session_id, ttl=_ttl())
            if interview is None:
                if crud.get_interview(db=db, interview_id=session_id) is not None:
                    raise crud.Ended("this interview has ended: it is read-only")
                raise crud.NotFound("interview not found")
            participant, token = crud.join_interview(db=db, interview=interview, data=seat)
            return participant.id or 0, token, participant.role.value

    participant_id, token, role = await asyncio.to_thread(write)
    bus.publish(RoomEvent(session_id, EventType.USER_JOINED, {"id": participant_id}))
    return JoinResult(participant_id=participant_id, token=token, role=role)  # type: ignore[arg-type]


@router.post(
    "/sessions/{session_id}/execute",
    response_model=RunOut,
    responses=error_responses(401, 403, 404, 409, 413, 422, 429, 503),
    summary="Run code in the room's sandbox (participant or creator token)",
)
async def execute(session_id: str, data: Execute, token: Token, request: Request) -> RunOut:
    """Run ``code`` (default: the room's current code) in ``language`` (default: the room's),
    as one of the room's runs: everyone in the room sees it start and its output. One run at a
    time per room (409 ``run_in_progress``). ``status`` is ``unavailable`` when this server
    cannot run code right now."""
    for field, text in (("code", data.code or ""), ("stdin", data.stdin)):
        if "\x00" in text:
            raise ApiError("validation_error", f"{field}: must not contain NUL characters")
        if len(text.encode("utf-8", "surrogatepass")) > MAX_INPUT_BYTES:
            raise ApiError("payload_too_large", f"{field}: over {MAX_INPUT_BYTES // 1024} KiB")
    run = await get_room_runner().run_on_server(
        interview_id=session_id,
        token=token,
        stdin=data.stdin,
        code=data.code,
        language=data.language,
        client=_client(request),
    )
    return _run_out(run)


@router.delete(
    "/sessions/{session_id}",
    response_model=SessionOut,
    responses=error_responses(401, 403, 404, 409, 422, 503),
    summary="End an interview (creator or admin token)",
)
async def end_session(session_id: str, token: Token, request: Request) -> SessionOut:
    """End the interview for good: it stays readable, nothing in it can change any more."""

    def write() -> None:
        with session() as db:
            crud.end_interview(
                db=db, interview_id=session_id, token=token, admin_token=get_admin_token()
            )

    await asyncio.to_thread(write)
    bus.publish(RoomEvent(session_id, EventType.SESSION_ENDED))
    return await _session(request, session_id)


@router.get(
    "/sessions/{session_id}/timeline",
    responses=error_responses(401, 403, 404, 503),
    summary="The interview's whole timeline (interviewer or admin token)",
)
async def get_timeline(
    session_id: str,
    token: Token,
    after: Annotated[int, Query(ge=0, description="Only entries with a larger id")] = 0,
) -> TimelineDocument:
    """Every edit (a Yjs update with who and when), run, test batch, language change, problem
    edit, join, leave, note, hint, paste and control of the interview, in order, in the format
    docs/timeline.md documents (JSON Schema: docs/timeline.schema.json). Replaying the ``seed``
    and ``edit`` updates in order into an empty Yjs document gives ``interview.final_code``."""
    return await read_timeline(session_id, token, after)


@router.get(
    "/sessions/{session_id}/export",
    responses={
        **error_responses(401, 403, 404, 503),
        200: {"content": {"application/zip": {}}, "description": "The interview's archive"},
    },
    response_class=Response,
    summary="Download the whole interview as one zip (interviewer or admin token)",
)
async def export_session(session_id: str, token: Token) -> Response:
    """``timeline.json`` (the timeline document), the final code, ``problem.md``, ``runs.json``
    (each run with its receipt) and ``updates.bin`` (the Yjs update log), as docs/timeline.md
    describes."""
    document = await read_timeline(session_id, token)
    archive = await asyncio.to_thread(export_archive, document)
    return Response(
        archive,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{export_name(document)}"'},
    )
