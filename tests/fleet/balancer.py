"""A round-robin TCP load balancer for the fleet tests, like a plain one in front of a fleet.

Each new WebSocket connection goes to the next backend that accepts it (a dead one is skipped),
and is piped both ways until either side closes. Each kind of socket (its path's first segment:
Reflex's ``/_event``, ``/ws/collab``…) takes turns of its own, so two pages opened one after the
other have their sockets of each kind on different instances. Plain HTTP requests (the page and
its assets) go to the first backend that accepts them: a fleet runs one image, so every instance
serves the same bundle, but the test instances are two separate builds whose asset names differ. It
records, per connection, the backend it went to and the request line, so a test can tell which
instance serves which socket, and it can be pinned to one backend (``pinned``) so that a page
opened meanwhile lives on that instance.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
from dataclasses import dataclass, field


@dataclass
class Routed:
    """One connection: the backend index it went to and its first request line."""

    backend: int
    request_line: str


@dataclass
class RoundRobin:
    """Listen on 127.0.0.1:``port`` and spread connections over ``backends`` (ports)."""

    port: int
    backends: list[int]
    routed: list[Routed] = field(default_factory=list)
    pinned: int | None = None

    def __post_init__(self) -> None:
        self._turns: dict[bytes, itertools.count[int]] = {}
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> RoundRobin:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the load balancer did not start")
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(
            asyncio.start_server(self._handle, "127.0.0.1", self.port)
        )
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            server.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.read(65536)
        socket = b"\r\nupgrade: websocket" in head.lower()
        kind = head.split(b" ", 2)[1].split(b"/")[1] if head.count(b" ") >= 2 else b""
        turn = self._turns.setdefault(kind, itertools.count())
        for attempt in range(len(self.backends)):
            if self.pinned is not None:
                index = (self.pinned + attempt) % len(self.backends)
            else:
                index = next(turn) % len(self.backends) if socket else attempt
            try:
                upstream = await asyncio.wait_for(
                    asyncio.open_connection("127.0.0.1", self.backends[index]), 2
                )
            except (OSError, TimeoutError):
                continue
            routed = Routed(index, head.split(b"\r\n", 1)[0].decode("latin-1"))
            self.routed.append(routed)
            upstream[1].write(head)
            await self._pipe(reader, writer, *upstream)
            return
        writer.close()

    async def _pipe(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        up_reader: asyncio.StreamReader,
        up_writer: asyncio.StreamWriter,
    ) -> None:
        async def copy(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, ConnectionError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            with contextlib.suppress(OSError, ConnectionError):
                sink.close()

        await asyncio.gather(copy(reader, up_writer), copy(up_reader, writer))
