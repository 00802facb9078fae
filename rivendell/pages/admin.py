"""``/admin``: the operator's page. Lists interviews, opens one read-only, ends or deletes them,
and shows what the last automatic cleanup did.

It is reached with the admin token (``RIVENDELL_ADMIN_TOKEN``, or in development the one in
``data/admin-token``); ``crud`` checks that token on every action, so a participant's token or a
forged event gets nothing. The token is kept in this tab's backend state only. While the database
is unreachable the console says so and reloads the list by itself once it is back.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from datetime import datetime

import reflex as rx

from rivendell import crud
from rivendell.db import DatabaseUnavailable, outage, session
from rivendell.events import EventType, RoomEvent, bus
from rivendell.layout import outage_banner, page_frame
from rivendell.markdown import render_markdown
from rivendell.models import InterviewSummary
from rivendell.presence import get_presence
from rivendell.settings import get_admin_token

__all__ = ["ROUTE", "AdminState", "admin_page"]

ROUTE = "/admin"
PAGE_SIZE = 100


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else ""


def _size(size: int) -> str:
    return f"{size / 1024:.1f} KiB" if size >= 1024 else f"{size} B"


@dataclasses.dataclass
class AdminRow:
    """One interview in the list."""

    id: str = ""
    title: str = ""
    language: str = ""
    created: str = ""
    last_activity: str = ""
    status: str = ""
    participants: int = 0
    online: int = 0
    runs: int = 0
    size: str = ""


@dataclasses.dataclass
class AdminDetail:
    """One interview opened read-only."""

    id: str = ""
    title: str = ""
    status: str = ""
    problem_html: str = ""
    code: str = ""
    language: str = "python"
    people: list[str] = dataclasses.field(default_factory=list)
    runs: list[str] = dataclasses.field(default_factory=list)


class AdminState(rx.State):
    """One admin tab: its token (backend only), the list, the filters and the opened one."""

    signed_in: bool = False
    sign_in_error: str = ""
    status_filter: str = "all"
    search: str = ""
    rows: list[AdminRow] = []
    total: int = 0
    selected: list[str] = []
    detail: AdminDetail = AdminDetail()
    last_cleanup: str = "No cleanup has run yet."
    notice: str = ""
    database_down: bool = False
    _token: str = ""

    @rx.event
    async def open(self):
        """Refresh the list when the page (re)opens in a signed-in tab."""
        if self.signed_in:
            await self._load()

    @rx.event
    async def sign_in(self, form_data: dict[str, str]):
        """Check the admin token typed; participants' tokens are refused like any other."""
        token = str(form_data.get("token", "")).strip()
        if not crud.is_admin(token=token, admin_token=get_admin_token()):
            self.sign_in_error = "That is not the admin token."
            return
        self._token, self.signed_in, self.sign_in_error = token, True, ""
        await self._load()

    @rx.event
    def sign_out(self):
        """Forget the token in this tab."""
        self._token, self.signed_in, self.rows, self.selected = "", False, [], []
        self.detail = AdminDetail()

    @rx.event
    async def set_status_filter(self, value: str):
        """Show all, active or ended interviews."""
        self.status_filter = value if value in ("all", "active", "ended") else "all"
        await self._load()

    @rx.event
    async def apply_search(self, form_data: dict[str, str]):
        """Filter by part of a title or an id."""
        self.search = str(form_data.get("search", ""))[:120]
        await self._load()

    @rx.event
    async def refresh(self):
        """Read the list again."""
        await self._load()

    @rx.event
    def toggle(self, interview_id: str):
        """Select or unselect one interview for the bulk actions."""
        if interview_id in self.selected:
            self.selected = [i for i in self.selected if i != interview_id]
        else:
            self.selected = [*self.selected, interview_id]

    @rx.event
    async def end(self, interview_id: str):
        """End one interview."""
        await self._end([interview_id])

    @rx.event
    async def delete(self, interview_id: str):
        """Delete one interview and everything in it."""
        await self._delete([interview_id])

    @rx.event
    async def end_selected(self):
        """End every selected interview."""
        await self._end(list(self.selected))

    @rx.event
    async def delete_selected(self):
        """Delete every selected interview."""
        await self._delete(list(self.selected))

    @rx.event
    async def view(self, interview_id: str):
        """Open one interview read-only."""
        token, admin_token = self._token, get_admin_token()
        online = await get_presence().online(interview_id)

        def read() -> AdminDetail | None:
            if not crud.is_admin(token=token, admin_token=admin_token):
                return None
            with session() as db:
                interview = crud.get_interview(db=db, interview_id=interview_id)
                if interview is None:
                    return None
                people = crud.list_participants(db=db, interview_id=interview_id)
                runs = crud.list_runs(db=db, interview_id=interview_id, limit=10)
            return AdminDetail(
                id=interview.id,
                title=interview.title,
                status="ended" if interview.ended_at else "active",
                problem_html=render_markdown(interview.problem_markdown),
                code=interview.code,
                language=interview.language,
                people=[
                    f"{p.name} ({p.role.value}{', online' if p.id in online else ''})"
                    for p in people
                ],
                runs=[
                    f"{_when(run.started_at)} · {by} · {run.language} · {run.status.value}"
                    for run, by in runs
                ],
            )

        try:
            detail = await asyncio.to_thread(read)
        except DatabaseUnavailable:
            self.database_down = True
            return
        if detail is None:
            self.notice = "That interview is gone."
            return
        self.detail = detail

    @rx.event
    async def retry_database(self):
        """While the database is unreachable (every 2 s): reload the list once it is back."""
        if outage() is None:
            await self._load()

    @rx.event
    def close_view(self):
        """Back to the list."""
        self.detail = AdminDetail()

    async def _end(self, ids: list[str]) -> None:
        await self._close(ids, crud.end_interviews, reason="admin", done="Ended")

    async def _delete(self, ids: list[str]) -> None:
        await self._close(ids, crud.delete_interviews, reason="deleted", done="Deleted")

    async def _close(
        self, ids: list[str], close: Callable[..., list[str]], *, reason: str, done: str
    ) -> None:
        """End or delete (``close``) interviews as the admin; their open rooms learn it at once."""
        token, admin_token = self._token, get_admin_token()

        def write() -> list[str]:
            with session() as db:
                return close(db=db, interview_ids=ids, token=token, admin_token=admin_token)

        try:
            closed = await asyncio.to_thread(write)
        except crud.Error as error:
            self.notice = str(error)
            return
        except DatabaseUnavailable:
            self.database_down, self.notice = True, f"Not done: {done.lower()} nothing."
            return
        for interview_id in closed:
            bus.publish(RoomEvent(interview_id, EventType.SESSION_ENDED, {"reason": reason}))
        if self.detail.id in closed and reason == "deleted":
            self.detail = AdminDetail()
        self.notice = f"{done} {len(closed)} interview{'s' if len(closed) != 1 else ''}."
        await self._load()

    async def _load(self) -> None:
        token, admin_token = self._token, get_admin_token()
        status, search = self.status_filter, self.search

        def read() -> tuple[list[InterviewSummary], int, str]:
            with session() as db:
                summaries, total = crud.list_interviews(
                    db=db,
                    token=token,
                    admin_token=admin_token,
                    status=status,
                    search=search,
                    limit=PAGE_SIZE,
                )
                last = crud.last_cleanup(db=db)
            cleanup = "No cleanup has run yet."
            if last is not None:
                cleanup = (
                    f"{_when(last.finished_at or last.started_at)} on {last.instance}: "
                    f"ended {last.ended} idle, deleted {last.deleted}, dropped "
                    f"{last.presence_dropped} stale presences, removed "
                    f"{last.containers_removed} orphaned sandboxes"
                    + (f" (errors: {last.error})" if last.error else "")
                )
            return summaries, total, cleanup

        try:
            summaries, self.total, self.last_cleanup = await asyncio.to_thread(read)
        except crud.Unauthorized:
            self.signed_in, self._token = False, ""
            return
        except DatabaseUnavailable:
            self.database_down = True
            return
        self.database_down = False
        online = await get_presence().online_in(s.id for s in summaries)
        self.rows = [
            AdminRow(
                id=s.id,
                title=s.title,
                language=s.language,
                created=_when(s.created_at),
                last_activity=_when(s.updated_at),
                status="ended" if s.ended_at else "active",
                participants=s.participants,
                online=len(online[s.id]),
                runs=s.runs,
                size=_size(s.size_bytes),
            )
            for s in summaries
        ]
        shown = {row.id for row in self.rows}
        self.selected = [i for i in self.selected if i in shown]


