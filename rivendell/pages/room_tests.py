"""The room's test cases: the interviewer writes them, anyone runs them, everyone sees the score.

Two shared states, because a shared state's vars reach every browser linked to it:

- ``TestsState``, linked by interview id, is what a candidate may see: each case's name, input
  and expected output when it is visible; for a hidden case only that it exists ("Hidden case
  2") and whether it passed.
- ``InterviewerTestsState``, linked by ``<interview id>-interviewer`` and only for browsers whose
  seat the database says is an interviewer's, holds everything, hidden cases included.

A candidate's browser is never linked to the second one, so no hidden input or output is ever
in its state or on its socket. Both are rebuilt from the database (``load_tests``) when the
event bus announces a change to the cases or a test run, by the process that published it
(``refresh_tests``), like ``RoomState``. ``TestsPageState`` is this browser's own: the form.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import weakref
from datetime import timedelta
from typing import Any

import reflex as rx
from reflex.istate.manager.token import BaseStateToken

from rivendell import crud
from rivendell.components.receipt import format_receipt
from rivendell.db import DatabaseUnavailable, session
from rivendell.events import EventType, RoomEvent, bus
from rivendell.executor.base import MAX_INPUT_BYTES
from rivendell.models import (
    MAX_CASE_NAME_CHARS,
    MAX_TEST_CASES,
    Role,
    Run,
    RunStatus,
    TestCaseCreate,
    first_error_message,
)
from rivendell.pages.room import STATUS_LABELS, RoomPageState, RoomState
from rivendell.runs import get_room_runner
from rivendell.settings import get_settings
from rivendell.testcases import case_label, outputs_match, run_tests

__all__ = [
    "InterviewerTestsState",
    "TestsPageState",
    "TestsState",
    "load_tests",
    "refresh_tests",
    "tests_panel",
]

logger = logging.getLogger(__name__)

_TEST_EVENTS = frozenset(
    {EventType.TESTS_CHANGED, EventType.TESTS_COMPLETED, EventType.SESSION_ENDED}
)


def _ttl() -> timedelta:
    return timedelta(hours=get_settings().interview_ttl_hours)


def interviewer_link(interview_id: str) -> str:
    """The link token of a room's interviewer-only state (never given to a browser)."""
    return f"{interview_id}-interviewer"


@dataclasses.dataclass
class CaseView:
    """A test case in the list next to the problem."""

    id: int = 0
    label: str = ""
    name: str = ""
    hidden: bool = False
    stdin: str = ""
    expected: str = ""


@dataclasses.dataclass
class ResultView:
    """One case of the latest "Run tests"."""

    test_case_id: int = 0
    label: str = ""
    hidden: bool = False
    # "passed", "failed", "running" or "pending"
    state: str = "pending"
    # Whether this viewer gets the case's input, expected and actual output.
    detailed: bool = False
    stdin: str = ""
    expected: str = ""
    stdout: str = ""
    stderr: str = ""
    summary: str = ""
    receipt: str = ""


@dataclasses.dataclass
class BatchView:
    """The latest "Run tests": going on, or finished (``shown`` is false before the first)."""

    shown: bool = False
    active: bool = False
    by: str = ""
    passed: int = 0
    total: int = 0
    score: str = ""
    results: list[ResultView] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class TestsSnapshot:
    """What one of the two states shows."""

    __test__ = False

    cases: list[CaseView]
    batch: BatchView


def _case_views(cases: list[Any], *, full: bool) -> list[CaseView]:
    views = []
    for index, case in enumerate(cases):
        secret = case.hidden and not full
        views.append(
            CaseView(
                id=case.id or 0,
                label=case_label(index, case.name, case.hidden and not full),
                name="" if secret else case.name,
                hidden=case.hidden,
                stdin="" if secret else case.stdin,
                expected="" if secret else case.expected_stdout,
            )
        )
    return views


