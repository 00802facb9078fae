"""Database reads and the only writes: every change to an interview goes through here.

Functions take keyword arguments and a session; they check who may do what, so a forged
browser event or API call meets the same rule as the UI.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, TypeVar

import sqlalchemy
from sqlalchemy import delete, insert, or_, update
from sqlmodel import Session, SQLModel, col, func, select

from rivendell.anchors import MAX_ANCHOR_BYTES
from rivendell.executor.languages import get_language
from rivendell.markdown import MAX_MARKDOWN_CHARS
from rivendell.models import (
    MAX_TEST_CASES,
    PALETTE,
    CleanupRun,
    Document,
    Edit,
    Interview,
    InterviewCreate,
    InterviewSummary,
    Note,
    NoteCreate,
    NoteKind,
    NoteUpdate,
    Participant,
    ParticipantCreate,
    Role,
    Run,
    Runner,
    RunStatus,
    TestCase,
    TestCaseCreate,
    TimelineEvent,
    TimelineKind,
    check_language,
    utcnow,
)

__all__ = [
    "Busy",
    "Ended",
    "Error",
    "Forbidden",
    "Invalid",
    "NotFound",
    "Unauthorized",
    "create_interview",
    "create_note",
    "create_test_case",
    "delete_ended_interviews",
    "delete_interviews",
    "delete_note",
    "delete_test_case",
    "end_idle_interviews",
    "end_interview",
    "end_interviews",
    "finish_run",
    "finish_test_run",
    "get_interview",
    "get_live_interview",
    "get_member",
    "get_note",
    "hash_token",
    "interviewer_key",
    "is_admin",
    "is_closed",
    "join_interview",
    "last_cleanup",
    "last_tests",
    "list_interviews",
    "list_notes",
    "list_participants",
    "list_runs",
    "list_test_cases",
    "list_timeline",
    "load_document",
    "new_interview_id",
    "new_token",
    "note_record",
    "participant_for_token",
    "record_cleanup",
    "record_event",
    "record_presence",
    "require_interviewer",
    "room_notes",
    "run_record",
    "running_tests",
    "save_documents",
    "set_controls",
    "start_run",
    "start_tests",
    "update_language",
    "update_note",
    "update_problem",
    "update_test_case",
]

logger = logging.getLogger(__name__)


class Error(Exception):
    """A request ``crud`` refuses; the message is meant for the user."""


class NotFound(Error, LookupError):
    """No such interview (or it expired), or no such participant."""


class Forbidden(Error, PermissionError):
    """The caller is in the room but may not do this."""


class Unauthorized(Forbidden):
    """The token is missing or belongs to no one here (the caller is not in the room)."""


class Ended(NotFound):
    """The interview ended or expired: it is read-only from then on."""


class Invalid(Error, ValueError):
    """The input breaks a rule; the message says which."""


class Busy(Error):
    """The room is already doing this (one run at a time); the message says who."""


def new_interview_id() -> str:
    """160 random bits as 32 lowercase base32 characters: URL-safe and free of ``_``."""
    return base64.b32encode(secrets.token_bytes(20)).decode().lower()


def new_token() -> str:
    """A participant's bearer token (256 random bits)."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def is_closed(interview: Interview, ttl: timedelta) -> bool:
    """Whether the interview ended or sat idle for longer than ``ttl``."""
    return interview.ended_at is not None or interview.updated_at < utcnow() - ttl


def get_live_interview(*, db: Session, interview_id: str, ttl: timedelta) -> Interview | None:
    """The interview with this id unless it is unknown, ended or idle for longer than ``ttl``."""
    if not interview_id or len(interview_id) > 64:
        return None
    interview = db.get(Interview, interview_id)
    if interview is None or is_closed(interview, ttl):
        return None
    return interview


def list_participants(*, db: Session, interview_id: str) -> list[Participant]:
    """Everyone who joined, in join order."""
    statement = (
        select(Participant)
        .where(Participant.interview_id == interview_id)
        .order_by(col(Participant.id))
    )
    return list(db.exec(statement))


def require_interviewer(
    *, db: Session, interview_id: str, token: str, admin_token: str
) -> Interview:
    """The interview, live or ended, if ``token`` is one of its interviewers' (or the admin's)."""
    if is_admin(token=token, admin_token=admin_token):
        interview = get_interview(db=db, interview_id=interview_id)
        if interview is None:
            raise NotFound("interview not found")
        return interview
    interview, _ = _interviewer_seat(
        db=db, interview_id=interview_id, token=token, ttl=timedelta(0), live=False, what="see this"
    )
    return interview


def participant_for_token(*, db: Session, interview_id: str, token: str) -> Participant | None:
    """The participant holding ``token`` in this interview, or ``None``."""
    if not token or len(token) > 256:
        return None
    participant = db.exec(
        select(Participant).where(Participant.token_hash == hash_token(token))
    ).first()
    if participant is None or participant.interview_id != interview_id:
        return None
    return participant


def _add_participant(
    *, db: Session, interview_id: str, name: str, role: Role
) -> tuple[Participant, str]:
    count = db.exec(
        select(func.count())
        .select_from(Participant)
        .where(Participant.interview_id == interview_id)
    ).one()
    token = new_token()
    participant = Participant(
        interview_id=interview_id,
        name=name,
        role=role,
        color=PALETTE[count % len(PALETTE)],
        token_hash=hash_token(token),
    )
    db.add(participant)
    return participant, token


