"""TEMPORARY STUB until the Monaco component lands."""

import reflex as rx


def code_editor(value, document_key, language, read_only, on_change, **_):
    return rx.box(
        rx.text_area(default_value=value, on_blur=on_change, width="100%", height="100%"),
        role="region",
        aria_label="Code editor",
        height="100%",
    )
