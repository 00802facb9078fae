"""The interview room: problem statement, code editor, output, and who is here.

``RoomState`` is shared by everyone who opened the same interview (an ``rx.SharedState`` linked
to the interview id) and is only ever a projection of the database plus presence: it is rebuilt
from ``crud`` whenever the event bus announces a change. ``RoomPageState`` is private to one
browser and holds who that browser is; every change it asks for is checked by ``crud``.

With the database unreachable the page says so and retries by itself: a room that could not be
opened shows only that notice and opens once the database answers; an open room keeps its editor
(co-editing goes on) under a banner, and catches up with the database when it is back.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import secrets
import weakref
from collections.abc import Callable
from datetime import timedelta

import reflex as rx
from reflex.istate.manager.token import BaseStateToken

from rivendell import crud
from rivendell.components.browser_run import BrowserRunResult, browser_runner
from rivendell.components.editor import PasteInfo, code_editor
from rivendell.components.elapsed import elapsed
from rivendell.components.heartbeat import heartbeat
from rivendell.components.panels import panel, panel_group, resize_handle
from rivendell.components.receipt import format_receipt
from rivendell.components.shortcut import run_shortcut
from rivendell.db import DatabaseUnavailable, outage, session
from rivendell.events import EventType, RoomEvent, bus
from rivendell.executor.base import MAX_INPUT_BYTES, Limits
from rivendell.executor.languages import DEFAULT_LANGUAGE, languages
from rivendell.layout import dead_end, outage_banner, outage_page, page_frame
from rivendell.markdown import MAX_MARKDOWN_CHARS, render_markdown
from rivendell.models import (
    MAX_NAME_CHARS,
    ParticipantCreate,
    Role,
    Run,
    Runner,
    RunStatus,
    TimelineKind,
    first_error_message,
)
from rivendell.pages.room_notes import (
    NotesState,
    interviewer_controls,
    notes_panel,
    pinned_note_marks,
)
from rivendell.presence import get_presence
from rivendell.runs import BROWSER_LANGUAGES, BrowserOutcome, get_room_runner
from rivendell.settings import get_settings
from rivendell.state import IdentityState, read_tokens_from_browser
from rivendell.timeline import export_archive, export_name, read_timeline

__all__ = ["ROUTE", "RoomPageState", "RoomState", "refresh_room", "room_page"]

logger = logging.getLogger(__name__)

ROUTE = "/i/[interview]"
# A paste from outside the editor of at least this many lines goes on the timeline (typed code
# rarely arrives that way; the playback marks it for the interviewer).
PASTE_MIN_LINES = 4


def _ttl() -> timedelta:
    return timedelta(hours=get_settings().interview_ttl_hours)


@dataclasses.dataclass
class ParticipantView:
    """One row of the participants panel."""

    id: int
    name: str
    role: str
    color: str
    online: bool


STATUS_LABELS = {
    RunStatus.RUNNING: "Running…",
    RunStatus.OK: "OK",
    RunStatus.ERROR: "Error",
    RunStatus.COMPILE_ERROR: "Compile error",
    RunStatus.TIMEOUT: "Time limit",
    RunStatus.MEMORY_LIMIT: "Memory limit",
    RunStatus.OUTPUT_LIMIT: "Output limit",
    RunStatus.STOPPED: "Stopped",
    RunStatus.UNAVAILABLE: "Unavailable",
    RunStatus.INTERRUPTED: "Interrupted",
}
_STATUS_COLORS = {RunStatus.OK: "grass", RunStatus.RUNNING: "blue", RunStatus.STOPPED: "gray"}


@dataclasses.dataclass
class RunView:
    """A run as the output panel and the history show it."""

    id: int = 0
    active: bool = False
    by: str = ""
    by_id: int = 0
    in_browser: bool = False
    where: str = ""
    language: str = ""
    status: str = ""
    status_label: str = ""
    status_color: str = "gray"
    stdin: str = ""
    stdout: str = ""
    stderr: str = ""
    summary: str = ""
    started_ms: int = 0
    started_clock: str = ""
    receipt: str = ""


def _run_view(run: Run, by: str) -> RunView:
    language = languages().get(run.language)
    where = "in the browser" if run.runner == Runner.BROWSER else "on the server"
    facts = []
    if run.exit_code is not None:
        facts.append(f"exit code {run.exit_code}")
    if run.duration_ms is not None:
        facts.append(f"{run.duration_ms:,} ms")
    return RunView(
        id=run.id or 0,
        active=run.status == RunStatus.RUNNING,
        by=by,
        by_id=run.participant_id or 0,
        in_browser=run.runner == Runner.BROWSER,
        where=where,
        language=language.name if language else run.language,
        status=run.status.value,
        status_label=STATUS_LABELS[run.status],
        status_color=_STATUS_COLORS.get(run.status, "red"),
        stdin=run.stdin,
        stdout=run.stdout,
        stderr=run.stderr,
        summary=" · ".join(facts),
        started_ms=int(run.started_at.timestamp() * 1000),
        started_clock=run.started_at.strftime("%H:%M:%S UTC"),
        receipt=format_receipt(run.details or {}),
    )


@dataclasses.dataclass
class RoomSnapshot:
    """Everything a room shows, read in one go from the database and presence."""

    interview_id: str
    title: str
    language: str
    problem_markdown: str
    problem_html: str
    code: str
    participants: list[ParticipantView]
    run: RunView
    runs: list[RunView]
    # Ended (or idle past its TTL): read-only for everyone, still open to its interviewers.
    ended: bool = False
    locked: bool = False
    run_disabled: bool = False


def _load_snapshot(interview_id: str, online: set[int]) -> RoomSnapshot | None:
    with session() as db:
        interview = crud.get_interview(db=db, interview_id=interview_id)
        if interview is None:
            return None
        people = crud.list_participants(db=db, interview_id=interview_id)
        runs = [_run_view(run, by) for run, by in crud.list_runs(db=db, interview_id=interview_id)]
    return RoomSnapshot(
        interview_id=interview.id,
        title=interview.title,
        language=interview.language,
        problem_markdown=interview.problem_markdown,
        problem_html=render_markdown(interview.problem_markdown),
        code=interview.code,
        participants=[
            ParticipantView(
                id=p.id or 0, name=p.name, role=p.role.value, color=p.color, online=p.id in online
            )
            for p in people
        ],
        run=runs[0] if runs else RunView(),
        # The history shows no output: the room's state is sent to every browser and kept by
        # Reflex, and twenty runs' 64 KiB streams would make it megabytes.
        runs=[
            dataclasses.replace(view, stdin="", stdout="", stderr="", receipt="") for view in runs
        ],
        ended=crud.is_closed(interview, _ttl()),
        locked=interview.locked,
        run_disabled=interview.run_disabled,
    )


async def load_snapshot(interview_id: str) -> RoomSnapshot | None:
    """The room as stored now (ended too), or ``None`` when the interview is unknown."""
    online = await get_presence().online(interview_id)
    return await asyncio.to_thread(_load_snapshot, interview_id, online)


_SHARED_FIELDS = (
    "interview_id",
    "title",
    "language",
    "problem_markdown",
    "problem_html",
    "participants",
    "run",
    "runs",
    "ended",
    "locked",
    "run_disabled",
)


class RoomState(rx.SharedState):
    """What everyone in one interview sees; linked by interview id."""

    interview_id: str = ""
    title: str = ""
    language: str = DEFAULT_LANGUAGE
    problem_markdown: str = ""
    problem_html: str = ""
    participants: list[ParticipantView] = []
    # The newest run (going on, or the last one to finish) and the recent history.
    run: RunView = RunView()
    runs: list[RunView] = []
    # The interview ended (or expired): read-only for everyone, at once while the room is open.
    ended: bool = False
    # The interviewer's controls: candidates' editors read-only, Run refused to candidates.
    locked: bool = False
    run_disabled: bool = False

    def _apply(self, snapshot: RoomSnapshot) -> None:
        # Only what changed is assigned, so an unchanged field is not sent to every browser again.
        for name in _SHARED_FIELDS:
            value = getattr(snapshot, name)
            if getattr(self, name) != value:
                setattr(self, name, value)

    @rx.var
    def monaco_language(self) -> str:
        """The editor's highlighting mode for the room's language."""
        language = languages().get(self.language)
        return language.monaco if language else "plaintext"

    @rx.var
    def runs_in_browser(self) -> bool:
        """Whether the room's language can run in a participant's browser."""
        return self.language in BROWSER_LANGUAGES

    @rx.var
    def online_count(self) -> int:
        """How many participants are online."""
        return sum(1 for p in self.participants if p.online)

    @rx.event
    async def open_room(self):
        """Link this browser to the interview in the URL (``on_load``)."""
        interview_id = str(await self.get_var_value(rx.State.interview))
        page = await self.get_state(RoomPageState)
        try:
            snapshot = await load_snapshot(interview_id)
        except DatabaseUnavailable:
            page.database_down = page.loaded = True
            return
        page.database_down = False
        page.not_found = snapshot is None
        page.invited_as_interviewer = bool(self.router.url.query_parameters.get("interviewer"))
        page.loaded = True
        if snapshot is None:
            return
        room = await self._link_to(interview_id)
        if room.interview_id != interview_id:
            room._apply(snapshot)
        return read_tokens_from_browser(RoomPageState.restore_identity)


async def refresh_room(app: rx.App, event: RoomEvent) -> None:
    """Event-bus subscriber: bring the room's shared state up to date with the database."""
    token = BaseStateToken(ident=event.interview_id, cls=RoomState)
    if "test_case_id" in event.data and event.type != EventType.EXECUTION_STARTED:
        # A test case's outcome or edit: the room's own view does not show them. (A batch's
        # start still refreshes: it may have cut off a stale run the room shows as running.)
        return
    # One refresh of a room at a time: snapshots of the same room read concurrently could be
    # applied out of order, an older one (a joiner not online yet) last.
    lock = _refreshing.get(event.interview_id)
    if lock is None:
        lock = _refreshing[event.interview_id] = asyncio.Lock()
    async with lock:
        try:
            snapshot = await load_snapshot(event.interview_id)
        except DatabaseUnavailable:
            return  # logged once by rivendell.db; the pages catch up when it is back
        if snapshot is None:
            if event.type == EventType.SESSION_ENDED:
                async with app.modify_state(token) as root:
                    (await root.get_state(RoomState)).ended = True
            return
        async with app.modify_state(token) as root:
            room = await root.get_state(RoomState)
            room._apply(snapshot)


