"""The interviewer's side of the room: private notes and hints, the room's controls, the
interviewer link.

Notes never reach a candidate, so they cannot live in ``RoomState``: that ``rx.SharedState`` is
sent to every browser linked to the room. They live in ``InterviewerState``, a second, small
``rx.SharedState`` linked under its own token (``<interview id>-interviewers``) and only by a
browser whose seat ``crud`` has just confirmed is an interviewer's (``NotesState.open``). A
candidate's browser never links it, so its copy stays the empty default, and a note change
(``NOTES_CHANGED`` on the bus, carrying only the note's id) rebuilds it for the interviewers
alone, on every instance, the same way ``refresh_room`` rebuilds the room. A per-interviewer
"reload your notes" trigger would have needed Reflex to push an event to each interviewer's
client token; the linked state does that already, with nothing new to keep in step.

``NotesState`` is private to one browser: the note being written and the interviewer link
(whose key must stay out of any shared state). Every change goes through ``crud`` with this
browser's own token, so a forged event from a candidate is refused there like an API call.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import logging
from datetime import timedelta
from typing import Any

import reflex as rx
from reflex.istate.manager.token import BaseStateToken

from rivendell import crud
from rivendell.components.notes import SELECTION_PIN_SCRIPT, note_lines, pinned_notes
from rivendell.db import DatabaseUnavailable, session
from rivendell.events import EventType, RoomEvent, bus
from rivendell.markdown import MAX_MARKDOWN_CHARS, render_markdown
from rivendell.models import Note, NoteCreate, NoteKind, first_error_message
from rivendell.settings import get_admin_token, get_settings
from rivendell.state import IdentityState

__all__ = [
    "InterviewerState",
    "NoteView",
    "NotesState",
    "interviewer_controls",
    "interviewers_token",
    "notes_panel",
    "pinned_note_marks",
    "refresh_interviewers",
]

logger = logging.getLogger(__name__)

HINT_TEXT = "Hint given"
"""What a hint records when the interviewer wrote nothing more."""


def _ttl() -> timedelta:
    return timedelta(hours=get_settings().interview_ttl_hours)


def interviewers_token(interview_id: str) -> str:
    """The link token of a room's interviewers' shared state (no ``_``, as Reflex requires)."""
    return f"{interview_id}-interviewers"


@dataclasses.dataclass
class NoteView:
    """One note (or hint) as the interviewers' list shows it."""

    id: int = 0
    kind: str = ""
    markdown: str = ""
    html: str = ""
    pinned: bool = False
    anchor_start: str = ""
    anchor_end: str = ""
    line_start: int = 0
    line_end: int = 0
    at: str = ""
    author: str = ""


def _b64(anchor: bytes | None) -> str:
    return base64.b64encode(anchor).decode() if anchor else ""


def note_views(notes: list[Note], names: dict[int, str]) -> list[NoteView]:
    """The list's rows, newest first, Markdown rendered safely."""
    views = []
    for note in reversed(notes):
        try:
            html = render_markdown(note.markdown)
        except ValueError as error:
            html = f"<p><em>{error}</em></p>"
        views.append(
            NoteView(
                id=note.id or 0,
                kind=note.kind.value,
                markdown=note.markdown,
                html=html,
                pinned=note.anchor_start is not None,
                anchor_start=_b64(note.anchor_start),
                anchor_end=_b64(note.anchor_end),
                line_start=note.line_start or 0,
                line_end=note.line_end or 0,
                at=note.moment.strftime("%H:%M:%S UTC"),
                author=names.get(note.author_id or 0, "An interviewer"),
            )
        )
    return views


def _names(interview_id: str) -> dict[int, str]:
    with session() as db:
        return {p.id or 0: p.name for p in crud.list_participants(db=db, interview_id=interview_id)}


class InterviewerState(rx.SharedState):
    """What every interviewer of one room sees and no candidate does; linked by
    ``interviewers_token(interview id)``, by interviewers only."""

    interview_id: str = ""
    notes: list[NoteView] = []

    @rx.var
    def pins(self) -> str:
        """The pinned notes for the editor's marks, as JSON (``PinnedNotes.notes``)."""
        return json.dumps(
            [
                {
                    "id": n.id,
                    "anchor_start": n.anchor_start,
                    "anchor_end": n.anchor_end,
                    "label": ("Hint: " if n.kind == NoteKind.HINT.value else "") + n.markdown,
                }
                for n in self.notes
                if n.pinned
            ]
        )


