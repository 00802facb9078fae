"""Every table Rivendell stores and the shapes its inputs and outputs take.

``X`` is the table, ``XCreate`` what a user may send to make one, ``XPublic`` what anyone in the
room may see (never a token or its hash).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy
from pydantic import field_validator
from sqlmodel import Field, SQLModel

from rivendell.executor.base import MAX_INPUT_BYTES, MIB
from rivendell.executor.languages import languages

__all__ = [
    "MAX_CASE_NAME_CHARS",
    "MAX_CODE_CHARS",
    "MAX_NAME_CHARS",
    "MAX_TEST_CASES",
    "MAX_TITLE_CHARS",
    "CleanupRun",
    "Document",
    "Edit",
    "Interview",
    "InterviewCreate",
    "InterviewPublic",
    "InterviewSummary",
    "Note",
    "NoteCreate",
    "NoteKind",
    "NoteUpdate",
    "Participant",
    "ParticipantCreate",
    "ParticipantPublic",
    "Role",
    "Run",
    "RunPublic",
    "RunStatus",
    "Runner",
    "TestCase",
    "TestCaseCreate",
    "TimelineEvent",
    "TimelineKind",
    "first_error_message",
    "utcnow",
]

MAX_TITLE_CHARS = 120
MAX_NAME_CHARS = 40
MAX_CODE_CHARS = 200_000
MAX_CASE_NAME_CHARS = 80
# "Run tests" runs every case one after the other while the room waits: a bound on that wait.
MAX_TEST_CASES = 20

# A participant's colour is picked from this palette in join order: high contrast on light and dark.
PALETTE = (
    "#e5484d",
    "#3e63dd",
    "#30a46c",
    "#f76b15",
    "#8e4ec6",
    "#12a594",
    "#d6409f",
    "#ffc53d",
)


# Zero-width (non-)joiners are format characters that real names and emoji need.
_JOINERS = frozenset({"\u200c", "\u200d"})


def utcnow() -> datetime:
    """Now, timezone-aware, in UTC."""
    return datetime.now(UTC)


class Role(StrEnum):
    """What a participant may do in a room."""

    INTERVIEWER = "interviewer"
    CANDIDATE = "candidate"


def _string_enum(enum: type[StrEnum], length: int) -> sqlalchemy.Enum:
    # Stored as its value in a plain string column, so the database needs no enum type.
    return sqlalchemy.Enum(
        enum, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e]
    )


def clean_line(value: str, *, field: str, limit: int) -> str:
    """A one-line text as people type it: trimmed, NFC, no control characters, not empty, bounded.

    The limit is checked before any work so a 10 MB value costs nothing.
    """
    if not isinstance(value, str):
        raise ValueError(f"{field} must be text")
    if len(value) > limit * 4:
        raise ValueError(f"{field} is too long (at most {limit} characters)")
    text = unicodedata.normalize("NFC", value)
    # Control and format characters (bidi overrides, NUL, newlines) do not belong in a label.
    text = "".join(" " if unicodedata.category(ch) in {"Cc", "Zl", "Zp"} else ch for ch in text)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf" or ch in _JOINERS)
    text = " ".join(text.split())
    if not text:
        raise ValueError(f"{field} must not be empty")
    if len(text) > limit:
        raise ValueError(f"{field} is too long (at most {limit} characters)")
    return text


def first_error_message(error: ValueError) -> str:
    """The first problem a validation error reports, as a sentence to show the user."""
    errors = getattr(error, "errors", None)
    if callable(errors) and (details := errors()):
        return str(details[0].get("msg", error)).removeprefix("Value error, ")
    return str(error)


def check_language(value: str) -> str:
    """A known language id, or a clear error listing the known ones."""
    if value not in languages():
        known = ", ".join(languages())
        raise ValueError(f"unknown language {value[:40]!r}; choose one of: {known}")
    return value


class Interview(SQLModel, table=True):
    """One interview: its room, problem statement and code."""

    id: str = Field(primary_key=True, max_length=64)
    title: str = Field(max_length=MAX_TITLE_CHARS)
    language: str = Field(max_length=32)
    problem_markdown: str = Field(default="")
    code: str = Field(default="")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow, index=True)
    ended_at: datetime | None = Field(default=None)
    # The interviewer's controls: candidates' editors read-only, Run refused to candidates.
    locked: bool = Field(default=False)
    run_disabled: bool = Field(default=False)
    # The secret of the interviewer link (`/i/{id}?interviewer={key}`): only interviewers see it.
    interviewer_key: str = Field(default="", max_length=64)


class Participant(SQLModel, table=True):
    """Someone who joined an interview, as interviewer or candidate."""

    id: int | None = Field(default=None, primary_key=True)
    interview_id: str = Field(foreign_key="interview.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=MAX_NAME_CHARS)
    role: Role = Field(sa_type=_string_enum(Role, 16))
    color: str = Field(max_length=16)
    # Only the SHA-256 of the bearer token is kept: a leaked database grants no one a seat.
    token_hash: str = Field(max_length=64, unique=True)
    joined_at: datetime = Field(default_factory=utcnow)


class Document(SQLModel, table=True):
    """The room's shared code as a Yjs document: its full state, encoded as one update."""

    interview_id: str = Field(foreign_key="interview.id", primary_key=True, ondelete="CASCADE")
    state: bytes = Field(sa_type=sqlalchemy.LargeBinary)
    updated_at: datetime = Field(default_factory=utcnow)


