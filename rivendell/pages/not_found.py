"""The page for any address Rivendell does not know."""

from __future__ import annotations

import reflex as rx

from rivendell.layout import dead_end, page_frame

__all__ = ["not_found_page"]


@page_frame
def not_found_page() -> rx.Component:
    """A clear dead end with a way back."""
    return dead_end(
        "Page not found",
        "Nothing lives at this address. Interview links look like /i/ followed by "
        "32 letters and digits.",
    )
