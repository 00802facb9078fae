"""TEMPORARY STUB."""

import reflex as rx


def panel_group(*children, direction="horizontal", **_):
    return rx.flex(
        *children,
        direction="row" if direction == "horizontal" else "column",
        height="100%",
        width="100%",
    )


def panel(*children, default_size=50, min_size=10, **_):
    return rx.box(*children, flex=str(default_size), min_width="0", min_height="0", height="100%")


def resize_handle():
    return rx.box(width="4px", background="var(--gray-a5)")