def _result_view(
    result: dict[str, Any], index: int, *, full: bool, receipt: dict[str, Any] | None
) -> ResultView:
    hidden = bool(result.get("hidden"))
    detailed = full or not hidden
    try:
        status = RunStatus(str(result.get("status", "")))
    except ValueError:
        status = None
    facts = []
    if status == RunStatus.OK and not result.get("passed"):
        facts.append("wrong output")
    elif status is not None and status != RunStatus.OK:
        facts.append(STATUS_LABELS[status])
    if isinstance(ms := result.get("duration_ms"), int):
        facts.append(f"{ms:,} ms")
    return ResultView(
        test_case_id=int(result.get("test_case_id") or 0),
        label=case_label(index, str(result.get("name", "")), hidden and not full),
        hidden=hidden,
        state="passed" if result.get("passed") else "failed",
        detailed=detailed,
        stdin=str(result.get("stdin", "")) if detailed else "",
        expected=str(result.get("expected_stdout", "")) if detailed else "",
        stdout=str(result.get("stdout", "")) if detailed else "",
        stderr=str(result.get("stderr", "")) if detailed else "",
        summary=" · ".join(facts),
        receipt=format_receipt(receipt) if detailed and receipt else "",
    )


def _load(interview_id: str) -> tuple[TestsSnapshot, TestsSnapshot] | None:
    """The room's cases and latest batch, as candidates and as interviewers see them."""
    with session() as db:
        if crud.get_live_interview(db=db, interview_id=interview_id, ttl=_ttl()) is None:
            return None
        cases = crud.list_test_cases(db=db, interview_id=interview_id)
        names = {p.id: p.name for p in crud.list_participants(db=db, interview_id=interview_id)}
        running = crud.running_tests(db=db, interview_id=interview_id)
        results: list[dict[str, Any]] = []
        receipts: dict[int, dict[str, Any]] = {}
        by_id: int | None = None
        if running:
            # A batch going on: the finished cases' outcomes, the running one, the rest pending.
            by_id = running[0].participant_id
            by_case = {case.id: case for case in cases}
            ran = {run.test_case_id for run in running}
            for run in running:
                case = by_case.get(run.test_case_id)
                if case is None:
                    continue
                results.append(
                    {
                        "test_case_id": case.id,
                        "name": case.name,
                        "hidden": case.hidden,
                        "passed": run.status == RunStatus.OK
                        and outputs_match(case.expected_stdout, run.stdout),
                        "status": run.status.value,
                        "stdin": case.stdin,
                        "expected_stdout": case.expected_stdout,
                        "stdout": run.stdout,
                        "stderr": run.stderr,
                        "run_id": run.id,
                        "duration_ms": run.duration_ms,
                    }
                )
                receipts[run.id or 0] = run.details
            pending = [
                {"test_case_id": c.id, "name": c.name, "hidden": c.hidden, "status": "pending"}
                for c in cases
                if c.id not in ran
            ]
            results += pending
        elif (entry := crud.last_tests(db=db, interview_id=interview_id)) is not None:
            by_id = entry.participant_id
            results = list(entry.data.get("results", []))
            run_ids = [r["run_id"] for r in results if isinstance(r.get("run_id"), int)]
            for run_id in run_ids:
                if (recorded := db.get(Run, run_id)) is not None:
                    receipts[run_id] = recorded.details
    snapshots = []
    for full in (False, True):
        views = []
        for index, result in enumerate(results):
            view = _result_view(
                result, index, full=full, receipt=receipts.get(result.get("run_id") or 0)
            )
            if result.get("status") == "pending":
                view.state, view.summary = "pending", "waiting"
            elif result.get("status") == RunStatus.RUNNING.value:
                view.state, view.summary = "running", "running…"
            views.append(view)
        done = [v for v in views if v.state in ("passed", "failed")]
        passed = sum(1 for v in done if v.state == "passed")
        batch = BatchView(
            shown=bool(views),
            active=bool(running),
            by=names.get(by_id, "Someone") if by_id is not None else "",
            passed=passed,
            total=len(views),
            score=(
                f"{len(done)}/{len(views)} run, {passed} passed"
                if running
                else f"{passed}/{len(views)} passed"
            ),
            results=views,
        )
        snapshots.append(TestsSnapshot(cases=_case_views(cases, full=full), batch=batch))
    return snapshots[0], snapshots[1]