# Held only while a refresh of that room runs or waits: a room nobody refreshes has no entry.
_refreshing: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()


def _language_items() -> list[list[str]]:
    return [[lang.id, lang.name] for lang in languages().values()]


class RoomPageState(rx.State):
    """One browser's view of the room: who it is and what it is editing."""

    loaded: bool = False
    not_found: bool = False
    # The database could not be reached: the page says so and retries (retry_database).
    database_down: bool = False
    participant_id: int = 0
    role: str = ""
    my_name: str = ""
    my_color: str = ""
    # This browser's own bearer token (it holds it in local storage anyway): the editor presents
    # it to the collaboration socket.
    seat_token: str = ""
    join_error: str = ""
    # The URL is an interviewer link (`?interviewer=<key>`); the key itself stays in the URL.
    invited_as_interviewer: bool = False
    editing_problem: bool = False
    problem_draft: str = ""
    problem_error: str = ""
    stdin: str = ""
    # What this browser's runner is asked to do (rivendell.components.browser_run), as JSON.
    browser_request: str = ""
    _interview_id: str = ""

    @rx.var
    def joined(self) -> bool:
        """Whether this browser has a seat in the room."""
        return self.participant_id > 0

    @rx.var
    def is_interviewer(self) -> bool:
        """Whether this browser may edit the problem statement (the server checks again)."""
        return self.role == Role.INTERVIEWER.value

    @rx.var
    def draft_html(self) -> str:
        """The live preview of the problem statement being edited."""
        try:
            return render_markdown(self.problem_draft)
        except ValueError as error:
            return f"<p><em>{error}</em></p>"

    @rx.var
    def draft_chars(self) -> int:
        """How long the draft is, for the counter under it."""
        return len(self.problem_draft)

    async def _seat(self, interview_id: str, token: str) -> bool:
        def lookup() -> tuple[int, str, str, str] | None:
            with session() as db:
                participant = crud.participant_for_token(
                    db=db, interview_id=interview_id, token=token
                )
                if participant is None or participant.id is None:
                    return None
                return participant.id, participant.role.value, participant.name, participant.color

        seat = await asyncio.to_thread(lookup)
        if seat is None:
            return False
        self.participant_id, self.role, self.my_name, self.my_color = seat
        self.seat_token = token
        self._interview_id = interview_id
        return True

    @rx.event
    async def restore_identity(self, stored: str):
        """Take the seat this browser holds, if any (``stored``: its local storage's tokens)."""
        room = await self.get_state(RoomState)
        identity = await self.get_state(IdentityState)
        identity.adopt(stored)
        interview_id = room.interview_id
        self.editing_problem = False
        self.participant_id, self.role, self.my_name, self.seat_token = 0, "", "", ""
        token = identity.token_for(interview_id)
        try:
            if token and not await self._seat(interview_id, token):
                identity.forget(interview_id)
        except DatabaseUnavailable:
            self.database_down = True  # retry_database seats it once the database is back
            return
        if self.joined:
            return [RoomPageState.heartbeat, NotesState.open]
        return NotesState.open

    @rx.event
    async def retry_database(self):
        """While the database is unreachable (every 2 s): once it is back, catch the room up."""
        if outage() is not None:
            return
        room = await self.get_state(RoomState)
        if not room.interview_id:
            return RoomState.open_room  # it never opened
        try:
            snapshot = await load_snapshot(room.interview_id)
        except DatabaseUnavailable:
            return
        self.database_down = False
        if snapshot is None:
            self.not_found = True
            return
        # Changes announced while it was down could not be read: the room may be behind.
        room._apply(snapshot)
        if not self.joined:
            return read_tokens_from_browser(RoomPageState.restore_identity)

    @rx.event
    async def join(self, form_data: dict[str, str]):
        """Take a candidate's seat under the name typed."""
        room = await self.get_state(RoomState)
        try:
            data = ParticipantCreate(name=str(form_data.get("name", ""))[: MAX_NAME_CHARS * 8])
        except ValueError as error:
            self.join_error = first_error_message(error)
            return
        key = self.router.url.query_parameters.get("interviewer", "")[:256]

        def write() -> tuple[int, str] | None:
            with session() as db:
                interview = crud.get_live_interview(
                    db=db, interview_id=room.interview_id, ttl=_ttl()
                )
                if interview is None:
                    return None
                participant, token = crud.join_interview(
                    db=db, interview=interview, data=data, interviewer_key=key
                )
                return participant.id or 0, token

        try:
            joined = await asyncio.to_thread(write)
        except crud.Forbidden as error:
            self.join_error = str(error)
            return
        except DatabaseUnavailable:
            self.database_down = True
            self.join_error = "The database is unreachable: join again in a moment."
            return
        if joined is None:
            self.not_found = True
            return
        participant_id, token = joined
        identity = await self.get_state(IdentityState)
        identity.remember(room.interview_id, token)
        self.join_error = ""
        await self._seat(room.interview_id, token)
        bus.publish(RoomEvent(room.interview_id, EventType.USER_JOINED, {"id": participant_id}))
        return [RoomPageState.heartbeat, NotesState.open]

    @rx.event
    def start_editing_problem(self, current: str):
        """Open the problem editor on the current statement."""
        if not self.loaded:
            return  # this page's state was lost (see rivendell.state) and is being rebuilt
        if not self.is_interviewer:
            return rx.toast.error("Only the interviewer can edit the problem statement.")
        self.problem_draft = current
        self.problem_error = ""
        self.editing_problem = True

    @rx.event
    def cancel_editing_problem(self):
        """Close the problem editor without saving."""
        self.editing_problem = False
        self.problem_error = ""

    @rx.event
    def set_problem_draft(self, value: str):
        """Keep the draft (and so its preview) as the interviewer types."""
        self.problem_draft = value[: MAX_MARKDOWN_CHARS + 1]

    async def _update(self, update: Callable[..., object], **values: str) -> None:
        """Run a ``crud`` update as this browser's participant, off the event loop."""
        interview_id, token, ttl = self._interview_id, self.seat_token, _ttl()

        def write() -> None:
            with session() as db:
                update(db=db, interview_id=interview_id, token=token, ttl=ttl, **values)

        await asyncio.to_thread(write)

    @rx.event
    async def save_problem(self):
        """Store the draft as the problem statement; the server refuses all but interviewers."""
        try:
            await self._update(crud.update_problem, markdown=self.problem_draft)
        except crud.Forbidden as error:
            return rx.toast.error(str(error))
        except (crud.NotFound, crud.Invalid) as error:
            self.problem_error = str(error)
            return
        except DatabaseUnavailable:
            self.database_down = True
            self.problem_error = "The database is unreachable: not saved yet. Save again soon."
            return
        self.editing_problem = False
        self.problem_error = ""
        bus.publish(RoomEvent(self._interview_id, EventType.PROBLEM_UPDATED))
        return rx.toast.success("Problem saved")

    @rx.event
    async def change_language(self, language: str):
        """Switch the room's language for everyone."""
        try:
            await self._update(crud.update_language, language=language)
        except crud.Error as error:
            return rx.toast.error(str(error))
        bus.publish(
            RoomEvent(self._interview_id, EventType.LANGUAGE_CHANGED, {"language": language})
        )

    @rx.event
    def set_stdin(self, value: str):
        """Keep the program input typed in the output panel (this browser's own)."""
        self.stdin = value[: MAX_INPUT_BYTES + 1]

    @rx.event(background=True)
    async def run_code(self):
        """Run the room's code in a sandbox; everyone in the room sees it run and its output."""
        async with self:
            if not self.joined:
                return
            interview_id, token, stdin = self._interview_id, self.seat_token, self.stdin
            client = self.router.session.client_ip or None
        try:
            await get_room_runner().run_on_server(
                interview_id=interview_id, token=token, stdin=stdin, client=client
            )
        except crud.Error as error:
            return rx.toast.error(str(error))

    @rx.event
    async def run_in_browser(self):
        """Run the room's code in this browser (Python, JavaScript); the room sees it run."""
        if not self.joined:
            return
        try:
            run = await get_room_runner().start_in_browser(
                interview_id=self._interview_id,
                token=self.seat_token,
                stdin=self.stdin,
                client=self.router.session.client_ip or None,
            )
        except crud.Error as error:
            return rx.toast.error(str(error))
        limits = Limits()
        self.browser_request = json.dumps(
            {
                "id": f"run-{run.id}",
                "action": "run",
                "language": run.language,
                "room": self._interview_id,
                "stdin": self.stdin,
                "timeout_ms": int(limits.wall_seconds * 1000),
                "output_limit_bytes": limits.output_bytes,
            }
        )

    @rx.event
    def stop_browser_run(self):
        """End this browser's run (it then reports itself stopped)."""
        self.browser_request = json.dumps({"id": secrets.token_hex(8), "action": "stop"})

    @rx.event
    async def browser_run_finished(self, result: BrowserRunResult):
        """Record what this browser's run did; the whole room sees its output."""
        try:
            run_id = int(str(result.get("id", "")).removeprefix("run-"))
            exit_code = result.get("exit_code")
            outcome = BrowserOutcome(
                status=str(result.get("status", "error")),
                stdout=str(result.get("stdout", "")),
                stderr=str(result.get("stderr", "")),
                exit_code=int(exit_code) if exit_code is not None else None,
                duration_ms=int(result.get("duration_ms", 0)),
                runtime=str(result.get("runtime", "")),
            )
        except (TypeError, ValueError):
            logger.warning("room %s: a malformed browser run result", self._interview_id)
            return
        try:
            await get_room_runner().finish_in_browser(
                interview_id=self._interview_id,
                token=self.seat_token,
                run_id=run_id,
                outcome=outcome,
            )
        except crud.Error as error:
            return rx.toast.error(str(error))

    @rx.event
    async def export_interview(self):
        """Download the whole interview as one archive (its interviewers only)."""
        if not self.is_interviewer:
            return None
        try:
            document = await read_timeline(self._interview_id, self.seat_token)
        except crud.Error as error:
            return rx.toast.error(str(error))
        archive = await asyncio.to_thread(export_archive, document)
        return rx.download(data=archive, filename=export_name(document))

    @rx.event
    async def record_paste(self, paste: PasteInfo):
        """The editor saw a paste from outside it: a large one goes on the timeline."""
        lines, chars = paste.get("lines"), paste.get("chars")
        if not self.joined or not isinstance(lines, int) or not isinstance(chars, int):
            return
        if lines < PASTE_MIN_LINES:
            return
        seat = (self._interview_id, self.participant_id)

        def write() -> None:
            with session() as db:
                crud.record_event(
                    db=db,
                    interview_id=seat[0],
                    kind=TimelineKind.PASTE,
                    participant_id=seat[1],
                    data={"lines": lines, "chars": max(0, chars)},
                )

        try:
            await asyncio.to_thread(write)
        except DatabaseUnavailable:
            return  # the paste itself is in the document; only its marker is lost

    @rx.event
    async def heartbeat(self):
        """This page is still open: keep its participant online."""
        if not self.participant_id:
            return
        if outage() is not None:
            self.database_down = True  # the banner's retry_database clears it
        seat = (self._interview_id, self.participant_id)
        client = self.router.session.client_token
        if await get_presence().beat(client=client, seat=seat):
            bus.publish(RoomEvent(seat[0], EventType.USER_JOINED, {"id": seat[1]}))