class Runner(StrEnum):
    """Where a run executed: a sandbox on the server, or a participant's browser."""

    SERVER = "server"
    BROWSER = "browser"


class RunStatus(StrEnum):
    """A run's state: running, then how it ended."""

    RUNNING = "running"
    OK = "ok"
    ERROR = "error"
    COMPILE_ERROR = "compile_error"
    TIMEOUT = "timeout"
    MEMORY_LIMIT = "memory_limit"
    OUTPUT_LIMIT = "output_limit"
    STOPPED = "stopped"
    UNAVAILABLE = "unavailable"
    INTERRUPTED = "interrupted"


class Run(SQLModel, table=True):
    """One execution of a room's code: who started it, what ran, and how it ended."""

    id: int | None = Field(default=None, primary_key=True)
    interview_id: str = Field(foreign_key="interview.id", index=True, ondelete="CASCADE")
    participant_id: int | None = Field(
        default=None, foreign_key="participant.id", ondelete="SET NULL"
    )
    runner: Runner = Field(sa_type=_string_enum(Runner, 16))
    language: str = Field(max_length=32)
    status: RunStatus = Field(sa_type=_string_enum(RunStatus, 16), index=True)
    code: str = Field(default="")
    stdin: str = Field(default="")
    stdout: str = Field(default="")
    stderr: str = Field(default="")
    exit_code: int | None = Field(default=None)
    duration_ms: int | None = Field(default=None)
    # How it ran (runtime version, image, limits, resources used): the run's receipt.
    details: dict[str, Any] = Field(default_factory=dict, sa_type=sqlalchemy.JSON)
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = Field(default=None)
    # Set when this run checked a test case ("Run tests" runs each case as a run of its own).
    test_case_id: int | None = Field(
        default=None, foreign_key="testcase.id", index=True, ondelete="SET NULL"
    )


class TestCase(SQLModel, table=True):
    """An input the interviewer attaches to the problem and the output it must produce."""

    __test__ = False  # not a pytest class, whatever its name

    id: int | None = Field(default=None, primary_key=True)
    interview_id: str = Field(foreign_key="interview.id", index=True, ondelete="CASCADE")
    position: int = Field(default=0)
    name: str = Field(default="", max_length=MAX_TITLE_CHARS)
    stdin: str = Field(default="")
    expected_stdout: str = Field(default="")
    # A hidden case's input and expected output reach interviewers only; candidates see pass/fail.
    hidden: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow)