async def load_tests(interview_id: str) -> tuple[TestsSnapshot, TestsSnapshot] | None:
    """The candidates' and the interviewers' view of the room's tests (``None``: no room)."""
    return await asyncio.to_thread(_load, interview_id)


class _TestsBase(rx.State, mixin=True):
    """The fields both projections share (a mixin: each state is linked on its own)."""

    interview_id: str = ""
    cases: list[CaseView] = []
    batch: BatchView = BatchView()

    def _apply(self, interview_id: str, snapshot: TestsSnapshot) -> None:
        # Only what changed is assigned, so nothing unchanged is sent to the browsers again.
        if self.interview_id != interview_id:
            self.interview_id = interview_id
        if self.cases != snapshot.cases:
            self.cases = snapshot.cases
        if self.batch != snapshot.batch:
            self.batch = snapshot.batch


class TestsState(rx.SharedState, _TestsBase):
    """The room's tests as everyone (candidates included) may see them; linked by interview id."""

    __test__ = False


class InterviewerTestsState(rx.SharedState, _TestsBase):
    """The room's tests with hidden cases' input and output; linked for interviewers only."""


async def refresh_tests(app: rx.App, event: RoomEvent) -> None:
    """Event-bus subscriber: rebuild both test states when the cases or a test run change."""
    if event.type not in _TEST_EVENTS and "test_case_id" not in event.data:
        return
    # One refresh of a room at a time, so an older snapshot is never applied after a newer one.
    lock = _refreshing.get(event.interview_id)
    if lock is None:
        lock = _refreshing[event.interview_id] = asyncio.Lock()
    async with lock:
        try:
            loaded = await load_tests(event.interview_id)
        except DatabaseUnavailable:
            return
        if loaded is None:
            return
        for cls, ident, snapshot in (
            (TestsState, event.interview_id, loaded[0]),
            (InterviewerTestsState, interviewer_link(event.interview_id), loaded[1]),
        ):
            async with app.modify_state(BaseStateToken(ident=ident, cls=cls)) as root:
                state = await root.get_state(cls)
                state._apply(event.interview_id, snapshot)


# Held only while a refresh of that room runs or waits.
_refreshing: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()