def _participant_row(person: rx.Var[ParticipantView]) -> rx.Component:
    status = rx.cond(person.online, "online", "offline")
    return rx.el.li(
        rx.hstack(
            rx.box(
                width="0.75rem",
                height="0.75rem",
                border_radius="50%",
                background_color=person.color,
                opacity=rx.cond(person.online, "1", "0.35"),
                flex_shrink="0",
                aria_hidden="true",
            ),
            rx.text(person.name, weight="medium", trim="both", class_name="truncate"),
            rx.cond(
                person.id == RoomPageState.participant_id,
                rx.text("(you)", size="1", color_scheme="gray"),
            ),
            rx.spacer(),
            rx.badge(
                person.role,
                color_scheme=rx.cond(person.role == "interviewer", "iris", "gray"),
                variant="soft",
                size="1",
            ),
            rx.text(status, size="1", color_scheme=rx.cond(person.online, "grass", "gray")),
            align="center",
            spacing="2",
            width="100%",
        ),
        aria_label=person.name + ", " + person.role + ", " + status,
        padding_y="0.25rem",
    )


def participants_panel() -> rx.Component:
    """Who joined, their role and colour, and who is online."""
    return rx.vstack(
        rx.heading(
            "Participants ",
            rx.text.span(
                "(", RoomState.online_count, " online)", color_scheme="gray", weight="regular"
            ),
            size="3",
            as_="h2",
        ),
        rx.el.ul(
            rx.foreach(RoomState.participants, _participant_row),
            aria_label="Participants",
            role="list",
            style={"listStyle": "none", "padding": 0, "margin": 0, "width": "100%"},
        ),
        spacing="2",
        width="100%",
    )


