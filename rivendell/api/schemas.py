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