def create_interview(*, db: Session, data: InterviewCreate) -> tuple[Interview, Participant, str]:
    """A new interview, its creator as interviewer, and the creator's token (shown only now)."""
    interview = Interview(
        id=new_interview_id(),
        interviewer_key=new_token(),
        title=data.title,
        language=data.language,
        code=get_language(data.language).starter.lstrip("\n"),
    )
    db.add(interview)
    db.flush()
    creator, token = _add_participant(
        db=db, interview_id=interview.id, name=data.creator_name, role=Role.INTERVIEWER
    )
    db.commit()
    logger.info("interview %s created", interview.id)
    return interview, creator, token


def join_interview(
    *, db: Session, interview: Interview, data: ParticipantCreate, interviewer_key: str = ""
) -> tuple[Participant, str]:
    """Seat someone who opened the link; returns their token (shown only now).

    A candidate, unless ``interviewer_key`` is given: then it must be the interview's key (from
    the interviewer link), and the seat is an interviewer's. A wrong key seats no one: someone
    who meant to join as interviewer must not end up in the room as a candidate unawares.
    """
    role = Role.CANDIDATE
    if interviewer_key:
        if not _key_matches(interview, interviewer_key):
            logger.warning(
                "interview %s: refused a join with a wrong interviewer key", interview.id
            )
            raise Forbidden(
                "this interviewer link is not valid for this interview: ask one of its "
                "interviewers for the current link"
            )
        role = Role.INTERVIEWER
    participant, token = _add_participant(
        db=db, interview_id=interview.id, name=data.name, role=role
    )
    _touch(db=db, interview=interview)
    logger.info("interview %s: participant %s joined as %s", interview.id, participant.id, role)
    return participant, token


def _key_matches(interview: Interview, key: str) -> bool:
    # Constant time; an interview made before interviewer keys existed has none and matches
    # nothing until an interviewer asks for its link (interviewer_key).
    if not interview.interviewer_key or not key or len(key) > 256:
        return False
    return hmac.compare_digest(
        key.encode("utf-8", "surrogatepass"), interview.interviewer_key.encode()
    )


def _touch(*, db: Session, interview: Interview) -> Interview:
    """Commit ``interview`` with its last-activity time set to now."""
    interview.updated_at = utcnow()
    db.add(interview)
    db.commit()
    return interview


def get_interview(*, db: Session, interview_id: str) -> Interview | None:
    """The interview with this id, live, ended or expired; ``None`` when unknown (or deleted)."""
    if not interview_id or len(interview_id) > 64:
        return None
    return db.get(Interview, interview_id)


def get_member(
    *, db: Session, interview_id: str, token: str, ttl: timedelta
) -> tuple[Interview, Participant]:
    """The live interview and the participant holding ``token`` in it; raises otherwise.

    ``Ended`` (a ``NotFound``) when the interview is over; ``Unauthorized`` (a ``Forbidden``)
    when the token seats no one in it.
    """
    interview = get_live_interview(db=db, interview_id=interview_id, ttl=ttl)
    if interview is None:
        if get_interview(db=db, interview_id=interview_id) is not None:
            raise Ended("this interview has ended: it is read-only")
        raise NotFound("interview not found")
    participant = participant_for_token(db=db, interview_id=interview_id, token=token)
    if participant is None:
        raise Unauthorized("you are not a participant of this interview")
    return interview, participant


def update_problem(
    *, db: Session, interview_id: str, token: str, markdown: str, ttl: timedelta
) -> Interview:
    """Replace the problem statement; only an interviewer may, whatever the client claims."""
    interview, participant = get_member(db=db, interview_id=interview_id, token=token, ttl=ttl)
    if participant.role != Role.INTERVIEWER:
        logger.warning(
            "interview %s: refused a problem edit from candidate %s", interview_id, participant.id
        )
        raise Forbidden("only the interviewer can edit the problem statement")
    if not isinstance(markdown, str):
        raise Invalid("the problem statement must be text")
    if len(markdown) > MAX_MARKDOWN_CHARS:
        raise Invalid(
            f"the problem statement is too long ({len(markdown):,} characters; "
            f"at most {MAX_MARKDOWN_CHARS:,})"
        )
    interview.problem_markdown = markdown.replace("\x00", "\ufffd")
    _record(
        db,
        interview_id,
        TimelineKind.PROBLEM,
        participant.id,
        {"markdown": interview.problem_markdown},
    )
    return _touch(db=db, interview=interview)


def update_language(
    *, db: Session, interview_id: str, token: str, language: str, ttl: timedelta
) -> Interview:
    """Switch the room's language; anyone in the room may."""
    interview, participant = get_member(db=db, interview_id=interview_id, token=token, ttl=ttl)
    try:
        interview.language = check_language(language)
    except ValueError as error:
        raise Invalid(str(error)) from None
    _record(
        db, interview_id, TimelineKind.LANGUAGE, participant.id, {"language": interview.language}
    )
    return _touch(db=db, interview=interview)


def load_document(*, db: Session, interview_id: str) -> tuple[bytes | None, str]:
    """The room's stored Yjs state (``None`` before the first save) and its code as text."""
    interview = db.get(Interview, interview_id)
    if interview is None:
        raise NotFound("interview not found")
    document = db.get(Document, interview_id)
    return (document.state if document else None), interview.code


def seed_document(*, db: Session, interview_id: str, state: bytes) -> bytes:
    """Store a new room's first document unless one is stored already; returns the stored one.

    Two processes opening a fresh room at once both seed it: only one seed may win, or every
    editor would show the starter code twice once their replicas merge.
    """
    interview = db.get(Interview, interview_id)
    if interview is None:
        raise NotFound("interview not found")
    db.add(Document(interview_id=interview_id, state=state))
    # The language the starter code is in: later switches are entries of their own.
    seeded = {"language": interview.language}
    _record(db, interview_id, TimelineKind.SEED, None, seeded, update=state)
    try:
        db.commit()
    except sqlalchemy.exc.IntegrityError:
        db.rollback()
        stored = db.get(Document, interview_id)
        if stored is None:  # the interview itself is gone
            raise NotFound("interview not found") from None
        return stored.state
    return state