def _markdown_view(html: rx.Var[str]) -> rx.Component:
    return rx.box(rx.html(html), class_name="rivendell-markdown", width="100%")


def problem_panel() -> rx.Component:
    """The problem statement: read by everyone, edited by the interviewer with a live preview."""
    viewer = rx.vstack(
        rx.hstack(
            rx.heading("Problem", size="4", as_="h2"),
            rx.spacer(),
            rx.cond(
                RoomPageState.is_interviewer & ~RoomState.ended,
                rx.button(
                    rx.icon("pencil", size=14),
                    "Edit problem",
                    variant="soft",
                    size="1",
                    on_click=RoomPageState.start_editing_problem(RoomState.problem_markdown),
                ),
            ),
            width="100%",
            align="center",
        ),
        rx.cond(
            RoomState.problem_markdown == "",
            rx.text(
                rx.cond(
                    RoomPageState.is_interviewer,
                    "No problem statement yet. Use “Edit problem” to write one in Markdown.",
                    "The interviewer has not written a problem statement yet.",
                ),
                color_scheme="gray",
                size="2",
            ),
            _markdown_view(RoomState.problem_html),
        ),
        spacing="3",
        width="100%",
    )
    editor = rx.vstack(
        rx.hstack(
            rx.heading("Problem", size="4", as_="h2"),
            rx.spacer(),
            rx.button(
                "Cancel",
                variant="soft",
                color_scheme="gray",
                size="1",
                on_click=RoomPageState.cancel_editing_problem,
            ),
            rx.button("Save problem", size="1", on_click=RoomPageState.save_problem),
            width="100%",
            align="center",
        ),
        rx.text_area(
            value=RoomPageState.problem_draft,
            on_change=RoomPageState.set_problem_draft,
            placeholder="Write the problem in Markdown…",
            aria_label="Problem statement",
            max_length=MAX_MARKDOWN_CHARS,
            rows="12",
            resize="vertical",
            width="100%",
            font_family="var(--code-font-family)",
        ),
        rx.hstack(
            rx.text(
                RoomPageState.draft_chars,
                f" / {MAX_MARKDOWN_CHARS:,} characters",
                size="1",
                color_scheme="gray",
            ),
            rx.cond(
                RoomPageState.problem_error != "",
                rx.text(RoomPageState.problem_error, size="1", color_scheme="red", role="alert"),
            ),
            spacing="3",
        ),
        rx.text("Preview", size="1", weight="bold", color_scheme="gray"),
        rx.box(
            _markdown_view(RoomPageState.draft_html),
            border="1px dashed var(--gray-a6)",
            border_radius="var(--radius-3)",
            padding="0.75rem",
            width="100%",
        ),
        spacing="2",
        width="100%",
    )
    # room_tests builds on this module's states: imported when the page is built.
    from rivendell.pages.room_tests import tests_panel

    return rx.el.section(
        rx.cond(
            RoomPageState.editing_problem & RoomPageState.is_interviewer & ~RoomState.ended,
            editor,
            viewer,
        ),
        rx.divider(margin_y="1rem"),
        tests_panel(),
        rx.divider(margin_y="1rem"),
        participants_panel(),
        rx.cond(
            RoomPageState.is_interviewer,
            rx.fragment(
                rx.divider(margin_y="1rem"),
                notes_panel(room=RoomState.interview_id, ended=RoomState.ended),
            ),
        ),
        role="region",
        aria_label="Problem",
        class_name="rivendell-pane",
    )


