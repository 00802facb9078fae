"""A bare pycrdt-websocket server, the baseline ``bench/collab.py`` compares Rivendell with.

The library's stock ``WebsocketServer`` behind its stock ``ASGIServer``: no admission, no
persistence, no limits. Its only option is pycrdt's own ``exception_logger``, so that one failing
room (the library raises on some mass disconnects) does not stop every room mid-benchmark. It is
served by Granian the way ``reflex run --env prod`` serves Rivendell: one worker, ASGI interface,
Granian's defaults otherwise. Benchmark-only: nothing in ``rivendell/`` imports it.

Run: ``python -m bench.bare_server --port 8765`` (rooms at ``ws://127.0.0.1:8765/<any path>``).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from typing import Any

from pycrdt.websocket import ASGIServer, WebsocketServer
from pycrdt.websocket.websocket_server import exception_logger

logger = logging.getLogger("bench.bare_server")

websocket_server = WebsocketServer(exception_handler=exception_logger, log=logger)
_asgi = ASGIServer(websocket_server)
_runner: asyncio.Task[Any] | None = None


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The ASGI app: the stock ``ASGIServer``, with the ``WebsocketServer`` started on lifespan
    startup (the stock ``ASGIServer`` only acknowledges lifespan messages)."""
    global _runner
    if scope["type"] != "lifespan":
        await _asgi(scope, receive, send)
        return
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            _runner = asyncio.get_running_loop().create_task(websocket_server.start())
            await websocket_server.started.wait()
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            if websocket_server.running:
                await websocket_server.stop()
            await send({"type": "lifespan.shutdown.complete"})
            return


def main() -> None:
    from granian.constants import Interfaces
    from granian.server import Server as Granian

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    # The same construction as reflex.utils.exec.run_granian_backend_prod (workers=1 without Redis).
    Granian(
        target="bench.bare_server:app",
        address=args.host,
        port=args.port,
        interface=Interfaces.ASGI,
        workers=1,
    ).serve()


if __name__ == "__main__":
    main()