def _bounded_text(value: str, *, field: str) -> str:
    """Program input or output as typed: any text, NUL replaced, at most ``MAX_INPUT_BYTES``."""
    if not isinstance(value, str):
        raise ValueError(f"{field} must be text")
    if len(value.encode("utf-8", "surrogatepass")) > MAX_INPUT_BYTES:
        raise ValueError(f"{field} is over the {MAX_INPUT_BYTES // MIB} MiB limit")
    return value.replace("\x00", "\ufffd")


class TestCaseCreate(SQLModel):
    """A test case as the interviewer writes it (creating one, or replacing one's content)."""

    __test__ = False

    name: str
    stdin: str = ""
    expected_stdout: str = ""
    hidden: bool = False

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return clean_line(value, field="Name", limit=MAX_CASE_NAME_CHARS)

    @field_validator("stdin")
    @classmethod
    def _stdin(cls, value: str) -> str:
        return _bounded_text(value, field="Input")

    @field_validator("expected_stdout")
    @classmethod
    def _expected(cls, value: str) -> str:
        return _bounded_text(value, field="Expected output")


class NoteKind(StrEnum):
    """A private note, or the record that a hint was given."""

    NOTE = "note"
    HINT = "hint"


class Note(SQLModel, table=True):
    """An interviewer's private Markdown note (or hint), never sent to a candidate.

    ``anchor_start``/``anchor_end`` are Yjs relative positions (``Y.encodeRelativePosition``) in
    the document's ``code`` text: they stay on the same code when lines above them change.
    ``line_start``/``line_end`` are the 1-based lines they covered when the note was written.
    """

    id: int | None = Field(default=None, primary_key=True)
    interview_id: str = Field(foreign_key="interview.id", index=True, ondelete="CASCADE")
    author_id: int | None = Field(default=None, foreign_key="participant.id", ondelete="SET NULL")
    kind: NoteKind = Field(sa_type=_string_enum(NoteKind, 16))
    markdown: str = Field(default="")
    anchor_start: bytes | None = Field(default=None, sa_type=sqlalchemy.LargeBinary)
    anchor_end: bytes | None = Field(default=None, sa_type=sqlalchemy.LargeBinary)
    line_start: int | None = Field(default=None)
    line_end: int | None = Field(default=None)
    # The moment of the interview the note is about (its timeline position); defaults to now.
    moment: datetime = Field(default_factory=utcnow)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class TimelineKind(StrEnum):
    """What a timeline entry records (docs/timeline.md describes each one's ``data``)."""

    SEED = "seed"  # the document's first state (the starter code)
    EDIT = "edit"  # a Yjs update from one participant
    PASTE = "paste"  # a paste of several lines from outside the editor
    RUN = "run"  # a run finished: code, stdin, output, status, receipt
    TESTS = "tests"  # "Run tests" finished: each case's outcome
    LANGUAGE = "language"
    PROBLEM = "problem"
    JOIN = "join"  # came online
    LEAVE = "leave"  # went offline
    NOTE = "note"
    HINT = "hint"
    CONTROL = "control"  # the editor locked or unlocked, Run disabled or enabled
    ENDED = "ended"


class TimelineEvent(SQLModel, table=True):
    """One entry of an interview's durable timeline, in the order it happened (``id``)."""

    id: int | None = Field(default=None, primary_key=True)
    interview_id: str = Field(foreign_key="interview.id", index=True, ondelete="CASCADE")
    at: datetime = Field(default_factory=utcnow)
    kind: TimelineKind = Field(sa_type=_string_enum(TimelineKind, 16))
    participant_id: int | None = Field(
        default=None, foreign_key="participant.id", ondelete="SET NULL"
    )
    data: dict[str, Any] = Field(default_factory=dict, sa_type=sqlalchemy.JSON)
    # SEED and EDIT entries: the Yjs update (v1 encoding); replaying all of them in order
    # rebuilds the document.
    update: bytes | None = Field(default=None, sa_type=sqlalchemy.LargeBinary)


