"""A real Yjs client for tests: pycrdt's ``Provider`` over a ``websockets`` connection."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass

from pycrdt import Doc, Provider, Text
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

CODE = "code"


class SocketChannel:
    """pycrdt's ``Channel`` over a ``websockets`` client connection."""

    def __init__(self, socket: ClientConnection, path: str) -> None:
        self.socket = socket
        self._path = path

    @property
    def path(self) -> str:
        return self._path

    def __aiter__(self) -> SocketChannel:
        return self

    async def __anext__(self) -> bytes:
        try:
            return await self.recv()
        except ConnectionClosed:
            raise StopAsyncIteration from None

    async def send(self, message: bytes) -> None:
        with suppress(ConnectionClosed):
            await self.socket.send(message)

    async def recv(self) -> bytes:
        message = await self.socket.recv()
        return message if isinstance(message, bytes) else message.encode()


@dataclass
class Client:
    """One connected replica."""

    doc: Doc
    text: Text
    provider: Provider
    socket: ClientConnection

    def value(self) -> str:
        return str(self.text)


def collab_url(base_http_url: str, interview_id: str, token: str) -> str:
    return f"{base_http_url.replace('http', 'ws', 1)}/ws/collab/{interview_id}?token={token}"


@asynccontextmanager
async def yjs_client(
    base_url: str, interview_id: str, token: str, *, sync_timeout: float = 10
) -> AsyncIterator[Client]:
    """A synced replica of the room's document, disconnected on exit."""
    url = collab_url(base_url, interview_id, token)
    async with connect(url, max_size=None) as socket:
        doc: Doc = Doc()
        text = doc.get(CODE, type=Text)
        async with Provider(doc, SocketChannel(socket, url)) as provider:
            await asyncio.wait_for(provider.synced.wait(), sync_timeout)
            yield Client(doc, text, provider, socket)


def byte_offset(text: str, index: int) -> int:
    """pycrdt addresses text by UTF-8 byte offset, never by Python index."""
    return len(text[:index].encode("utf-8"))


async def settle(clients: list[Client], within: float = 10) -> None:
    """Wait until every replica holds the same text."""
    deadline = asyncio.get_running_loop().time() + within
    while len({c.value() for c in clients}) > 1:
        if asyncio.get_running_loop().time() > deadline:
            values = [c.value()[:80] for c in clients]
            raise AssertionError(f"replicas did not converge: {values}")
        await asyncio.sleep(0.05)