def _table(model: type[SQLModel]) -> sqlalchemy.Table:
    """A table model's Core table (SQLModel leaves ``__table__`` untyped)."""
    table: sqlalchemy.Table = model.__table__  # type: ignore[attr-defined]
    return table


def save_documents(
    *,
    db: Session,
    documents: Mapping[str, tuple[bytes, str]],
    edits: Mapping[str, Sequence[Edit]] | None = None,
) -> list[str]:
    """Store rooms' Yjs states and mirror their texts as the interviews' code, in one commit.

    ``documents`` maps an interview id to (encoded state, text); ``edits`` the Yjs updates the
    room received since its last save, each with who sent it and when: they go on the timeline
    in the same commit, so the update log never misses a change the state holds. Returns the
    ids stored; an interview deleted meanwhile is skipped, so one vanished room never fails the
    others' save.
    """
    ids = list(documents)
    # Core statements, not the ORM's bulk ones: the writer runs this ten times a second at a few
    # hundred typing rooms, where the ORM's bulk statements took over half of its time and a
    # batch costs a fifth less in Core.
    interviews, stored_documents = _table(Interview), _table(Document)
    found = db.execute(
        sqlalchemy.select(interviews.c.id, stored_documents.c.interview_id)
        .outerjoin(stored_documents, stored_documents.c.interview_id == interviews.c.id)
        .where(interviews.c.id.in_(ids))
    ).all()
    live = {interview_id for interview_id, _ in found}
    stored = {interview_id for _, interview_id in found if interview_id is not None}
    for missing in set(ids) - live:
        logger.warning("interview %s: not saving the document of a deleted room", missing)
    saved = [i for i in ids if i in live]
    if not saved:
        return []
    now = utcnow()
    db.execute(
        update(interviews)
        .where(interviews.c.id == sqlalchemy.bindparam("row_id"))
        .values(code=sqlalchemy.bindparam("row_code"), updated_at=now),
        [{"row_id": i, "row_code": documents[i][1]} for i in saved],
    )
    if known := [i for i in saved if i in stored]:
        db.execute(
            update(stored_documents)
            .where(stored_documents.c.interview_id == sqlalchemy.bindparam("row_id"))
            .values(state=sqlalchemy.bindparam("row_state"), updated_at=now),
            [{"row_id": i, "row_state": documents[i][0]} for i in known],
        )
    if new := [i for i in saved if i not in stored]:
        db.execute(
            insert(stored_documents),
            [{"interview_id": i, "state": documents[i][0], "updated_at": now} for i in new],
        )
    logged = [
        {
            "interview_id": i,
            "at": edit.at,
            "participant_id": edit.participant_id,
            "update": edit.update,
        }
        for i in saved
        for edit in (edits or {}).get(i, ())
    ]
    if logged:
        # What every entry shares is written into the statement: as a bound value it would be
        # converted again for each row (the JSON encoder alone took 14 % of the writer's time).
        shared = {
            "kind": sqlalchemy.literal_column(f"'{TimelineKind.EDIT.value}'", sqlalchemy.String),
            "data": sqlalchemy.literal_column("'{}'", sqlalchemy.JSON),
        }
        db.execute(insert(_table(TimelineEvent)).values(**shared), logged)
    db.commit()
    # Core statements bypass the session: objects it already holds would show the old rows.
    db.expire_all()
    return saved


# A run still marked running after this long was cut off (its server stopped, or the browser
# running it closed): it no longer blocks the room. A server run's compilation plus its wall
# limit stays well under it; a browser run's program limit plus loading Pyodide on a slow link.
STALE_RUN = {Runner.SERVER: timedelta(minutes=2), Runner.BROWSER: timedelta(seconds=90)}


def start_run(
    *,
    db: Session,
    interview_id: str,
    token: str,
    ttl: timedelta,
    runner: Runner,
    code: str,
    stdin: str,
    language: str | None = None,
    test_case_id: int | None = None,
) -> tuple[Run, Participant]:
    """Record that a participant starts a run; raises ``Busy`` while another one runs.

    ``language`` defaults to the room's. The interview row is locked for the check, so two
    presses at once (on any instance sharing the database) start one run. ``test_case_id``
    marks the first run of a "Run tests" batch (``start_tests``).
    """
    interview, participant = get_member(db=db, interview_id=interview_id, token=token, ttl=ttl)
    db.exec(select(Interview).where(Interview.id == interview_id).with_for_update()).one()
    if interview.run_disabled and participant.role != Role.INTERVIEWER:
        raise Forbidden("the interviewer has disabled Run for candidates")
    try:
        language = check_language(language or interview.language)
    except ValueError as error:
        raise Invalid(str(error)) from None
    running = db.exec(
        select(Run).where(Run.interview_id == interview_id, Run.status == RunStatus.RUNNING)
    ).first()
    if running is not None:
        if running.started_at > utcnow() - STALE_RUN[running.runner]:
            who = db.get(Participant, running.participant_id) if running.participant_id else None
            name = who.name if who else "Someone"
            raise Busy(f"{name} is already running the code: wait for that run to finish.")
        running.status, running.finished_at = RunStatus.INTERRUPTED, utcnow()
        running.stderr = "The server stopped before this run finished."
        db.add(running)
    run = Run(
        interview_id=interview_id,
        participant_id=participant.id,
        runner=runner,
        language=language,
        status=RunStatus.RUNNING,
        code=code,
        stdin=stdin,
        test_case_id=test_case_id,
    )
    db.add(run)
    _touch(db=db, interview=interview)
    db.refresh(run)
    return run, participant


