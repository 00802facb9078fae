"""The client channel's bounds, with a stand-in for the ASGI connection."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from rivendell.collab.channel import ChannelClosed, ClientChannel, Limits


class Peer:
    """The ASGI side: frames the client sent, and what the server wrote back."""

    def __init__(self, frames: list[dict[str, Any]], *, stalled: bool = False) -> None:
        self.frames = list(frames)
        self.sent: list[dict[str, Any]] = []
        self.stalled = stalled

    async def receive(self) -> dict[str, Any]:
        if self.frames:
            return self.frames.pop(0)
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    async def send(self, message: dict[str, Any]) -> None:
        if self.stalled:
            await asyncio.sleep(3600)
        self.sent.append(message)


def binary(data: bytes) -> dict[str, Any]:
    return {"type": "websocket.receive", "bytes": data}


def channel(peer: Peer, **limits: Any) -> ClientChannel:
    return ClientChannel(peer.receive, peer.send, "/ws/collab/x", Limits(**limits))


async def test_messages_are_sent_in_order_then_the_close_frame() -> None:
    peer = Peer([])
    client = channel(peer)
    writer = asyncio.create_task(client.write_loop())
    await client.send(b"one")
    client.deliver(b"two")
    client.close(4401, "not a participant of this interview")
    await asyncio.sleep(0.05)
    assert len(peer.sent) == 2, "the close frame waits until the server allows it"
    client.may_send_close.set()
    await asyncio.wait_for(writer, 5)
    assert [m.get("bytes") for m in peer.sent[:2]] == [b"one", b"two"]
    assert peer.sent[2] == {
        "type": "websocket.close",
        "code": 4401,
        "reason": "not a participant of this interview",
    }


async def test_a_client_that_never_reads_is_closed_not_buffered_forever() -> None:
    peer = Peer([], stalled=True)
    client = channel(peer, max_queued_messages=100)
    writer = asyncio.create_task(client.write_loop())
    for _ in range(150):
        client.deliver(b"update")
    assert client.closed.is_set()
    assert client.close_code == 1008
    assert "too slow" in client.close_reason
    writer.cancel()


async def test_queued_bytes_are_bounded_too() -> None:
    client = channel(Peer([], stalled=True), max_queued_bytes=1000)
    client.deliver(b"x" * 600)
    assert not client.closed.is_set()
    client.deliver(b"x" * 600)
    assert client.close_code == 1008


@pytest.mark.parametrize(
    ("frame", "code", "reason"),
    [
        ({"type": "websocket.receive", "text": "hello"}, 1008, "text frames"),
        (binary(b"x" * 2048), 1009, "message too big"),
    ],
)
async def test_bad_frames_close_with_a_reason(
    frame: dict[str, Any], code: int, reason: str
) -> None:
    client = channel(Peer([frame]), max_frame_bytes=1024)
    with pytest.raises(ChannelClosed):
        await client.recv()
    assert client.close_code == code
    assert reason in client.close_reason


async def test_a_flood_is_closed_after_its_burst() -> None:
    client = channel(
        Peer([binary(b"\x01") for _ in range(100)]),
        max_messages_per_second=10,
        burst_seconds=2,
    )
    received = [message async for message in client]
    assert 19 <= len(received) <= 21
    assert client.close_code == 1008


async def test_the_screen_refuses_before_the_room_sees_the_message() -> None:
    client = channel(Peer([binary(b"\x00\x02big")]))
    client.screen = lambda data: (1009, "the document is full") if data.endswith(b"big") else None
    with pytest.raises(ChannelClosed):
        await client.recv()
    assert (client.close_code, client.close_reason) == (1009, "the document is full")


async def test_iteration_ends_when_the_peer_disconnects() -> None:
    client = channel(Peer([binary(b"\x00\x00\x01a"), {"type": "websocket.disconnect"}]))
    assert [m async for m in client] == [b"\x00\x00\x01a"]
    assert client.closed.is_set()