def _editor_notice() -> rx.Component:
    # That the editor is locked for candidates (the server drops their changes too). An ended
    # room says so in its banner instead (ended_banner).
    locked_out = RoomState.locked & ~RoomPageState.is_interviewer
    text = rx.cond(
        locked_out,
        "Editor locked by the interviewer",
        "Editor locked for candidates: only interviewers can type.",
    )
    return rx.cond(
        RoomState.locked & ~RoomState.ended,
        rx.hstack(
            rx.icon("lock", size=14),
            rx.text(text, size="1", weight="medium"),
            role="status",
            aria_label="Editor status",
            align="center",
            spacing="2",
            padding_x="0.75rem",
            padding_y="0.25rem",
            background=rx.cond(locked_out, "var(--amber-a3)", "var(--gray-a3)"),
            color=rx.cond(locked_out, "var(--amber-11)", "var(--gray-11)"),
            width="100%",
        ),
    )


def editor_panel() -> rx.Component:
    """The room's shared code in Monaco: co-edited over Yjs, highlighted for the room's language."""
    return rx.flex(
        _editor_notice(),
        rx.box(
            code_editor(
                collab_room=RoomState.interview_id,
                collab_token=RoomPageState.seat_token,
                user_name=RoomPageState.my_name,
                user_color=RoomPageState.my_color,
                language=RoomState.monaco_language,
                read_only=~RoomPageState.joined
                | RoomState.ended
                | (RoomState.locked & ~RoomPageState.is_interviewer),
                on_paste=RoomPageState.record_paste,
            ),
            flex="1",
            min_height="0",
            width="100%",
        ),
        rx.cond(RoomPageState.is_interviewer, pinned_note_marks(room=RoomState.interview_id)),
        direction="column",
        height="100%",
        width="100%",
    )