def finish_run(
    *,
    db: Session,
    run_id: int,
    status: RunStatus,
    stdout: str = "",
    stderr: str = "",
    exit_code: int | None = None,
    duration_ms: int | None = None,
    details: dict[str, Any] | None = None,
) -> Run:
    """Record how a run ended (once: a finished run is never rewritten)."""
    run = db.get(Run, run_id)
    if run is None:
        raise NotFound("run not found")
    if run.status != RunStatus.RUNNING:
        raise Busy("this run has already finished")
    if status == RunStatus.RUNNING:
        raise Invalid("a finished run needs an outcome")
    run.status, run.stdout, run.stderr = status, stdout, stderr
    run.exit_code, run.duration_ms = exit_code, duration_ms
    run.details = details or {}
    run.finished_at = utcnow()
    db.add(run)
    if run.test_case_id is None:  # a test case's run goes on the timeline with its batch
        _record(db, run.interview_id, TimelineKind.RUN, run.participant_id, run_record(run))
    db.commit()
    db.refresh(run)
    return run


def list_runs(*, db: Session, interview_id: str, limit: int = 20) -> list[tuple[Run, str]]:
    """The room's latest runs, newest first, each with the name of who started it.

    Test-case runs are left out: a batch is shown (and recorded) as a whole by the test panel.
    """
    statement = (
        select(Run, Participant.name)
        .join(Participant, col(Run.participant_id) == Participant.id, isouter=True)
        .where(Run.interview_id == interview_id, col(Run.test_case_id).is_(None))
        .order_by(col(Run.id).desc())
        .limit(limit)
    )
    return [(run, name or "Someone") for run, name in db.exec(statement)]


def is_admin(*, token: str, admin_token: str) -> bool:
    """Whether ``token`` is the admin token (compared in constant time)."""
    if not token or not admin_token or len(token) > 256:
        return False
    return hmac.compare_digest(token.encode(), admin_token.encode())


def _require_admin(*, token: str, admin_token: str) -> None:
    if not is_admin(token=token, admin_token=admin_token):
        raise Unauthorized("this needs the admin token")


def _end(*, db: Session, interviews: Sequence[Interview]) -> list[str]:
    now = utcnow()
    for interview in interviews:
        interview.ended_at = now
        db.add(interview)
        _record(db, interview.id, TimelineKind.ENDED, None, {}, at=now)
    db.commit()
    return [interview.id for interview in interviews]


def end_interview(*, db: Session, interview_id: str, token: str, admin_token: str) -> Interview:
    """End an interview for good: its interviewer or the admin may. It stays readable."""
    interview = get_interview(db=db, interview_id=interview_id)
    if interview is None:
        raise NotFound("interview not found")
    if not is_admin(token=token, admin_token=admin_token):
        participant = participant_for_token(db=db, interview_id=interview_id, token=token)
        if participant is None:
            raise Unauthorized("you are not a participant of this interview")
        if participant.role != Role.INTERVIEWER:
            raise Forbidden("only the interviewer (or the admin) can end the interview")
    if interview.ended_at is not None:
        raise Ended("this interview has already ended")
    _end(db=db, interviews=[interview])
    logger.info("interview %s ended", interview_id)
    return interview


def end_interviews(
    *, db: Session, interview_ids: Sequence[str], token: str, admin_token: str
) -> list[str]:
    """End several interviews at once (admin only); returns the ids that were still going."""
    _require_admin(token=token, admin_token=admin_token)
    going = db.exec(
        select(Interview).where(
            col(Interview.id).in_(list(interview_ids)), col(Interview.ended_at).is_(None)
        )
    ).all()
    ended = _end(db=db, interviews=going)
    logger.info("admin ended %d interviews", len(ended))
    return ended


def delete_interviews(
    *, db: Session, interview_ids: Sequence[str], token: str, admin_token: str
) -> list[str]:
    """Delete interviews with everything in them (admin only); returns the ids deleted."""
    _require_admin(token=token, admin_token=admin_token)
    deleted = _delete(db=db, interview_ids=list(interview_ids))
    logger.info("admin deleted %d interviews", len(deleted))
    return deleted


def _delete(*, db: Session, interview_ids: list[str]) -> list[str]:
    found = list(db.exec(select(Interview.id).where(col(Interview.id).in_(interview_ids))))
    if not found:
        return []
    # Children first and explicitly: SQLite enforces ON DELETE CASCADE only with its pragma on,
    # and a database opened by another tool may not have it.
    for table in (TimelineEvent, Note, Run, TestCase, Document, Participant):
        db.execute(delete(table).where(col(table.interview_id).in_(found)))
    db.execute(delete(Interview).where(col(Interview.id).in_(found)))
    db.commit()
    return found


def end_idle_interviews(*, db: Session, idle_since: datetime) -> list[str]:
    """End every interview untouched since ``idle_since`` (the cleanup's first step)."""
    idle = db.exec(
        select(Interview).where(
            col(Interview.ended_at).is_(None), col(Interview.updated_at) < idle_since
        )
    ).all()
    return _end(db=db, interviews=idle)


def delete_ended_interviews(*, db: Session, ended_before: datetime) -> list[str]:
    """Delete every interview that ended before ``ended_before`` (the cleanup's second step)."""
    ids = list(db.exec(select(Interview.id).where(col(Interview.ended_at) < ended_before)))
    return _delete(db=db, interview_ids=ids)


InterviewFilter = Literal["all", "active", "ended"]
MAX_PAGE = 200
MAX_SEARCH_CHARS = 120


