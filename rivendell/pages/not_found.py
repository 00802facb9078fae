"""The page for any address Rivendell does not know."""

from __future__ import annotations

import reflex as rx

from rivendell.layout import page_frame

__all__ = ["not_found_page"]


@page_frame
def not_found_page() -> rx.Component:
    """A clear dead end with a way back."""
    return rx.center(
        rx.vstack(
            rx.heading("Page not found", size="7", as_="h1"),
            rx.text(
                "Nothing lives at this address. Interview links look like /i/ followed by "
                "32 letters and digits.",
                color_scheme="gray",
            ),
            rx.link(rx.button("Create a new interview"), href="/"),
            align="center",
            spacing="4",
        ),
        height="100%",
        padding="2rem",
    )