class TestsPageState(rx.State):
    """This browser's side of the test panel: which case it edits, and the draft."""

    __test__ = False

    # 0: no form open; -1: a new case; otherwise the id of the case being edited.
    editing: int = 0
    draft_name: str = ""
    draft_stdin: str = ""
    draft_expected: str = ""
    draft_hidden: bool = False
    error: str = ""
    running: bool = False

    @rx.event
    async def open_tests(self):
        """Link this browser to the room's tests (when the panel mounts, once seated)."""
        page = await self.get_state(RoomPageState)
        interview_id, token = page._interview_id, page.seat_token
        if not interview_id or not token:
            return

        def role() -> str | None:
            with session() as db:
                seat = crud.participant_for_token(db=db, interview_id=interview_id, token=token)
                return seat.role.value if seat is not None else None

        try:
            seat_role = await asyncio.to_thread(role)
            loaded = await load_tests(interview_id)
        except DatabaseUnavailable:
            return
        if seat_role is None or loaded is None:
            return
        # The database, not the page, says who may see hidden cases.
        if seat_role == Role.INTERVIEWER.value:
            linked: _TestsBase = await (await self.get_state(InterviewerTestsState))._link_to(
                interviewer_link(interview_id)
            )
            linked._apply(interview_id, loaded[1])
        else:
            public = await (await self.get_state(TestsState))._link_to(interview_id)
            public._apply(interview_id, loaded[0])

    @rx.event
    def new_case(self):
        """Open an empty form for a new case."""
        self.editing, self.error = -1, ""
        self.draft_name, self.draft_stdin, self.draft_expected = "", "", ""
        self.draft_hidden = False

    @rx.event
    async def edit_case(self, case_id: int):
        """Open the form on one case (the interviewer's view holds its content)."""
        mine = await self.get_state(InterviewerTestsState)
        case = next((c for c in mine.cases if c.id == case_id), None)
        if case is None:
            return
        self.editing, self.error = case.id, ""
        self.draft_name, self.draft_stdin = case.name, case.stdin
        self.draft_expected, self.draft_hidden = case.expected, case.hidden

    @rx.event
    def cancel_case(self):
        """Close the form without saving."""
        self.editing, self.error = 0, ""

    @rx.event
    def set_draft_name(self, value: str):
        """Keep the name typed."""
        self.draft_name = value[: MAX_CASE_NAME_CHARS * 4]

    @rx.event
    def set_draft_stdin(self, value: str):
        """Keep the input typed."""
        self.draft_stdin = value[: MAX_INPUT_BYTES + 1]

    @rx.event
    def set_draft_expected(self, value: str):
        """Keep the expected output typed."""
        self.draft_expected = value[: MAX_INPUT_BYTES + 1]

    @rx.event
    def set_draft_hidden(self, value: bool):
        """Hidden from the candidate, or not."""
        self.draft_hidden = bool(value)

    async def _seat(self) -> tuple[str, str]:
        page = await self.get_state(RoomPageState)
        return page._interview_id, page.seat_token

    @rx.event
    async def save_case(self):
        """Create or replace the case in the form; the server refuses all but interviewers."""
        try:
            data = TestCaseCreate(
                name=self.draft_name,
                stdin=self.draft_stdin,
                expected_stdout=self.draft_expected,
                hidden=self.draft_hidden,
            )
        except ValueError as error:
            self.error = first_error_message(error)
            return
        interview_id, token = await self._seat()
        editing = self.editing

        def write() -> None:
            with session() as db:
                if editing > 0:
                    crud.update_test_case(
                        db=db,
                        interview_id=interview_id,
                        token=token,
                        ttl=_ttl(),
                        case_id=editing,
                        data=data,
                    )
                else:
                    crud.create_test_case(
                        db=db, interview_id=interview_id, token=token, ttl=_ttl(), data=data
                    )

        try:
            await asyncio.to_thread(write)
        except crud.Error as error:
            self.error = str(error)
            return
        except DatabaseUnavailable:
            self.error = "The database is unreachable: not saved yet. Save again soon."
            return
        self.editing, self.error = 0, ""
        bus.publish(RoomEvent(interview_id, EventType.TESTS_CHANGED))

    @rx.event
    async def delete_case(self, case_id: int):
        """Remove a case (interviewer only)."""
        interview_id, token = await self._seat()

        def write() -> None:
            with session() as db:
                crud.delete_test_case(
                    db=db, interview_id=interview_id, token=token, ttl=_ttl(), case_id=case_id
                )

        try:
            await asyncio.to_thread(write)
        except crud.Error as error:
            return rx.toast.error(str(error))
        if self.editing == case_id:
            self.editing = 0
        bus.publish(RoomEvent(interview_id, EventType.TESTS_CHANGED))

    @rx.event(background=True)
    async def run_all(self):
        """Run every case in the sandbox; everyone in the room sees each outcome and the score."""
        async with self:
            page = await self.get_state(RoomPageState)
            if not page.joined:
                return
            interview_id, token = page._interview_id, page.seat_token
            client = self.router.session.client_ip or None
            self.running = True
        try:
            await run_tests(
                get_room_runner(), interview_id=interview_id, token=token, client=client
            )
        except crud.Error as error:
            return rx.toast.error(str(error))
        finally:
            async with self:
                self.running = False


def _block(label: str, text: rx.Var[str]) -> rx.Component:
    return rx.box(
        rx.text(label, size="1", weight="bold", color_scheme="gray"),
        rx.el.pre(
            rx.cond(text != "", text, "(empty)"), class_name="rivendell-output", aria_label=label
        ),
        width="100%",
    )


_STATE_COLORS = {"passed": "grass", "failed": "red", "running": "blue", "pending": "gray"}