def _sign_in_form() -> rx.Component:
    return rx.center(
        rx.card(
            rx.form(
                rx.vstack(
                    rx.heading("Admin", size="6", as_="h1"),
                    rx.el.label("Admin token", html_for="admin-token"),
                    rx.input(
                        id="admin-token",
                        name="token",
                        type="password",
                        aria_label="Admin token",
                        required=True,
                        width="100%",
                    ),
                    rx.cond(
                        AdminState.sign_in_error != "",
                        rx.callout(AdminState.sign_in_error, color_scheme="red", role="alert"),
                    ),
                    rx.button("Sign in", type="submit", width="100%"),
                    width="100%",
                ),
                on_submit=AdminState.sign_in,
            ),
            width="min(26rem, 92vw)",
        ),
        height="100%",
    )


def _row(row: rx.Var[AdminRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.checkbox(
                checked=AdminState.selected.contains(row.id),
                on_change=lambda _checked: AdminState.toggle(row.id),
                aria_label="Select " + row.title,
            )
        ),
        rx.table.row_header_cell(row.title),
        rx.table.cell(row.status),
        rx.table.cell(row.created),
        rx.table.cell(row.last_activity),
        rx.table.cell(row.online.to_string() + " / " + row.participants.to_string()),
        rx.table.cell(row.runs),
        rx.table.cell(row.size),
        rx.table.cell(
            rx.hstack(
                rx.button(
                    "View",
                    size="1",
                    variant="soft",
                    on_click=AdminState.view(row.id),
                    aria_label="View " + row.title,
                ),
                rx.button(
                    "End",
                    size="1",
                    variant="soft",
                    color_scheme="amber",
                    disabled=row.status == "ended",
                    on_click=AdminState.end(row.id),
                    aria_label="End " + row.title,
                ),
                rx.button(
                    "Delete",
                    size="1",
                    variant="soft",
                    color_scheme="red",
                    on_click=AdminState.delete(row.id),
                    aria_label="Delete " + row.title,
                ),
                spacing="1",
            )
        ),
    )