def _run_status_line(run: rx.Var[RunView]) -> rx.Component:
    return rx.hstack(
        rx.cond(
            run.active,
            rx.hstack(
                rx.spinner(size="1"),
                rx.text("Running… ", weight="medium"),
                rx.text(run.by, " · ", run.language, " · ", run.where, color_scheme="gray"),
                rx.text(" · ", color_scheme="gray"),
                elapsed(since_ms=run.started_ms),
                spacing="1",
                align="center",
            ),
            rx.hstack(
                rx.badge(run.status_label, color_scheme=run.status_color, variant="soft"),
                rx.text(run.summary, color_scheme="gray"),
                rx.text("·", color_scheme="gray"),
                rx.text(run.by, " · ", run.language, " · ", run.where, color_scheme="gray"),
                spacing="2",
                align="center",
                wrap="wrap",
            ),
        ),
        role="status",
        aria_live="polite",
        aria_label="Run status",
        size="1",
        font_size="var(--font-size-1)",
        width="100%",
    )


def _stream(text: rx.Var[str], label: str, color: str) -> rx.Component:
    return rx.cond(
        text != "",
        rx.el.pre(
            text,
            aria_label=label,
            class_name="rivendell-output",
            style={"color": color},
        ),
    )


def _run_output(run: rx.Var[RunView]) -> rx.Component:
    return rx.vstack(
        _run_status_line(run),
        _stream(run.stdout, "Standard output", "var(--gray-12)"),
        _stream(run.stderr, "Standard error", "var(--red-11)"),
        rx.cond(
            ~run.active & (run.stdout == "") & (run.stderr == ""),
            rx.text("(no output)", size="1", color_scheme="gray"),
        ),
        rx.cond(
            run.stdin != "",
            rx.el.details(
                rx.el.summary("Program input it read", class_name="rt-Text rt-r-size-1"),
                rx.el.pre(run.stdin, class_name="rivendell-output", aria_label="Run input"),
            ),
        ),
        rx.cond(
            run.receipt != "",
            rx.el.details(
                rx.el.summary("How it ran", class_name="rt-Text rt-r-size-1"),
                rx.el.pre(run.receipt, class_name="rivendell-output", aria_label="Run receipt"),
            ),
        ),
        spacing="2",
        width="100%",
    )


def _history_row(run: rx.Var[RunView]) -> rx.Component:
    return rx.el.li(
        rx.hstack(
            rx.text(run.started_clock, color_scheme="gray"),
            rx.text(run.by, weight="medium"),
            rx.text(run.language),
            rx.badge(run.status_label, color_scheme=run.status_color, variant="soft", size="1"),
            rx.text(run.summary, color_scheme="gray"),
            spacing="2",
            align="center",
            wrap="wrap",
        ),
        font_size="var(--font-size-1)",
    )


def _run_history() -> rx.Component:
    return rx.el.details(
        rx.el.summary(
            "Run history (", RoomState.runs.length(), ")", class_name="rt-Text rt-r-size-1"
        ),
        rx.el.ul(
            rx.foreach(RoomState.runs, _history_row),
            aria_label="Run history",
            style={"listStyle": "none", "padding": 0, "margin": 0},
        ),
    )


def _run_refusal() -> rx.Var[str]:
    # Why this browser may not run the code now ("" when it may); crud refuses it anyway.
    return rx.cond(
        RoomState.ended,
        "The interview has ended",
        rx.cond(
            RoomState.run_disabled & ~RoomPageState.is_interviewer,
            "Run is disabled by the interviewer",
            "",
        ),
    )