def _result_row(result: rx.Var[ResultView]) -> rx.Component:
    badge = rx.badge(
        rx.match(
            result.state,
            ("passed", "Passed"),
            ("failed", "Failed"),
            ("running", "Running…"),
            "Waiting",
        ),
        color_scheme=rx.match(
            result.state,
            *[(name, color) for name, color in _STATE_COLORS.items()],
            "gray",
        ),
        variant="soft",
        size="1",
    )
    head = rx.hstack(
        badge,
        rx.text(result.label, weight="medium", size="2", class_name="truncate"),
        rx.cond(result.hidden, rx.icon("eye-off", size=12, aria_label="hidden")),
        rx.spacer(),
        rx.text(result.summary, size="1", color_scheme="gray"),
        align="center",
        spacing="2",
        width="100%",
    )
    details = rx.vstack(
        _block("Input", result.stdin),
        _block("Expected output", result.expected),
        _block("Actual output", result.stdout),
        rx.cond(result.stderr != "", _block("Standard error", result.stderr)),
        rx.cond(
            result.receipt != "",
            rx.el.details(
                rx.el.summary("How it ran", class_name="rt-Text rt-r-size-1"),
                rx.el.pre(result.receipt, class_name="rivendell-output", aria_label="Run receipt"),
            ),
        ),
        spacing="1",
        width="100%",
        padding_left="0.5rem",
    )
    return rx.el.li(
        rx.cond(
            result.detailed & (result.state != "pending"),
            rx.el.details(
                rx.el.summary(head, style={"listStyle": "none", "cursor": "pointer"}),
                details,
            ),
            head,
        ),
        aria_label=result.label + ": " + result.state,
        padding_y="0.2rem",
    )


def _results(state: type[_TestsBase]) -> rx.Component:
    batch = state.batch
    return rx.cond(
        batch.shown,
        rx.vstack(
            rx.hstack(
                rx.cond(batch.active, rx.spinner(size="1")),
                rx.text(
                    batch.score,
                    weight="bold",
                    size="2",
                    color_scheme=rx.cond(
                        batch.active,
                        "blue",
                        rx.cond(batch.passed == batch.total, "grass", "red"),
                    ),
                ),
                rx.text("· ", batch.by, size="1", color_scheme="gray"),
                role="status",
                aria_live="polite",
                aria_label="Test results",
                align="center",
                spacing="2",
            ),
            rx.el.ul(
                rx.foreach(batch.results, _result_row),
                aria_label="Test case results",
                style={"listStyle": "none", "padding": 0, "margin": 0, "width": "100%"},
            ),
            spacing="1",
            width="100%",
        ),
    )


def _case_row(case: rx.Var[CaseView], editable: bool) -> rx.Component:
    return rx.el.li(
        rx.hstack(
            rx.cond(
                case.hidden,
                rx.icon("eye-off", size=12, color="var(--gray-10)"),
                rx.icon("eye", size=12, color="var(--gray-10)"),
            ),
            rx.text(case.label, size="2", class_name="truncate"),
            rx.cond(case.hidden, rx.badge("hidden", size="1", color_scheme="gray")),
            rx.spacer(),
            *(
                [
                    rx.icon_button(
                        rx.icon("pencil", size=12),
                        size="1",
                        variant="ghost",
                        aria_label="Edit " + case.label,
                        on_click=TestsPageState.edit_case(case.id),
                    ),
                    rx.icon_button(
                        rx.icon("trash-2", size=12),
                        size="1",
                        variant="ghost",
                        color_scheme="red",
                        aria_label="Delete " + case.label,
                        on_click=TestsPageState.delete_case(case.id),
                    ),
                ]
                if editable
                else []
            ),
            align="center",
            spacing="2",
            width="100%",
        ),
        rx.cond(
            ~case.hidden | editable,
            rx.el.details(
                rx.el.summary("Input and expected output", class_name="rt-Text rt-r-size-1"),
                _block("Input", case.stdin),
                _block("Expected output", case.expected),
            ),
        ),
        aria_label=case.label,
        padding_y="0.15rem",
    )


