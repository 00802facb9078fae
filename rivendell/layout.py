"""The frame every page shares: a slim header with the brand and the colour-mode switch, and
the notices a page shows while the database is unreachable."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import reflex as rx

from rivendell.components.heartbeat import heartbeat

__all__ = ["DATABASE_DOWN", "dead_end", "outage_banner", "outage_page", "page_frame"]

DATABASE_DOWN = "The database is unreachable — retrying"
"""What every page says while the database cannot be reached (the tests look for it)."""
RETRY_INTERVAL_MS = 2000


def _header() -> rx.Component:
    return rx.hstack(
        rx.link(
            rx.hstack(
                rx.icon("trees", size=20, aria_hidden="true"),
                rx.text("Rivendell", weight="bold", size="3"),
                align="center",
                spacing="2",
            ),
            href="/",
            underline="none",
            color="inherit",
            aria_label="Rivendell home",
        ),
        rx.spacer(),
        rx.color_mode.button(aria_label="Toggle dark mode", size="2", variant="ghost"),
        align="center",
        padding_x="1rem",
        height="3rem",
        flex_shrink="0",
        border_bottom="1px solid var(--gray-a5)",
        width="100%",
        as_="header",
    )


def page_frame(content: Callable[[], rx.Component]) -> Callable[[], rx.Component]:
    """Wrap a page's content in the common frame, filling the window."""

    @functools.wraps(content)
    def framed() -> rx.Component:
        return rx.flex(
            _header(),
            rx.el.main(content(), style={"flex": "1", "minHeight": "0", "width": "100%"}),
            direction="column",
            height="100dvh",
            width="100%",
        )

    return framed


def dead_end(heading: str, message: str, *more: rx.Component) -> rx.Component:
    """A full-page message with a way back to the start (and ``more`` ways on, below it)."""
    return rx.center(
        rx.vstack(
            rx.heading(heading, size="7", as_="h1"),
            rx.text(message, color_scheme="gray", align="center"),
            rx.link(rx.button("Create a new interview"), href="/"),
            *more,
            align="center",
            spacing="4",
        ),
        height="100%",
        padding="2rem",
    )


def _retrying(on_retry: Any) -> rx.Component:
    # Mounted with the notice, gone with it: the page stops retrying once the database is back.
    return heartbeat(interval_ms=RETRY_INTERVAL_MS, on_beat=on_retry)


def outage_banner(on_retry: Any, message: str) -> rx.Component:
    """A notice across the top of a page that still works in part; ``on_retry`` fires every 2 s."""
    return rx.callout.root(
        rx.callout.icon(rx.icon("database", size=16)),
        rx.callout.text(rx.text.strong(DATABASE_DOWN, "…"), " ", message),
        _retrying(on_retry),
        color_scheme="amber",
        role="alert",
        size="1",
        width="100%",
        border_radius="0",
    )


def outage_page(on_retry: Any, message: str) -> rx.Component:
    """A full-page notice for a page that cannot show anything yet; ``on_retry`` every 2 s."""
    return rx.center(
        rx.vstack(
            rx.spinner(size="3"),
            rx.heading(DATABASE_DOWN, size="6", as_="h1", align="center"),
            rx.text(message, color_scheme="gray", align="center"),
            _retrying(on_retry),
            align="center",
            spacing="4",
            role="alert",
        ),
        height="100%",
        padding="2rem",
    )
