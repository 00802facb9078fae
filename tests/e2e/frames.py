"""What a browser page receives over its WebSockets: the privacy tests read every frame."""

from __future__ import annotations

from playwright.sync_api import Page, WebSocket


def record_frames(page: Page) -> list[str]:
    """Every WebSocket frame ``page`` receives from now on (call it before ``goto``), as text."""
    frames: list[str] = []

    def watch(socket: WebSocket) -> None:
        def received(payload: str | bytes) -> None:
            text = payload if isinstance(payload, str) else payload.decode("utf-8", "replace")
            frames.append(text)

        socket.on("framereceived", received)

    page.on("websocket", watch)
    return frames