@dataclass(frozen=True, slots=True)
class Edit:
    """A Yjs update a participant's editor sent, and when the server received it."""

    participant_id: int | None
    update: bytes
    at: datetime = field(default_factory=utcnow)


class InterviewCreate(SQLModel):
    """What the home page (and later the API) sends to create an interview."""

    title: str
    language: str
    creator_name: str

    @field_validator("title")
    @classmethod
    def _title(cls, value: str) -> str:
        return clean_line(value, field="Title", limit=MAX_TITLE_CHARS)

    @field_validator("creator_name")
    @classmethod
    def _creator_name(cls, value: str) -> str:
        return clean_line(value, field="Name", limit=MAX_NAME_CHARS)

    @field_validator("language")
    @classmethod
    def _language(cls, value: str) -> str:
        return check_language(value)


class ParticipantCreate(SQLModel):
    """What someone opening a shared link sends to join."""

    name: str

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return clean_line(value, field="Name", limit=MAX_NAME_CHARS)


MAX_NOTE_CHARS = 20_000  # as a problem statement (rivendell.markdown.MAX_MARKDOWN_CHARS)
MAX_LINE = 1_000_000


class NoteCreate(SQLModel):
    """A private note (or a hint given) as an interviewer writes it.

    ``anchor_start``/``anchor_end`` are base64 Yjs relative positions of the pinned lines'
    first and last character; ``line_start``/``line_end`` the lines they covered then. Both
    pairs or neither. ``moment`` defaults to now.
    """

    kind: NoteKind = NoteKind.NOTE
    markdown: str = Field(default="", max_length=MAX_NOTE_CHARS)
    anchor_start: str | None = Field(default=None, max_length=128)
    anchor_end: str | None = Field(default=None, max_length=128)
    line_start: int | None = Field(default=None, ge=1, le=MAX_LINE)
    line_end: int | None = Field(default=None, ge=1, le=MAX_LINE)
    moment: datetime | None = None


class NoteUpdate(SQLModel):
    """A change to a note: only the fields sent change (pinning moves with ``line_*``)."""

    markdown: str | None = Field(default=None, max_length=MAX_NOTE_CHARS)
    anchor_start: str | None = Field(default=None, max_length=128)
    anchor_end: str | None = Field(default=None, max_length=128)
    line_start: int | None = Field(default=None, ge=1, le=MAX_LINE)
    line_end: int | None = Field(default=None, ge=1, le=MAX_LINE)
    moment: datetime | None = None


class ParticipantPublic(SQLModel):
    """A participant as everyone in the room sees them."""

    id: int
    name: str
    role: Role
    color: str


class InterviewPublic(SQLModel):
    """An interview as anyone holding its link may see it."""

    id: str
    title: str
    language: str
    problem_markdown: str
    created_at: datetime
    updated_at: datetime
    ended_at: datetime | None


class RunPublic(SQLModel):
    """A run as everyone in the room (and the API) sees it."""

    id: int
    runner: Runner
    language: str
    status: RunStatus
    stdout: str
    stderr: str
    exit_code: int | None
    duration_ms: int | None
    started_at: datetime
    finished_at: datetime | None
    details: dict[str, Any]


class InterviewSummary(SQLModel):
    """One row of the admin's list of interviews: no statement, no code, no token."""

    id: str
    title: str
    language: str
    created_at: datetime
    updated_at: datetime
    ended_at: datetime | None
    participants: int
    runs: int
    size_bytes: int


class CleanupRun(SQLModel, table=True):
    """What one pass of the automatic cleanup did (kept in the database: with several
    instances, the one that ran it is not necessarily the one the admin page is served by)."""

    id: int | None = Field(default=None, primary_key=True)
    instance: str = Field(max_length=128)
    started_at: datetime = Field(default_factory=utcnow, index=True)
    finished_at: datetime | None = Field(default=None)
    ended: int = Field(default=0)
    deleted: int = Field(default=0)
    presence_dropped: int = Field(default=0)
    containers_removed: int = Field(default=0)
    error: str = Field(default="")
