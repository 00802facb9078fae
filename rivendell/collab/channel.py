"""One browser's collaboration socket, as the Yjs room sees it: bounded in every direction.

The room writes to a client without waiting (a queue per client), so a client that never reads
cannot stall the room: past a bound it is closed. What a client sends is bounded too (frame size,
messages and bytes per second); a client over a bound is closed with a code and a reason.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from starlette.types import Receive, Send

__all__ = ["ChannelClosed", "ClientChannel", "Limits"]

logger = logging.getLogger(__name__)


# WebSocket close codes: RFC 6455 where one fits, 4xxx (application) for refusals.
CLOSE_NORMAL = 1000
CLOSE_POLICY = 1008
CLOSE_TOO_BIG = 1009
CLOSE_INTERNAL = 1011


@dataclass(frozen=True, slots=True)
class Limits:
    """What one client may send and how far behind it may fall."""

    max_frame_bytes: int = 1024 * 1024
    max_messages_per_second: float = 200.0
    max_bytes_per_second: float = 2 * 1024 * 1024
    burst_seconds: float = 2.0
    max_queued_messages: int = 2000
    max_queued_bytes: int = 16 * 1024 * 1024


class ChannelClosed(Exception):
    """The client is gone or was closed; the room stops serving it."""


class _Bucket:
    """A token bucket: ``rate`` per second, up to ``rate * burst_seconds`` at once."""

    def __init__(self, rate: float, burst_seconds: float) -> None:
        self.rate = rate
        self.capacity = rate * burst_seconds
        self.tokens = self.capacity
        self.stamp = time.monotonic()

    def take(self, amount: float) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < amount:
            return False
        self.tokens -= amount
        return True


class ClientChannel:
    """The pycrdt ``Channel`` for one ASGI websocket (``path``, ``send``, ``recv``, iteration)."""

    def __init__(self, receive: Receive, send: Send, path: str, limits: Limits) -> None:
        self._receive = receive
        self._send = send
        self._path = path
        self.limits = limits
        self._queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._queued_bytes = 0
        self._messages = _Bucket(limits.max_messages_per_second, limits.burst_seconds)
        self._bytes = _Bucket(limits.max_bytes_per_second, limits.burst_seconds)
        self.closed = asyncio.Event()
        # The close frame waits for this: the server first lets a flooding client fall quiet,
        # or the transport resets the connection and the client never reads the reason.
        self.may_send_close = asyncio.Event()
        # Set by the server: why a message must not reach the room, as (close code, reason).
        # ``False``: the message is dropped, the socket stays open.
        self.screen: Callable[[bytes], tuple[int, str] | Literal[False] | None] = lambda _message: (
            None
        )
        self.peer_gone = False
        self.close_code: int | None = None
        self.close_reason = ""

    @property
    def path(self) -> str:
        """The room path, for pycrdt's logs."""
        return self._path

    async def send(self, message: bytes) -> None:
        """Queue ``message`` for the client (pycrdt's ``Channel.send``)."""
        self.deliver(message)

    def deliver(self, message: bytes) -> None:
        """Queue ``message`` for the client; never waits on the network."""
        if self.closed.is_set():
            return
        limits = self.limits
        if (
            self._queue.qsize() >= limits.max_queued_messages
            or self._queued_bytes + len(message) > limits.max_queued_bytes
        ):
            self.close(CLOSE_POLICY, "client too slow: it is not reading its messages")
            return
        self._queued_bytes += len(message)
        self._queue.put_nowait(message)

    def close(self, code: int, reason: str) -> None:
        """Close the socket with ``code`` and ``reason`` once what is queued before it is sent."""
        if self.closed.is_set():
            return
        self.close_code, self.close_reason = code, reason[:120]
        self.closed.set()
        self._queue.put_nowait(None)
        if code != CLOSE_NORMAL:
            logger.info("collab %s: closing a client (%s %s)", self._path, code, reason)

    async def write_loop(self) -> None:
        """Send queued messages in order; then the close frame."""
        try:
            while True:
                message = await self._queue.get()
                if message is None:
                    break
                self._queued_bytes -= len(message)
                await self._send({"type": "websocket.send", "bytes": message})
            await self.may_send_close.wait()
            await self._send(
                {
                    "type": "websocket.close",
                    "code": self.close_code or CLOSE_NORMAL,
                    "reason": self.close_reason,
                }
            )
        except (OSError, RuntimeError):
            # The peer vanished mid-send: nothing left to tell it.
            self.closed.set()

    def __aiter__(self) -> ClientChannel:
        return self

    async def __anext__(self) -> bytes:
        try:
            return await self.recv()
        except ChannelClosed:
            raise StopAsyncIteration from None

    async def recv(self) -> bytes:
        """The next binary frame from the client, within the limits."""
        while True:
            if self.closed.is_set():
                raise ChannelClosed
            # After close() the server finishes the closing handshake, and the peer's
            # disconnect (or the transport timing out) ends this wait.
            event = await self._receive()
            kind = event.get("type")
            if kind == "websocket.disconnect":
                self.peer_gone = True
                self.closed.set()
                self._queue.put_nowait(None)
                raise ChannelClosed
            if kind != "websocket.receive":
                continue
            data = event.get("bytes")
            if data is None:
                self.close(CLOSE_POLICY, "text frames are not part of the Yjs protocol")
                raise ChannelClosed
            if len(data) > self.limits.max_frame_bytes:
                self.close(
                    CLOSE_TOO_BIG, f"message too big (limit {self.limits.max_frame_bytes} bytes)"
                )
                raise ChannelClosed
            if not self._messages.take(1) or not self._bytes.take(len(data)):
                self.close(CLOSE_POLICY, "too many messages: slow down")
                raise ChannelClosed
            if not data:
                continue
            if (refusal := self.screen(data)) is False:
                continue
            if refusal is not None:
                self.close(*refusal)
                raise ChannelClosed
            return data