def _case_form() -> rx.Component:
    return rx.vstack(
        rx.input(
            value=TestsPageState.draft_name,
            on_change=TestsPageState.set_draft_name,
            placeholder="Name, e.g. “two numbers”",
            aria_label="Test case name",
            max_length=MAX_CASE_NAME_CHARS,
            width="100%",
            size="1",
        ),
        rx.text_area(
            value=TestsPageState.draft_stdin,
            on_change=TestsPageState.set_draft_stdin,
            placeholder="Input (the program's stdin)",
            aria_label="Test case input",
            rows="3",
            width="100%",
            font_family="var(--code-font-family)",
        ),
        rx.text_area(
            value=TestsPageState.draft_expected,
            on_change=TestsPageState.set_draft_expected,
            placeholder="Expected output (stdout)",
            aria_label="Expected output",
            rows="3",
            width="100%",
            font_family="var(--code-font-family)",
        ),
        rx.text(
            "Compared line by line; trailing spaces and final blank lines are ignored.",
            size="1",
            color_scheme="gray",
        ),
        rx.hstack(
            rx.checkbox(
                "Hidden from the candidate",
                checked=TestsPageState.draft_hidden,
                on_change=TestsPageState.set_draft_hidden,
                size="1",
            ),
            rx.spacer(),
            rx.button(
                "Cancel",
                size="1",
                variant="soft",
                color_scheme="gray",
                on_click=TestsPageState.cancel_case,
            ),
            rx.button("Save test case", size="1", on_click=TestsPageState.save_case),
            align="center",
            width="100%",
        ),
        rx.cond(
            TestsPageState.error != "",
            rx.text(TestsPageState.error, size="1", color_scheme="red", role="alert"),
        ),
        spacing="2",
        width="100%",
        padding="0.5rem",
        border="1px dashed var(--gray-a6)",
        border_radius="var(--radius-3)",
    )


def _panel(state: type[_TestsBase], *, editable: bool) -> rx.Component:
    batch = state.batch
    return rx.vstack(
        rx.hstack(
            rx.heading("Test cases ", size="3", as_="h2"),
            rx.text("(", state.cases.length(), ")", size="1", color_scheme="gray"),
            rx.spacer(),
            *(
                [
                    rx.button(
                        rx.icon("plus", size=12),
                        "Add test case",
                        size="1",
                        variant="soft",
                        disabled=(TestsPageState.editing != 0)
                        | (state.cases.length() >= MAX_TEST_CASES),
                        on_click=TestsPageState.new_case,
                    )
                ]
                if editable
                else []
            ),
            rx.button(
                rx.cond(batch.active, rx.spinner(size="1"), rx.icon("list-checks", size=12)),
                "Run tests",
                size="1",
                disabled=batch.active
                | TestsPageState.running
                | RoomState.run.active
                | RoomState.ended
                | (state.cases.length() == 0),
                on_click=TestsPageState.run_all,
            ),
            align="center",
            spacing="2",
            width="100%",
        ),
        *([rx.cond(TestsPageState.editing != 0, _case_form())] if editable else []),
        rx.cond(
            state.cases.length() == 0,
            rx.text(
                "Add inputs and the output they must produce; “Run tests” checks them all."
                if editable
                else "The interviewer has not added test cases yet.",
                size="1",
                color_scheme="gray",
            ),
            rx.el.ul(
                rx.foreach(state.cases, lambda case: _case_row(case, editable)),
                aria_label="Test cases",
                style={"listStyle": "none", "padding": 0, "margin": 0, "width": "100%"},
            ),
        ),
        _results(state),
        spacing="2",
        width="100%",
    )


def tests_panel() -> rx.Component:
    """The test cases under the problem: editable by interviewers, with the latest results."""
    return rx.el.section(
        rx.cond(
            RoomPageState.is_interviewer,
            # An ended interview's cases are kept to read, not to change.
            rx.cond(
                RoomState.ended,
                _panel(InterviewerTestsState, editable=False),
                _panel(InterviewerTestsState, editable=True),
            ),
            _panel(TestsState, editable=False),
        ),
        on_mount=TestsPageState.open_tests,
        role="region",
        aria_label="Test cases",
        width="100%",
    )