async def refresh_interviewers(app: rx.App, event: RoomEvent) -> None:
    """Event-bus subscriber: rebuild the interviewers' notes after a note changed."""
    if event.type != EventType.NOTES_CHANGED:
        return

    def load() -> list[NoteView]:
        with session() as db:
            notes = crud.room_notes(db=db, interview_id=event.interview_id)
        return note_views(notes, _names(event.interview_id))

    try:
        views = await asyncio.to_thread(load)
    except DatabaseUnavailable:
        return
    token = BaseStateToken(ident=interviewers_token(event.interview_id), cls=InterviewerState)
    async with app.modify_state(token) as root:
        shared = await root.get_state(InterviewerState)
        shared.interview_id = event.interview_id
        shared.notes = views


class NotesState(rx.State):
    """One interviewer's browser: the note being written and the interviewer link."""

    draft: str = ""
    error: str = ""
    pin: bool = True
    # The interviewer link, with its secret: filled only after crud confirmed an interviewer.
    invite_url: str = ""
    confirm_end: bool = False
    _interview_id: str = ""
    _token: str = ""

    @rx.var
    def draft_chars(self) -> int:
        """How long the note being written is."""
        return len(self.draft)

    @rx.event
    async def open(self):
        """Take this browser's interviewer seat, if it has one: link the interviewers' state.

        Called once the room knows who this browser is; a candidate's seat links nothing (and
        loses a link an earlier interviewer seat in another room left).
        """
        interview_id = str(await self.get_var_value(rx.State.interview))
        identity = await self.get_state(IdentityState)
        token = identity.token_for(interview_id)
        shared = await self.get_state(InterviewerState)

        def read() -> tuple[str, list[NoteView]]:
            with session() as db:
                key = crud.interviewer_key(
                    db=db, interview_id=interview_id, token=token, ttl=_ttl()
                )
                notes = crud.list_notes(db=db, interview_id=interview_id, token=token, ttl=_ttl())
            return key, note_views(notes, _names(interview_id))

        try:
            key, views = await asyncio.to_thread(read)
        except (crud.Error, DatabaseUnavailable):
            self._interview_id = self._token = self.invite_url = ""
            self.draft = ""
            if shared._linked_to:
                return await shared._unlink()
            return
        self._interview_id, self._token = interview_id, token
        self.invite_url = f"{self.router.url.origin}/i/{interview_id}?interviewer={key}"
        linked = await shared._link_to(interviewers_token(interview_id))
        linked.interview_id = interview_id
        linked.notes = views

    @rx.event
    def set_draft(self, value: str):
        """Keep the note as it is typed."""
        self.draft = value[: MAX_MARKDOWN_CHARS + 1]

    @rx.event
    def set_pin(self, value: bool):
        """Whether the next note is pinned to the lines selected in the editor."""
        self.pin = bool(value)

    async def _write(self, kind: NoteKind, pin: Any) -> bool:
        pin = pin if isinstance(pin, dict) and self.pin else {}
        markdown = self.draft.strip() or (HINT_TEXT if kind == NoteKind.HINT else "")
        try:
            data = NoteCreate(
                kind=kind,
                markdown=markdown,
                anchor_start=pin.get("anchor_start") or None,
                anchor_end=pin.get("anchor_end") or None,
                line_start=pin.get("line_start") if pin.get("anchor_start") else None,
                line_end=pin.get("line_end") if pin.get("anchor_start") else None,
            )
        except ValueError as error:
            self.error = first_error_message(error)
            return False
        interview_id, token = self._interview_id, self._token

        def write() -> int:
            with session() as db:
                note = crud.create_note(
                    db=db, interview_id=interview_id, token=token, ttl=_ttl(), data=data
                )
                return note.id or 0

        try:
            note_id = await asyncio.to_thread(write)
        except crud.Error as error:
            self.error = str(error)
            return False
        except DatabaseUnavailable:
            self.error = "The database is unreachable: not saved. Try again in a moment."
            return False
        self.error, self.draft = "", ""
        bus.publish(RoomEvent(interview_id, EventType.NOTES_CHANGED, {"note_id": note_id}))
        return True

    @rx.event
    async def add_note(self, pin: Any):
        """Save the draft as a private note (``pin``: the editor's selection, from notes.jsx)."""
        if await self._write(NoteKind.NOTE, pin):
            return rx.toast.success("Note saved — only interviewers see it.")

    @rx.event
    async def add_hint(self, pin: Any):
        """Record that a hint was given now, with the draft as what was said."""
        if await self._write(NoteKind.HINT, pin):
            return rx.toast.success("Hint recorded on the timeline.")

    @rx.event
    async def delete_note(self, note_id: int):
        """Delete one note (the timeline keeps that it existed)."""
        interview_id, token = self._interview_id, self._token

        def write() -> None:
            with session() as db:
                crud.delete_note(
                    db=db, interview_id=interview_id, token=token, ttl=_ttl(), note_id=note_id
                )

        try:
            await asyncio.to_thread(write)
        except crud.Error as error:
            return rx.toast.error(str(error))
        bus.publish(RoomEvent(interview_id, EventType.NOTES_CHANGED, {"note_id": note_id}))

    async def _controls(self, **values: bool):
        interview_id, token = self._interview_id, self._token

        def write() -> dict[str, bool]:
            with session() as db:
                interview = crud.set_controls(
                    db=db, interview_id=interview_id, token=token, ttl=_ttl(), **values
                )
                return {"locked": interview.locked, "run_disabled": interview.run_disabled}

        try:
            controls = await asyncio.to_thread(write)
        except crud.Error as error:
            return rx.toast.error(str(error))
        bus.publish(RoomEvent(interview_id, EventType.CONTROLS_CHANGED, controls))

    @rx.event
    async def set_locked(self, value: bool):
        """Lock (or unlock) the editor for candidates."""
        return await self._controls(locked=bool(value))

    @rx.event
    async def set_run_disabled(self, value: bool):
        """Disable (or enable) Run for candidates."""
        return await self._controls(run_disabled=bool(value))

    @rx.event
    def set_confirm_end(self, value: bool):
        """Open or close the "End interview" confirmation."""
        self.confirm_end = bool(value)

    @rx.event
    async def end_interview(self):
        """End the interview for everyone: the room turns read-only at once."""
        self.confirm_end = False
        interview_id, token = self._interview_id, self._token

        def write() -> None:
            with session() as db:
                crud.end_interview(
                    db=db, interview_id=interview_id, token=token, admin_token=get_admin_token()
                )

        try:
            await asyncio.to_thread(write)
        except crud.Error as error:
            return rx.toast.error(str(error))
        bus.publish(RoomEvent(interview_id, EventType.SESSION_ENDED, {"reason": "interviewer"}))


