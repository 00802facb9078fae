"""The shapes the REST API accepts and answers with (the OpenAPI schema is generated from them).

The names in them are a contract with integrators: fields may be added, none renamed.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field

from rivendell.executor.base import MAX_INPUT_BYTES
from rivendell.markdown import MAX_MARKDOWN_CHARS
from rivendell.models import NoteKind, Role, Runner, RunStatus

__all__ = [
    "ControlsOut",
    "ControlsUpdate",
    "Execute",
    "JoinRequest",
    "JoinResult",
    "NoteOut",
    "Page",
    "ParticipantOut",
    "ProblemUpdate",
    "RunOut",
    "SessionCreated",
    "SessionOut",
    "SessionStatus",
    "SessionSummaryOut",
    "TestCaseIn",
    "TestCaseOut",
    "TestResultOut",
    "TestRunOut",
]


class SessionStatus(StrEnum):
    """Where an interview stands: going on, idle past the TTL, or over."""

    ACTIVE = "active"
    EXPIRED = "expired"
    ENDED = "ended"


class ProblemUpdate(BaseModel):
    """The new problem statement, in Markdown."""

    markdown: str = Field(max_length=MAX_MARKDOWN_CHARS * 4)


class JoinRequest(BaseModel):
    """Who joins; with the interviewer link's key, as an interviewer."""

    name: str = Field(max_length=400)
    interviewer_key: str | None = Field(
        default=None,
        max_length=256,
        description="The `interviewer` parameter of an interviewer link: seats an interviewer "
        "(403 when it is not this interview's)",
    )


class Execute(BaseModel):
    """A program to run; every field defaults to the room's (its language, its current code)."""

    language: str | None = Field(default=None, max_length=64)
    code: str | None = Field(default=None, max_length=MAX_INPUT_BYTES * 2)
    stdin: str = Field(default="", max_length=MAX_INPUT_BYTES * 2)


class ParticipantOut(BaseModel):
    """Someone in the room (never their token)."""

    id: int
    name: str
    role: Role
    color: str
    online: bool


class RunOut(BaseModel):
    """A run and how it ended."""

    run_id: int
    status: RunStatus
    stdout: str
    stderr: str
    exit_code: int | None
    duration_ms: int | None
    language: str
    runner: Runner
    started_at: datetime
    finished_at: datetime | None
    details: dict[str, Any]


class SessionOut(BaseModel):
    """An interview as anyone holding its link sees it."""

    id: str
    url: str
    title: str
    language: str
    problem_markdown: str
    code: str
    status: SessionStatus
    created_at: datetime
    updated_at: datetime
    ended_at: datetime | None
    participants: list[ParticipantOut]
    last_run: RunOut | None
    locked: bool = Field(default=False, description="Candidates' editors are read-only")
    run_disabled: bool = Field(default=False, description="Run is refused to candidates")


class SessionCreated(SessionOut):
    """A new interview and its creator's seat: the token is shown this once."""

    creator_token: str
    creator_participant_id: int
    interviewer_url: str = Field(
        default="", description="The interviewer link: whoever opens it joins as an interviewer"
    )


class ControlsUpdate(BaseModel):
    """The interviewer's room controls; a field left out stays as it is."""

    locked: bool | None = Field(default=None, description="Lock the editor for candidates")
    run_disabled: bool | None = Field(default=None, description="Refuse Run to candidates")


class ControlsOut(BaseModel):
    """The room's controls now."""

    locked: bool
    run_disabled: bool


class NoteOut(BaseModel):
    """A private note or hint (interviewers only). Anchors are base64 Yjs relative positions."""

    id: int
    kind: NoteKind
    markdown: str
    html: str = Field(description="The Markdown rendered safely (no raw HTML)")
    author_id: int | None
    anchor_start: str | None
    anchor_end: str | None
    line_start: int | None = Field(description="The first pinned line when it was written")
    line_end: int | None
    current_line_start: int | None = Field(
        description="Where the pinned code's first line is now (null: unpinned, or its code "
        "is gone)"
    )
    current_line_end: int | None
    moment: datetime
    created_at: datetime
    updated_at: datetime


class SessionSummaryOut(BaseModel):
    """One interview in a list: no statement, no code, no token."""

    id: str
    url: str
    title: str
    language: str
    status: SessionStatus
    created_at: datetime
    updated_at: datetime
    ended_at: datetime | None
    participants: int
    participants_online: int
    runs: int
    size_bytes: int


class Page(BaseModel):
    """One page of a list."""

    items: list[SessionSummaryOut]
    total: int
    limit: int
    offset: int


class JoinResult(BaseModel):
    """The seat just taken: the token is shown this once."""

    participant_id: int
    token: str
    role: Role


StatusFilter = Literal["all", "active", "ended"]


class TestCaseIn(BaseModel):
    """A test case as the interviewer writes it (``stdin`` and ``expected_stdout`` up to 1 MiB
    each as UTF-8)."""

    __test__ = False

    name: str = Field(max_length=400, description="Shown to everyone unless hidden")
    stdin: str = Field(default="", max_length=MAX_INPUT_BYTES * 2)
    expected_stdout: str = Field(default="", max_length=MAX_INPUT_BYTES * 2)
    hidden: bool = Field(default=False, description="Candidates see only that it exists")


class TestCaseOut(BaseModel):
    """A test case. For a candidate's token, a hidden case has ``name`` "Hidden case N" and
    ``stdin`` / ``expected_stdout`` null."""

    __test__ = False

    id: int
    position: int
    name: str
    hidden: bool
    stdin: str | None
    expected_stdout: str | None


class TestResultOut(BaseModel):
    """One case's outcome. ``passed``: the run ended ``ok`` and its stdout matched (trailing
    whitespace of each line and blank lines at the end ignored). For a candidate's token, a
    hidden case's ``stdin``, ``expected_stdout``, ``stdout`` and ``stderr`` are empty."""

    __test__ = False

    test_case_id: int | None
    name: str
    hidden: bool
    passed: bool
    status: str
    stdin: str
    expected_stdout: str
    stdout: str
    stderr: str
    run_id: int | None
    duration_ms: int | None


class TestRunOut(BaseModel):
    """A finished "Run tests": the score and each case's result, in order."""

    __test__ = False

    passed: int
    total: int
    results: list[TestResultOut]