def output_panel() -> rx.Component:
    """Run, the program's input, and the output every participant sees."""
    run = RoomState.run
    refused = _run_refusal() != ""
    return rx.el.section(
        rx.hstack(
            rx.heading("Output", size="3", as_="h2"),
            rx.spacer(),
            rx.cond(
                refused,
                rx.text(_run_refusal(), size="1", color_scheme="amber", role="status"),
            ),
            rx.cond(
                run.active & run.in_browser & (run.by_id == RoomPageState.participant_id),
                rx.button(
                    rx.icon("square", size=12),
                    "Stop",
                    size="1",
                    color_scheme="red",
                    variant="soft",
                    on_click=RoomPageState.stop_browser_run,
                ),
            ),
            rx.cond(
                RoomState.runs_in_browser,
                rx.tooltip(
                    rx.button(
                        rx.icon("globe", size=14),
                        "Run in browser",
                        size="1",
                        variant="soft",
                        disabled=run.active | ~RoomPageState.joined | refused,
                        on_click=RoomPageState.run_in_browser,
                    ),
                    content="Run in your own browser (Pyodide or a Web Worker); everyone sees "
                    "the output",
                ),
            ),
            rx.tooltip(
                rx.button(
                    rx.cond(run.active, rx.spinner(size="1"), rx.icon("play", size=14)),
                    "Run",
                    size="1",
                    disabled=run.active | ~RoomPageState.joined | refused,
                    on_click=RoomPageState.run_code,
                ),
                content="Run on the server (Ctrl+Enter or ⌘+Enter)",
            ),
            spacing="2",
            width="100%",
            align="center",
        ),
        rx.flex(
            rx.box(
                rx.cond(
                    run.id > 0,
                    _run_output(run),
                    rx.text(
                        "Press Run (Ctrl+Enter) to run the code: everyone in the room sees the "
                        "output here.",
                        color_scheme="gray",
                        size="2",
                    ),
                ),
                _run_history(),
                flex="2",
                min_width="0",
            ),
            rx.box(
                rx.text_area(
                    value=RoomPageState.stdin,
                    on_change=RoomPageState.set_stdin,
                    placeholder="Program input (stdin)",
                    aria_label="Program input",
                    max_length=MAX_INPUT_BYTES,
                    rows="4",
                    resize="vertical",
                    width="100%",
                    font_family="var(--code-font-family)",
                ),
                flex="1",
                min_width="10rem",
            ),
            gap="1rem",
            width="100%",
            wrap="wrap",
        ),
        run_shortcut(enabled=RoomPageState.joined & ~run.active, on_press=RoomPageState.run_code),
        browser_runner(
            request=RoomPageState.browser_request, on_result=RoomPageState.browser_run_finished
        ),
        role="region",
        aria_label="Output",
        class_name="rivendell-pane",
    )


def _language_picker() -> rx.Component:
    return rx.select.root(
        rx.select.trigger(aria_label="Language", variant="soft", min_width="9rem"),
        rx.select.content(
            *[rx.select.item(name, value=lang_id) for lang_id, name in _language_items()]
        ),
        value=RoomState.language,
        on_change=RoomPageState.change_language,
        disabled=~RoomPageState.joined | RoomState.ended,
        size="2",
    )


def _copy_link_button() -> rx.Component:
    return rx.button(
        rx.icon("link", size=14),
        "Copy link",
        variant="surface",
        size="2",
        on_click=[
            rx.call_script(
                "navigator.clipboard.writeText(window.location.origin + window.location.pathname)"
            ),
            rx.toast.success("Link copied — share it with your candidate."),
        ],
    )


def _export_button() -> rx.Component:
    return rx.cond(
        RoomPageState.is_interviewer,
        rx.tooltip(
            rx.button(
                rx.icon("download", size=14),
                "Export",
                variant="surface",
                size="2",
                on_click=RoomPageState.export_interview,
            ),
            content="Download the interview: code, problem, notes, runs and its timeline",
        ),
    )


def _playback_link() -> rx.Component:
    return rx.cond(
        RoomPageState.is_interviewer,
        rx.link(
            rx.button(rx.icon("history", size=14), "Playback", variant="surface", size="2"),
            href="/i/" + RoomState.interview_id + "/playback",
            target="_blank",
        ),
    )


def _interviewer_bar() -> rx.Component:
    # A row of its own: the interviewer's tools beside the shared ones crowded a laptop's width
    # until labels wrapped and the title was cut to a few letters.
    return rx.cond(
        RoomPageState.is_interviewer,
        rx.hstack(
            rx.text("Interviewer", size="1", weight="medium", color_scheme="gray"),
            rx.cond(
                # Nothing to control once it ended: the room is read-only for good.
                ~RoomState.ended,
                interviewer_controls(locked=RoomState.locked, run_disabled=RoomState.run_disabled),
            ),
            rx.spacer(),
            _export_button(),
            _playback_link(),
            role="toolbar",
            aria_label="Interviewer tools",
            align="center",
            spacing="3",
            width="100%",
            padding_x="1rem",
            padding_y="0.375rem",
            background="var(--gray-a2)",
            border_bottom="1px solid var(--gray-a5)",
        ),
    )


def room_toolbar() -> rx.Component:
    """The room's title and the controls everyone shares; under it, the interviewer's tools."""
    return rx.vstack(
        rx.hstack(
            rx.heading(RoomState.title, size="4", as_="h1", class_name="truncate"),
            rx.spacer(),
            _language_picker(),
            _copy_link_button(),
            align="center",
            spacing="3",
            width="100%",
            padding_x="1rem",
            padding_y="0.5rem",
            border_bottom="1px solid var(--gray-a5)",
        ),
        _interviewer_bar(),
        spacing="0",
        width="100%",
    )