def _switch(label: str, checked: rx.Var[bool], on_change: Any) -> rx.Component:
    return rx.el.label(
        rx.hstack(
            rx.switch(checked=checked, on_change=on_change, size="1", aria_label=label),
            rx.text(label, size="2", white_space="nowrap"),
            align="center",
            spacing="2",
        ),
    )


def interviewer_controls(*, locked: rx.Var[bool], run_disabled: rx.Var[bool]) -> rx.Component:
    """The toolbar's interviewer-only controls: lock, disable Run, invite, end."""
    return rx.hstack(
        _switch("Lock editor", locked, NotesState.set_locked),
        _switch("Disable Run", run_disabled, NotesState.set_run_disabled),
        rx.button(
            rx.icon("user-plus", size=14),
            "Invite an interviewer",
            variant="surface",
            size="2",
            disabled=NotesState.invite_url == "",
            on_click=[
                rx.set_clipboard(NotesState.invite_url),
                rx.toast.success(
                    "Interviewer link copied — share it only with interviewers: "
                    "it seats whoever opens it as one."
                ),
            ],
        ),
        rx.alert_dialog.root(
            rx.alert_dialog.trigger(
                rx.button(
                    rx.icon("circle-stop", size=14),
                    "End interview",
                    color_scheme="red",
                    variant="soft",
                    size="2",
                ),
            ),
            rx.alert_dialog.content(
                rx.alert_dialog.title("End the interview?"),
                rx.alert_dialog.description(
                    "Everyone's room turns read-only at once: no more edits or runs. "
                    "Interviewers can still open it and its playback.",
                ),
                rx.hstack(
                    rx.alert_dialog.cancel(
                        rx.button("Cancel", variant="soft", color_scheme="gray")
                    ),
                    rx.alert_dialog.action(
                        rx.button(
                            "End interview", color_scheme="red", on_click=NotesState.end_interview
                        )
                    ),
                    spacing="3",
                    justify="end",
                    margin_top="1rem",
                ),
            ),
            open=NotesState.confirm_end,
            on_open_change=NotesState.set_confirm_end,
        ),
        spacing="3",
        align="center",
    )