def _escape_like(text: str) -> str:
    # A title search is a substring match: the user's % and _ are literal characters.
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def list_interviews(
    *,
    db: Session,
    token: str,
    admin_token: str,
    status: InterviewFilter = "all",
    search: str = "",
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[InterviewSummary], int]:
    """A page of interviews, most recently active first, and how many match (admin only).

    ``active`` means not ended (an idle one stays active until the cleanup ends it).
    """
    _require_admin(token=token, admin_token=admin_token)
    conditions: list[Any] = []
    if status == "active":
        conditions.append(col(Interview.ended_at).is_(None))
    elif status == "ended":
        conditions.append(col(Interview.ended_at).is_not(None))
    if search := search.strip()[:MAX_SEARCH_CHARS]:
        pattern = "%" + _escape_like(search) + "%"
        conditions.append(
            or_(
                col(Interview.title).ilike(pattern, escape="\\"),
                col(Interview.id).ilike(pattern, escape="\\"),
            )
        )
    total = db.exec(select(func.count()).select_from(Interview).where(*conditions)).one()
    participants = (
        select(func.count())
        .select_from(Participant)
        .where(Participant.interview_id == Interview.id)
        .scalar_subquery()
    )
    runs = select(func.count()).select_from(Run).where(Run.interview_id == Interview.id)
    run_bytes = (
        select(
            func.coalesce(
                func.sum(func.length(Run.code) + func.length(Run.stdout) + func.length(Run.stderr)),
                0,
            )
        )
        .where(Run.interview_id == Interview.id)
        .scalar_subquery()
    )
    document_bytes = (
        select(func.coalesce(func.sum(func.length(Document.state)), 0))
        .where(Document.interview_id == Interview.id)
        .scalar_subquery()
    )
    # Nine columns: past sqlmodel's typed ``select`` overloads, so SQLAlchemy's own.
    statement = (
        sqlalchemy.select(
            col(Interview.id),
            col(Interview.title),
            col(Interview.language),
            col(Interview.created_at),
            col(Interview.updated_at),
            col(Interview.ended_at),
            participants,
            runs.scalar_subquery(),
            func.length(Interview.problem_markdown)
            + func.length(Interview.code)
            + run_bytes
            + document_bytes,
        )
        .where(*conditions)
        .order_by(col(Interview.updated_at).desc(), col(Interview.id))
        .limit(max(1, min(limit, MAX_PAGE)))
        .offset(max(0, offset))
    )
    rows = [
        InterviewSummary(
            id=row[0],
            title=row[1],
            language=row[2],
            created_at=row[3],
            updated_at=row[4],
            ended_at=row[5],
            participants=int(row[6] or 0),
            runs=int(row[7] or 0),
            size_bytes=int(row[8] or 0),
        )
        for row in db.execute(statement)
    ]
    return rows, int(total)


def record_cleanup(*, db: Session, report: CleanupRun) -> CleanupRun:
    """Keep what a cleanup pass did (the admin page shows the latest)."""
    db.add(report)
    db.commit()
    db.refresh(report)
    return report


def last_cleanup(*, db: Session) -> CleanupRun | None:
    """The most recent cleanup pass, on any instance."""
    return db.exec(select(CleanupRun).order_by(col(CleanupRun.id).desc()).limit(1)).first()


# --- the timeline ------------------------------------------------------------------------------


def _record(
    db: Session,
    interview_id: str,
    kind: TimelineKind,
    participant_id: int | None,
    data: dict[str, Any],
    *,
    update: bytes | None = None,
    at: datetime | None = None,
) -> TimelineEvent:
    """Add a timeline entry to the caller's transaction (it commits with the change it records)."""
    event = TimelineEvent(
        interview_id=interview_id,
        kind=kind,
        participant_id=participant_id,
        data=data,
        update=update,
        at=at or utcnow(),
    )
    db.add(event)
    return event