def join_form() -> rx.Component:
    """What someone opening a shared link sees before taking a seat."""
    return rx.center(
        rx.card(
            rx.form(
                rx.vstack(
                    rx.text(
                        rx.cond(
                            RoomPageState.invited_as_interviewer,
                            "You are invited as an interviewer to",
                            "You are invited to",
                        ),
                        size="2",
                        color_scheme="gray",
                    ),
                    rx.heading(RoomState.title, size="6", as_="h1"),
                    rx.cond(
                        RoomState.participants.length() > 0,
                        rx.text(
                            "Already here: ",
                            rx.foreach(
                                RoomState.participants,
                                lambda p, i: rx.text.span(rx.cond(i > 0, ", ", ""), p.name),
                            ),
                            size="2",
                        ),
                    ),
                    rx.el.label(
                        "Your name", html_for="join-name", class_name="rt-Text rt-r-size-2"
                    ),
                    rx.input(
                        id="join-name",
                        name="name",
                        placeholder="e.g. Sam Lee",
                        aria_label="Your name",
                        max_length=MAX_NAME_CHARS,
                        auto_focus=True,
                        required=True,
                        width="100%",
                    ),
                    rx.cond(
                        RoomPageState.join_error != "",
                        rx.text(
                            RoomPageState.join_error, color_scheme="red", size="2", role="alert"
                        ),
                    ),
                    rx.button("Join interview", type="submit", width="100%"),
                    spacing="3",
                    width="100%",
                ),
                on_submit=RoomPageState.join,
                reset_on_submit=False,
            ),
            width="min(28rem, 92vw)",
            size="3",
        ),
        height="100%",
        padding="2rem",
    )


def not_found_view() -> rx.Component:
    """An unknown or expired interview."""
    return dead_end(
        "Interview not found",
        "This link does not match any open interview. It may have expired or been ended.",
    )


def ended_view() -> rx.Component:
    """The room after its interview ended (by its interviewer, the admin or the cleanup)."""
    return dead_end(
        "Interview ended",
        "This interview has ended: nothing in it can change any more. Thank you for taking part.",
        # Its interviewers get the read-only room instead (ended_banner); this shows them the
        # playback too in the moment before the page knows who they are.
        rx.cond(
            RoomPageState.is_interviewer,
            rx.link("Watch the playback", href="/i/" + RoomState.interview_id + "/playback"),
        ),
    )


def ended_banner() -> rx.Component:
    """What an interviewer sees above an ended room: it is read-only, and its playback."""
    return rx.hstack(
        rx.icon("circle-check", size=16),
        rx.heading("Interview ended", size="2", as_="h2"),
        rx.text("This interview has ended: the room is read-only.", size="2"),
        rx.link(
            rx.icon("circle-play", size=14),
            "Watch the playback",
            href="/i/" + RoomState.interview_id + "/playback",
            size="2",
            display="inline-flex",
            align_items="center",
            gap="0.25rem",
        ),
        role="status",
        aria_label="Interview ended",
        align="center",
        spacing="3",
        width="100%",
        padding_x="1rem",
        padding_y="0.4rem",
        background="var(--amber-a3)",
    )


def room_view() -> rx.Component:
    """The room once this browser has a seat."""
    return rx.vstack(
        room_toolbar(),
        rx.cond(RoomState.ended, ended_banner()),
        rx.box(
            panel_group(
                panel(problem_panel(), default_size=32, min_size=15),
                resize_handle(),
                panel(
                    panel_group(
                        panel(editor_panel(), default_size=70, min_size=20),
                        resize_handle(),
                        panel(output_panel(), default_size=30, min_size=10),
                        direction="vertical",
                    ),
                    default_size=68,
                    min_size=30,
                ),
                direction="horizontal",
            ),
            flex="1",
            min_height="0",
            width="100%",
        ),
        heartbeat(
            interval_ms=get_settings().heartbeat_interval_ms, on_beat=RoomPageState.heartbeat
        ),
        spacing="0",
        height="100%",
        width="100%",
    )


def unavailable_view() -> rx.Component:
    """The room could not be opened: the database is unreachable (it retries by itself)."""
    return outage_page(
        RoomPageState.retry_database,
        "This interview opens by itself as soon as the database answers again.",
    )


@page_frame
def room_page() -> rx.Component:
    """``/i/<id>``: the room, the join form, “not found”, or “database unreachable”."""
    never_opened = RoomState.interview_id == ""
    return rx.flex(
        rx.cond(
            RoomPageState.database_down & ~never_opened,
            outage_banner(
                RoomPageState.retry_database,
                "You can keep typing in the editor; nothing else is saved until it is back.",
            ),
        ),
        rx.box(
            rx.cond(
                ~RoomPageState.loaded,
                rx.center(rx.spinner(size="3"), height="100%"),
                rx.cond(
                    # Interviewers keep an ended room (read-only) and its playback link.
                    RoomState.ended & ~RoomPageState.is_interviewer,
                    ended_view(),
                    rx.cond(
                        RoomPageState.not_found,
                        not_found_view(),
                        rx.cond(
                            RoomPageState.database_down & never_opened,
                            unavailable_view(),
                            rx.cond(RoomPageState.joined, room_view(), join_form()),
                        ),
                    ),
                ),
            ),
            flex="1",
            min_height="0",
            width="100%",
        ),
        direction="column",
        height="100%",
        width="100%",
    )