def _note_row(note: rx.Var[NoteView], room: rx.Var[str], ended: rx.Var[bool]) -> rx.Component:
    return rx.el.li(
        rx.vstack(
            rx.hstack(
                rx.badge(
                    rx.cond(note.kind == NoteKind.HINT.value, "Hint", "Note"),
                    color_scheme=rx.cond(note.kind == NoteKind.HINT.value, "amber", "iris"),
                    variant="soft",
                    size="1",
                ),
                rx.text(note.at, size="1", color_scheme="gray"),
                rx.cond(
                    note.pinned,
                    rx.badge(
                        rx.icon("pin", size=10),
                        note_lines(
                            room=room,
                            anchor_start=note.anchor_start,
                            anchor_end=note.anchor_end,
                            line_start=note.line_start,
                            line_end=note.line_end,
                        ),
                        variant="outline",
                        size="1",
                        aria_label="Pinned to",
                    ),
                ),
                rx.spacer(),
                rx.cond(
                    ~ended,
                    rx.icon_button(
                        rx.icon("trash-2", size=12),
                        size="1",
                        variant="ghost",
                        color_scheme="gray",
                        aria_label="Delete note",
                        on_click=NotesState.delete_note(note.id),
                    ),
                ),
                align="center",
                spacing="2",
                width="100%",
            ),
            rx.box(rx.html(note.html), class_name="rivendell-markdown", width="100%"),
            spacing="1",
            width="100%",
        ),
        aria_label=rx.cond(note.kind == NoteKind.HINT.value, "Hint", "Note"),
        padding_y="0.4rem",
        border_bottom="1px solid var(--gray-a4)",
    )


def notes_panel(*, room: rx.Var[str], ended: rx.Var[bool]) -> rx.Component:
    """Private notes and hints: written here, listed newest first, pinned lines shown live."""
    shared = InterviewerState
    form = rx.vstack(
        rx.text_area(
            value=NotesState.draft,
            on_change=NotesState.set_draft,
            placeholder="A private note in Markdown (only interviewers see it)…",
            aria_label="Private note",
            max_length=MAX_MARKDOWN_CHARS,
            rows="3",
            resize="vertical",
            width="100%",
        ),
        rx.el.label(
            rx.hstack(
                rx.checkbox(
                    checked=NotesState.pin, on_change=NotesState.set_pin, aria_label="Pin to lines"
                ),
                rx.text("Pin to the lines selected in the editor", size="1"),
                align="center",
                spacing="2",
            ),
        ),
        rx.cond(
            NotesState.error != "",
            rx.text(NotesState.error, size="1", color_scheme="red", role="alert"),
        ),
        rx.hstack(
            rx.button(
                rx.icon("notebook-pen", size=14),
                "Add note",
                size="1",
                on_click=rx.call_script(SELECTION_PIN_SCRIPT, callback=NotesState.add_note),
            ),
            rx.tooltip(
                rx.button(
                    rx.icon("lightbulb", size=14),
                    "Hint given",
                    size="1",
                    variant="soft",
                    color_scheme="amber",
                    on_click=rx.call_script(SELECTION_PIN_SCRIPT, callback=NotesState.add_hint),
                ),
                content="Record that you gave a hint now (with the text above, if any)",
            ),
            spacing="2",
        ),
        spacing="2",
        width="100%",
    )
    return rx.el.section(
        rx.heading(
            "Private notes ",
            rx.text.span("(", shared.notes.length(), ")", color_scheme="gray", weight="regular"),
            size="3",
            as_="h2",
        ),
        rx.text("Candidates never see these.", size="1", color_scheme="gray"),
        rx.cond(~ended, form),
        rx.el.ul(
            rx.foreach(shared.notes, lambda note: _note_row(note, room, ended)),
            aria_label="Private notes",
            style={"listStyle": "none", "padding": 0, "margin": 0, "width": "100%"},
        ),
        role="region",
        aria_label="Private notes",
        style={"display": "flex", "flexDirection": "column", "gap": "0.5rem", "width": "100%"},
    )


def pinned_note_marks(*, room: rx.Var[str]) -> rx.Component:
    """The pinned notes' marks in the interviewer's editor."""
    return pinned_notes(room=room, notes=InterviewerState.pins)
