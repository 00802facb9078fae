"""The home page: create an interview and land in its room as the interviewer.

While the database is unreachable the page says so (checked on load, then every 2 s) and the
notice goes away by itself when it is back; nothing is created meanwhile.
"""

from __future__ import annotations

import asyncio

import reflex as rx

from rivendell import crud
from rivendell.db import DatabaseUnavailable, outage, session
from rivendell.executor.languages import DEFAULT_LANGUAGE, languages
from rivendell.layout import outage_banner, page_frame
from rivendell.models import (
    MAX_NAME_CHARS,
    MAX_TITLE_CHARS,
    InterviewCreate,
    first_error_message,
)
from rivendell.ratelimit import RateLimited, check_create
from rivendell.state import IdentityState, read_tokens_from_browser

__all__ = ["HomeState", "index_page"]


class HomeState(rx.State):
    """The create-interview form."""

    language: str = DEFAULT_LANGUAGE
    error: str = ""
    creating: bool = False
    database_down: bool = False
    _created_id: str = ""
    _created_token: str = ""

    @rx.event
    def check_database(self):
        """On load, and every 2 s while the notice shows: whether the database answers."""
        self.database_down = outage() is not None

    @rx.event
    def set_language(self, language: str):
        """Pick the language the room starts with."""
        if language in languages():
            self.language = language

    @rx.event
    async def create(self, form_data: dict[str, str]):
        """Create the interview, keep the creator's token in this browser, open the room."""
        try:
            data = InterviewCreate(
                title=str(form_data.get("title", ""))[: MAX_TITLE_CHARS * 8],
                creator_name=str(form_data.get("creator_name", ""))[: MAX_NAME_CHARS * 8],
                language=self.language,
            )
        except ValueError as error:
            self.error = first_error_message(error)
            return
        self.error = ""
        try:
            await check_create(client=self.router.session.client_ip or "unknown")
        except RateLimited as error:
            self.error = str(error).capitalize() + "."
            return

        def write() -> tuple[str, str]:
            with session() as db:
                interview, _, token = crud.create_interview(db=db, data=data)
                return interview.id, token

        try:
            self._created_id, self._created_token = await asyncio.to_thread(write)
        except DatabaseUnavailable:
            self.database_down = True
            return
        # Added to the browser's own copy of its tokens, which outlives this page's state.
        return read_tokens_from_browser(HomeState.open_created)

    @rx.event
    async def open_created(self, stored: str):
        """Keep the new interview's token in this browser and open its room."""
        identity = await self.get_state(IdentityState)
        identity.adopt(stored)
        identity.remember(self._created_id, self._created_token)
        return rx.redirect(f"/i/{self._created_id}")


def _field(label: str, control: rx.Component, field_id: str) -> rx.Component:
    return rx.vstack(
        rx.el.label(label, html_for=field_id, class_name="rt-Text rt-r-size-2 rt-r-weight-medium"),
        control,
        spacing="1",
        width="100%",
    )


@page_frame
def index_page() -> rx.Component:
    """``/``: what Rivendell is and the form that starts an interview."""
    return rx.center(
        rx.vstack(
            rx.heading("Live coding interviews, together", size="8", as_="h1", align="center"),
            rx.text(
                "Create an interview, share its link, and write code with your candidate in one "
                "shared editor.",
                color_scheme="gray",
                size="3",
                align="center",
            ),
            rx.cond(
                HomeState.database_down,
                outage_banner(
                    HomeState.check_database,
                    "No interview can be created until it answers; this notice goes away "
                    "by itself.",
                ),
            ),
            rx.card(
                rx.form(
                    rx.vstack(
                        _field(
                            "Interview title",
                            rx.input(
                                id="title",
                                name="title",
                                placeholder="e.g. Backend engineer — pairing round",
                                aria_label="Interview title",
                                max_length=MAX_TITLE_CHARS,
                                required=True,
                                auto_focus=True,
                                width="100%",
                            ),
                            "title",
                        ),
                        _field(
                            "Your name",
                            rx.input(
                                id="creator-name",
                                name="creator_name",
                                placeholder="e.g. Alex Kim",
                                aria_label="Your name",
                                max_length=MAX_NAME_CHARS,
                                required=True,
                                width="100%",
                            ),
                            "creator-name",
                        ),
                        _field(
                            "Language",
                            rx.select.root(
                                rx.select.trigger(
                                    id="language", aria_label="Language", width="100%"
                                ),
                                rx.select.content(
                                    *[
                                        rx.select.item(lang.name, value=lang.id)
                                        for lang in languages().values()
                                    ]
                                ),
                                value=HomeState.language,
                                on_change=HomeState.set_language,
                            ),
                            "language",
                        ),
                        rx.cond(
                            HomeState.error != "",
                            rx.callout(
                                HomeState.error, color_scheme="red", role="alert", width="100%"
                            ),
                        ),
                        rx.button("Create interview", type="submit", size="3", width="100%"),
                        spacing="4",
                        width="100%",
                    ),
                    on_submit=HomeState.create,
                    reset_on_submit=False,
                ),
                size="4",
                width="100%",
            ),
            spacing="5",
            align="center",
            width="min(32rem, 92vw)",
        ),
        padding="2rem",
        min_height="100%",
    )
