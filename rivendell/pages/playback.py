"""``/i/<id>/playback``: an interviewer scrubs through the interview as it happened.

The browser proves who it is the way the room does: the page reads the seat tokens stored in
local storage (``read_tokens_from_browser``) and looks up the seat this browser holds in the
interview. An interviewer's page mounts the playback component with that token, and the
component fetches the timeline from the API, which checks the token again (the page's check
only decides what to show). A candidate or a stranger gets a clear refusal. Ended interviews
play back too, for as long as they are kept.
"""

from __future__ import annotations

import asyncio

import reflex as rx

from rivendell import crud
from rivendell.components.playback import playback
from rivendell.db import DatabaseUnavailable, outage, session
from rivendell.executor.languages import languages
from rivendell.layout import dead_end, outage_page, page_frame
from rivendell.settings import get_admin_token
from rivendell.state import IdentityState, read_tokens_from_browser

__all__ = ["REFUSED", "ROUTE", "PlaybackState", "playback_page"]

ROUTE = "/i/[interview]/playback"

REFUSED = "Only the interview's interviewers can watch its playback."
"""What a candidate or a stranger is told (the tests look for it)."""


class PlaybackState(rx.State):
    """Who this browser is in the interview, and so whether it may watch."""

    loaded: bool = False
    not_found: bool = False
    database_down: bool = False
    allowed: bool = False
    interview_id: str = ""
    title: str = ""
    # The interviewer's own seat token (their browser holds it anyway): the component sends it
    # to the timeline endpoint. Empty unless ``allowed``.
    seat_token: str = ""

    @rx.event
    async def open(self):
        """Read the browser's stored tokens for the interview in the URL (``on_load``)."""
        self.loaded = self.allowed = self.not_found = False
        self.seat_token = ""
        self.interview_id = str(await self.get_var_value(rx.State.interview))
        return read_tokens_from_browser(PlaybackState.restore_identity)

    @rx.event
    async def restore_identity(self, stored: str):
        """Decide what to show from the seat this browser holds (``stored``: its tokens)."""
        identity = await self.get_state(IdentityState)
        identity.adopt(stored)
        interview_id = self.interview_id
        token = identity.token_for(interview_id)

        def lookup() -> tuple[str, bool] | None:
            with session() as db:
                interview = crud.get_interview(db=db, interview_id=interview_id)
                if interview is None:
                    return None
                try:
                    crud.require_interviewer(
                        db=db, interview_id=interview_id, token=token, admin_token=admin_token
                    )
                except crud.Forbidden:
                    return interview.title, False
                return interview.title, True

        admin_token = get_admin_token()
        try:
            found = await asyncio.to_thread(lookup)
        except DatabaseUnavailable:
            self.database_down = self.loaded = True
            return
        self.database_down = False
        self.loaded = True
        if found is None:
            self.not_found = True
            return
        self.title, self.allowed = found
        self.seat_token = token if self.allowed else ""

    @rx.event
    def retry_database(self):
        """While the database is unreachable (every 2 s): open the page once it is back."""
        if outage() is None:
            return PlaybackState.open


def _refused_view() -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.heading("Playback is for interviewers", size="7", as_="h1"),
            rx.text(REFUSED, color_scheme="gray", align="center"),
            rx.link(
                rx.button("Back to the interview"),
                href="/i/" + PlaybackState.interview_id,
            ),
            align="center",
            spacing="4",
            role="alert",
        ),
        height="100%",
        padding="2rem",
    )


def _playback_view() -> rx.Component:
    return rx.flex(
        rx.hstack(
            rx.heading(
                rx.text.span("Playback · ", color_scheme="gray"),
                PlaybackState.title,
                size="4",
                as_="h1",
            ),
            rx.spacer(),
            rx.link("Open the room", href="/i/" + PlaybackState.interview_id, size="2"),
            align="center",
            padding_x="1rem",
            padding_y="0.5rem",
            border_bottom="1px solid var(--gray-a5)",
            width="100%",
            flex_shrink="0",
        ),
        rx.box(
            playback(
                session_id=PlaybackState.interview_id,
                token=PlaybackState.seat_token,
                languages={lang.id: lang.monaco for lang in languages().values()},
            ),
            flex="1",
            min_height="0",
            width="100%",
        ),
        direction="column",
        height="100%",
        width="100%",
    )


@page_frame
def playback_page() -> rx.Component:
    """``/i/<id>/playback``: the playback, a refusal, "not found" or "database unreachable"."""
    return rx.cond(
        ~PlaybackState.loaded,
        rx.center(rx.spinner(size="3"), height="100%"),
        rx.cond(
            PlaybackState.database_down,
            outage_page(PlaybackState.retry_database, "The playback opens once it answers."),
            rx.cond(
                PlaybackState.not_found,
                dead_end(
                    "Interview not found",
                    "This link does not match any interview. It may have been deleted.",
                ),
                rx.cond(PlaybackState.allowed, _playback_view(), _refused_view()),
            ),
        ),
    )