def _detail() -> rx.Component:
    detail = AdminState.detail
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading(detail.title, size="4", as_="h2"),
                rx.badge(detail.status),
                rx.spacer(),
                rx.button("Close", size="1", variant="soft", on_click=AdminState.close_view),
                width="100%",
                align="center",
            ),
            rx.text("Read-only: nothing here changes the interview.", size="1", color="gray"),
            rx.heading("Problem", size="2", as_="h3"),
            rx.box(rx.html(detail.problem_html), class_name="rivendell-markdown"),
            rx.heading("Code", size="2", as_="h3"),
            rx.code_block(detail.code, language=detail.language, width="100%", aria_label="Code"),
            rx.heading("Participants", size="2", as_="h3"),
            rx.el.ul(rx.foreach(detail.people, rx.el.li)),
            rx.heading("Recent runs", size="2", as_="h3"),
            rx.el.ul(rx.foreach(detail.runs, rx.el.li)),
            width="100%",
        ),
        width="100%",
        role="region",
        aria_label="Interview details",
    )


def _console() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading("Interviews", size="6", as_="h1"),
            rx.badge(AdminState.total.to_string() + " matching"),
            rx.spacer(),
            rx.button("Refresh", variant="soft", on_click=AdminState.refresh),
            rx.button("Sign out", variant="ghost", on_click=AdminState.sign_out),
            width="100%",
            align="center",
        ),
        rx.callout(
            "Last cleanup: " + AdminState.last_cleanup,
            icon="brush-cleaning",
            role="status",
            aria_label="Last cleanup",
            width="100%",
        ),
        rx.hstack(
            rx.select(
                ["all", "active", "ended"],
                value=AdminState.status_filter,
                on_change=AdminState.set_status_filter,
                aria_label="Status",
            ),
            rx.form(
                rx.hstack(
                    rx.input(
                        name="search",
                        placeholder="Title or id",
                        aria_label="Search",
                        default_value=AdminState.search,
                    ),
                    rx.button("Filter", type="submit", variant="soft"),
                ),
                on_submit=AdminState.apply_search,
            ),
            rx.spacer(),
            rx.button(
                "End selected",
                color_scheme="amber",
                disabled=AdminState.selected.length() == 0,
                on_click=AdminState.end_selected,
            ),
            rx.button(
                "Delete selected",
                color_scheme="red",
                disabled=AdminState.selected.length() == 0,
                on_click=AdminState.delete_selected,
            ),
            width="100%",
            align="center",
        ),
        rx.cond(
            AdminState.database_down,
            outage_banner(
                AdminState.retry_database,
                "The list below may be out of date; it reloads by itself when it is back.",
            ),
        ),
        rx.cond(AdminState.notice != "", rx.text(AdminState.notice, role="status", size="2")),
        rx.cond(AdminState.detail.id != "", _detail()),
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    rx.table.column_header_cell(""),
                    rx.table.column_header_cell("Title"),
                    rx.table.column_header_cell("Status"),
                    rx.table.column_header_cell("Created"),
                    rx.table.column_header_cell("Last activity"),
                    rx.table.column_header_cell("Online / joined"),
                    rx.table.column_header_cell("Runs"),
                    rx.table.column_header_cell("Size"),
                    rx.table.column_header_cell("Actions"),
                )
            ),
            rx.table.body(rx.foreach(AdminState.rows, _row)),
            width="100%",
            aria_label="Interviews",
        ),
        padding="1.5rem",
        width="100%",
        spacing="4",
        overflow_y="auto",
        height="100%",
    )


@page_frame
def admin_page() -> rx.Component:
    """``/admin``: the sign-in form, then the operator's console."""
    return rx.cond(AdminState.signed_in, _console(), _sign_in_form())