def record_event(
    *,
    db: Session,
    interview_id: str,
    kind: TimelineKind,
    participant_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> TimelineEvent:
    """Put something that changed nothing else on the timeline (a join, a leave, a paste)."""
    event = _record(db, interview_id, kind, participant_id, data or {})
    db.commit()
    db.refresh(event)
    return event


def record_presence(
    *, db: Session, interview_id: str, participant_id: int, online: bool
) -> TimelineEvent | None:
    """Put a participant coming online (or going offline) on the timeline, unless that is
    already where their last join or leave left them (taking a seat and the first heartbeat
    both announce the arrival)."""
    kind = TimelineKind.JOIN if online else TimelineKind.LEAVE
    last = db.exec(
        select(TimelineEvent.kind)
        .where(
            TimelineEvent.interview_id == interview_id,
            TimelineEvent.participant_id == participant_id,
            col(TimelineEvent.kind).in_([TimelineKind.JOIN, TimelineKind.LEAVE]),
        )
        .order_by(col(TimelineEvent.id).desc())
        .limit(1)
    ).first()
    if last == kind:
        return None
    return record_event(db=db, interview_id=interview_id, kind=kind, participant_id=participant_id)


def list_timeline(
    *, db: Session, interview_id: str, after_id: int = 0, limit: int | None = None
) -> list[TimelineEvent]:
    """The interview's timeline in the order it happened, from just after ``after_id``."""
    statement = (
        select(TimelineEvent)
        .where(TimelineEvent.interview_id == interview_id, col(TimelineEvent.id) > after_id)
        .order_by(col(TimelineEvent.id))
    )
    if limit is not None:
        statement = statement.limit(limit)
    return list(db.exec(statement))


def run_record(run: Run) -> dict[str, Any]:
    """A finished run as the timeline keeps it: what ran, what it printed, how it ran."""
    return {
        "run_id": run.id,
        "runner": run.runner.value,
        "language": run.language,
        "status": run.status.value,
        "code": run.code,
        "stdin": run.stdin,
        "stdout": run.stdout,
        "stderr": run.stderr,
        "exit_code": run.exit_code,
        "duration_ms": run.duration_ms,
        "receipt": run.details,
        "test_case_id": run.test_case_id,
        "started_at": run.started_at.isoformat(),
    }


# --- test cases ----------------------------------------------------------------------------------


def list_test_cases(*, db: Session, interview_id: str) -> list[TestCase]:
    """The interview's test cases in the order "Run tests" runs them (hidden ones included:
    callers showing them to a candidate strip their input and expected output)."""
    statement = (
        select(TestCase)
        .where(TestCase.interview_id == interview_id)
        .order_by(col(TestCase.position), col(TestCase.id))
    )
    return list(db.exec(statement))


_Owned = TypeVar("_Owned", TestCase, Note)


def _row_of(
    *, db: Session, table: type[_Owned], interview_id: str, row_id: int, what: str
) -> _Owned:
    """The interview's row ``row_id`` of ``table``; another interview's is as unknown."""
    row = db.get(table, row_id)
    if row is None or row.interview_id != interview_id:
        raise NotFound(f"{what} not found")
    return row


def create_test_case(
    *, db: Session, interview_id: str, token: str, ttl: timedelta, data: TestCaseCreate
) -> TestCase:
    """Add a test case after the others (interviewer only; at most ``MAX_TEST_CASES``)."""
    interview, _ = _interviewer_seat(
        db=db, interview_id=interview_id, token=token, ttl=ttl, live=True, what="edit test cases"
    )
    cases = list_test_cases(db=db, interview_id=interview_id)
    if len(cases) >= MAX_TEST_CASES:
        raise Invalid(f"an interview holds at most {MAX_TEST_CASES} test cases")
    case = TestCase(
        interview_id=interview_id,
        position=(cases[-1].position + 1) if cases else 0,
        name=data.name,
        stdin=data.stdin,
        expected_stdout=data.expected_stdout,
        hidden=data.hidden,
    )
    db.add(case)
    _touch(db=db, interview=interview)
    db.refresh(case)
    return case


def update_test_case(
    *,
    db: Session,
    interview_id: str,
    token: str,
    ttl: timedelta,
    case_id: int,
    data: TestCaseCreate,
) -> TestCase:
    """Replace a test case's name, input, expected output and visibility (interviewer only)."""
    interview, _ = _interviewer_seat(
        db=db, interview_id=interview_id, token=token, ttl=ttl, live=True, what="edit test cases"
    )
    case = _row_of(
        db=db, table=TestCase, interview_id=interview_id, row_id=case_id, what="test case"
    )
    case.name, case.stdin = data.name, data.stdin
    case.expected_stdout, case.hidden = data.expected_stdout, data.hidden
    db.add(case)
    _touch(db=db, interview=interview)
    db.refresh(case)
    return case


def delete_test_case(
    *, db: Session, interview_id: str, token: str, ttl: timedelta, case_id: int
) -> None:
    """Remove a test case and its runs (interviewer only; not while tests run).

    Its runs go with it: with their ``test_case_id`` cleared they would look like the room's
    own runs. What they did stays on the timeline, in their batch's TESTS entry.
    """
    interview, _ = _interviewer_seat(
        db=db, interview_id=interview_id, token=token, ttl=ttl, live=True, what="edit test cases"
    )
    case = _row_of(
        db=db, table=TestCase, interview_id=interview_id, row_id=case_id, what="test case"
    )
    if running_tests(db=db, interview_id=interview_id):
        raise Busy("The tests are running: delete the case once they have finished.")
    db.execute(delete(Run).where(col(Run.test_case_id) == case_id))
    db.delete(case)
    _touch(db=db, interview=interview)


def start_tests(
    *,
    db: Session,
    interview_id: str,
    token: str,
    ttl: timedelta,
    code: str,
    language: str | None = None,
) -> tuple[list[TestCase], Run, Participant]:
    """Start "Run tests": the cases to run, the first one's run, and who pressed it.

    The first case's run takes the room's one run slot (``Busy`` while another run goes on);
    ``finish_test_run`` hands the slot from each case to the next in one commit, so no other
    run starts in the middle of a batch. A candidate is refused while the interviewer has
    turned Run off, as Run refuses them.
    """
    interview, participant = get_member(db=db, interview_id=interview_id, token=token, ttl=ttl)
    if interview.run_disabled and participant.role != Role.INTERVIEWER:
        raise Forbidden("The interviewer has turned off running code for now.")
    cases = list_test_cases(db=db, interview_id=interview_id)
    if not cases:
        raise Invalid("There are no test cases yet: the interviewer adds them under the problem.")
    run, _ = start_run(
        db=db,
        interview_id=interview_id,
        token=token,
        ttl=ttl,
        runner=Runner.SERVER,
        code=code,
        stdin=cases[0].stdin,
        language=language,
        test_case_id=cases[0].id,
    )
    return cases, run, participant


def finish_test_run(
    *,
    db: Session,
    run_id: int,
    status: RunStatus,
    next_cases: Sequence[TestCase] = (),
    results: Sequence[Mapping[str, Any]] = (),
    **outcome: Any,
) -> tuple[Run, Run | None]:
    """Record how one case's run ended and, in the same commit, start the next case's run.

    The next run is that of the first of ``next_cases`` not deleted meanwhile. When there is
    none, the batch is over: its TESTS timeline entry (``{"passed", "total", "results"}``, from
    ``results``, every case's result so far) commits with this last outcome. Returns the
    finished run and the next one (``None`` after the last).
    """
    run = db.get(Run, run_id)
    if run is None:
        raise NotFound("run not found")
    following: Run | None = None
    for case in next_cases:
        if db.get(TestCase, case.id) is not None:
            following = Run(
                interview_id=run.interview_id,
                participant_id=run.participant_id,
                runner=run.runner,
                language=run.language,
                status=RunStatus.RUNNING,
                code=run.code,
                stdin=case.stdin,
                test_case_id=case.id,
            )
            db.add(following)
            break
    if following is None:
        batch = [dict(result) for result in results]
        data = {"passed": sum(1 for r in batch if r.get("passed")), "total": len(batch)}
        _record(
            db, run.interview_id, TimelineKind.TESTS, run.participant_id, {**data, "results": batch}
        )
    finished = finish_run(db=db, run_id=run_id, status=status, **outcome)  # commits it all
    if following is not None:
        db.refresh(following)
    return finished, following


def last_tests(*, db: Session, interview_id: str) -> TimelineEvent | None:
    """The room's latest finished "Run tests" (its TESTS timeline entry), if any."""
    statement = (
        select(TimelineEvent)
        .where(TimelineEvent.interview_id == interview_id, TimelineEvent.kind == TimelineKind.TESTS)
        .order_by(col(TimelineEvent.id).desc())
        .limit(1)
    )
    return db.exec(statement).first()


def running_tests(*, db: Session, interview_id: str) -> list[Run]:
    """The runs of the "Run tests" batch going on in the room, oldest first; ``[]`` if none.

    A batch holds the room's run slot from its first case to its last, so its runs are the
    room's latest runs, back to the one before them that is not a test-case run, was cut off,
    or belongs to an earlier finished batch.
    """
    latest = db.exec(
        select(Run)
        .where(Run.interview_id == interview_id)
        .order_by(col(Run.id).desc())
        .limit(MAX_TEST_CASES)
    ).all()
    if not latest or latest[0].status != RunStatus.RUNNING or latest[0].test_case_id is None:
        return []
    done = last_tests(db=db, interview_id=interview_id)
    recorded = {r.get("run_id") for r in (done.data.get("results", []) if done else [])}
    batch: list[Run] = []
    for run in latest:
        if run.test_case_id is None or run.status == RunStatus.INTERRUPTED or run.id in recorded:
            break
        batch.append(run)
    return batch[::-1]


# --- the interviewer's toolkit: the interviewer link, private notes, room controls ------------


def _interviewer_seat(
    *, db: Session, interview_id: str, token: str, ttl: timedelta, live: bool, what: str
) -> tuple[Interview, Participant]:
    """The interview and the interviewer holding ``token``; candidates are refused ``what``.

    ``live``: the interview must still be going (a change); else an ended one will do (a read).
    """
    if live:
        interview, participant = get_member(db=db, interview_id=interview_id, token=token, ttl=ttl)
    else:
        found = get_interview(db=db, interview_id=interview_id)
        if found is None:
            raise NotFound("interview not found")
        seat = participant_for_token(db=db, interview_id=interview_id, token=token)
        if seat is None:
            raise Unauthorized("you are not a participant of this interview")
        interview, participant = found, seat
    if participant.role != Role.INTERVIEWER:
        logger.warning(
            "interview %s: refused %s to candidate %s", interview_id, what, participant.id
        )
        raise Forbidden(f"only interviewers can {what}")
    return interview, participant


def interviewer_key(*, db: Session, interview_id: str, token: str, ttl: timedelta) -> str:
    """The secret of the interview's interviewer link (made now for an interview without one).

    Only interviewers get it; it stays valid while the interview lasts.
    """
    interview, _ = _interviewer_seat(
        db=db,
        interview_id=interview_id,
        token=token,
        ttl=ttl,
        live=False,
        what="see the interviewer link",
    )
    if not interview.interviewer_key:
        # Interviews made before the link existed: one key, even if two interviewers ask at once.
        db.execute(
            update(Interview)
            .where(col(Interview.id) == interview_id, col(Interview.interviewer_key) == "")
            .values(interviewer_key=new_token())
        )
        db.commit()
        db.refresh(interview)
    return interview.interviewer_key


def _decode_anchor(value: str | None) -> bytes | None:
    if value is None or value == "":
        return None
    try:
        anchor = base64.b64decode(value, validate=True)
    except ValueError:
        raise Invalid("an anchor must be a base64 Yjs relative position") from None
    if not anchor or len(anchor) > MAX_ANCHOR_BYTES:
        raise Invalid(f"an anchor must be 1 to {MAX_ANCHOR_BYTES} bytes")
    return anchor


def _pin(
    note: Note,
    *,
    anchor_start: str | None,
    anchor_end: str | None,
    line_start: int | None,
    line_end: int | None,
) -> None:
    start, end = _decode_anchor(anchor_start), _decode_anchor(anchor_end)
    if (start is None) != (end is None):
        raise Invalid("send both anchors (anchor_start and anchor_end) or neither")
    if (line_start is None) != (line_end is None):
        raise Invalid("send both lines (line_start and line_end) or neither")
    if line_start is not None and line_end is not None and line_start > line_end:
        raise Invalid("line_start must not be after line_end")
    if start is not None and line_start is None:
        raise Invalid("a note pinned to code needs the lines it covers (line_start, line_end)")
    note.anchor_start, note.anchor_end = start, end
    note.line_start, note.line_end = line_start, line_end


def _clean_markdown(markdown: str, kind: NoteKind) -> str:
    if len(markdown) > MAX_MARKDOWN_CHARS:
        raise Invalid(
            f"the note is too long ({len(markdown):,} characters; at most {MAX_MARKDOWN_CHARS:,})"
        )
    text = markdown.replace("\x00", "\ufffd")
    if kind == NoteKind.NOTE and not text.strip():
        raise Invalid("the note is empty: write something first")
    return text


def _moment(value: datetime | None) -> datetime:
    if value is None:
        return utcnow()
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def note_record(note: Note, **extra: Any) -> dict[str, Any]:
    """A note as the timeline keeps it (``TimelineKind.NOTE`` or ``HINT``)."""
    return {
        "note_id": note.id,
        "markdown": note.markdown,
        "line_start": note.line_start,
        "line_end": note.line_end,
        "moment": note.moment.isoformat(),
        **extra,
    }


def _timeline_kind(note: Note) -> TimelineKind:
    return TimelineKind.HINT if note.kind == NoteKind.HINT else TimelineKind.NOTE


def list_notes(*, db: Session, interview_id: str, token: str, ttl: timedelta) -> list[Note]:
    """The interview's notes and hints in the order written; interviewers only (ended too)."""
    _interviewer_seat(
        db=db, interview_id=interview_id, token=token, ttl=ttl, live=False, what="read notes"
    )
    return room_notes(db=db, interview_id=interview_id)


def room_notes(*, db: Session, interview_id: str) -> list[Note]:
    """The interview's notes with no seat check: for the interviewers' shared state only, which
    ``list_notes`` (with a token) let a browser link to in the first place."""
    statement = select(Note).where(Note.interview_id == interview_id).order_by(col(Note.id))
    return list(db.exec(statement))


def get_note(*, db: Session, interview_id: str, token: str, ttl: timedelta, note_id: int) -> Note:
    """One note of the interview; interviewers only."""
    _interviewer_seat(
        db=db, interview_id=interview_id, token=token, ttl=ttl, live=False, what="read notes"
    )
    return _row_of(db=db, table=Note, interview_id=interview_id, row_id=note_id, what="note")


def create_note(
    *, db: Session, interview_id: str, token: str, ttl: timedelta, data: NoteCreate
) -> Note:
    """Write a private note (or record that a hint was given); it goes on the timeline."""
    interview, author = _interviewer_seat(
        db=db, interview_id=interview_id, token=token, ttl=ttl, live=True, what="write notes"
    )
    note = Note(
        interview_id=interview_id,
        author_id=author.id,
        kind=data.kind,
        markdown=_clean_markdown(data.markdown, data.kind),
        moment=_moment(data.moment),
    )
    _pin(
        note,
        anchor_start=data.anchor_start,
        anchor_end=data.anchor_end,
        line_start=data.line_start,
        line_end=data.line_end,
    )
    db.add(note)
    db.flush()
    _record(db, interview_id, _timeline_kind(note), author.id, note_record(note))
    _touch(db=db, interview=interview)
    db.refresh(note)
    return note


def update_note(
    *,
    db: Session,
    interview_id: str,
    token: str,
    ttl: timedelta,
    note_id: int,
    data: NoteUpdate,
) -> Note:
    """Change a note (any interviewer of the room may); only the fields sent change."""
    interview, editor = _interviewer_seat(
        db=db, interview_id=interview_id, token=token, ttl=ttl, live=True, what="edit notes"
    )
    note = _row_of(db=db, table=Note, interview_id=interview_id, row_id=note_id, what="note")
    sent = data.model_fields_set
    if "markdown" in sent and data.markdown is not None:
        note.markdown = _clean_markdown(data.markdown, note.kind)
    if sent & {"anchor_start", "anchor_end", "line_start", "line_end"}:
        _pin(
            note,
            anchor_start=data.anchor_start,
            anchor_end=data.anchor_end,
            line_start=data.line_start,
            line_end=data.line_end,
        )
    if "moment" in sent and data.moment is not None:
        note.moment = _moment(data.moment)
    note.updated_at = utcnow()
    db.add(note)
    _record(db, interview_id, _timeline_kind(note), editor.id, note_record(note, edited=True))
    _touch(db=db, interview=interview)
    db.refresh(note)
    return note


def delete_note(
    *, db: Session, interview_id: str, token: str, ttl: timedelta, note_id: int
) -> None:
    """Delete a note; the timeline keeps that it was written, and that it was deleted."""
    interview, editor = _interviewer_seat(
        db=db, interview_id=interview_id, token=token, ttl=ttl, live=True, what="delete notes"
    )
    note = _row_of(db=db, table=Note, interview_id=interview_id, row_id=note_id, what="note")
    _record(db, interview_id, _timeline_kind(note), editor.id, note_record(note, deleted=True))
    db.delete(note)
    _touch(db=db, interview=interview)


def set_controls(
    *,
    db: Session,
    interview_id: str,
    token: str,
    ttl: timedelta,
    locked: bool | None = None,
    run_disabled: bool | None = None,
) -> Interview:
    """Lock the editor for candidates and/or disable their Run; ``None`` leaves one as it is.

    Each change goes on the timeline (``CONTROL``), in the commit that makes it.
    """
    interview, participant = _interviewer_seat(
        db=db,
        interview_id=interview_id,
        token=token,
        ttl=ttl,
        live=True,
        what="change the room's controls",
    )
    if locked is not None and locked != interview.locked:
        interview.locked = locked
        _record(db, interview_id, TimelineKind.CONTROL, participant.id, {"locked": locked})
    if run_disabled is not None and run_disabled != interview.run_disabled:
        interview.run_disabled = run_disabled
        _record(
            db, interview_id, TimelineKind.CONTROL, participant.id, {"run_disabled": run_disabled}
        )
    return _touch(db=db, interview=interview)
