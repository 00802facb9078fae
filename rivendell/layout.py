"""The frame every page shares: a slim header with the brand and the colour-mode switch."""

from __future__ import annotations

import functools
from collections.abc import Callable

import reflex as rx

__all__ = ["dead_end", "page_frame"]


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


def dead_end(heading: str, message: str) -> rx.Component:
    """A full-page message with a way back to the start."""
    return rx.center(
        rx.vstack(
            rx.heading(heading, size="7", as_="h1"),
            rx.text(message, color_scheme="gray", align="center"),
            rx.link(rx.button("Create a new interview"), href="/"),
            align="center",
            spacing="4",
        ),
        height="100%",
        padding="2rem",
    )
