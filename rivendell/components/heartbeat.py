"""TEMPORARY STUB."""

import reflex as rx


def heartbeat(interval_ms, on_beat):
    return rx.fragment()
