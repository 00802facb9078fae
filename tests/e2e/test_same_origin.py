"""Behind a proxy on another port, the pages open every socket on the proxy's origin.

The build bakes the server's own port into the frontend; a load balancer on another port must
still get all the traffic (``rivendell/same_origin.py``). A plain TCP relay stands in for it.
"""

from __future__ import annotations

import contextlib
import socket
import socketserver
import threading
import time
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.server import Server
from tests.e2e.test_room import create_interview

pytestmark = pytest.mark.browser


def _pipe(source: socket.socket, target: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while data := source.recv(65536):
            target.sendall(data)
    with contextlib.suppress(OSError):
        target.shutdown(socket.SHUT_WR)


class _Relay(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, target: tuple[str, int]) -> None:
        super().__init__(("127.0.0.1", 0), _Connection)
        self.target = target


class _Connection(socketserver.BaseRequestHandler):
    server: _Relay

    def handle(self) -> None:
        with socket.create_connection(self.server.target) as upstream:
            back = threading.Thread(target=_pipe, args=(upstream, self.request), daemon=True)
            back.start()
            _pipe(self.request, upstream)
            back.join()


@pytest.fixture
def relay(server: Server) -> Iterator[str]:
    """A TCP relay on another port to the running server: the balancer's stand-in."""
    target = urlsplit(server.url)
    with _Relay((target.hostname or "127.0.0.1", target.port or 80)) as relayed:
        thread = threading.Thread(target=relayed.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{relayed.server_address[1]}"
        finally:
            relayed.shutdown()


def test_sockets_use_the_origin_the_page_came_from(
    relay: str, server: Server, page_of: Callable[..., Page]
) -> None:
    page = page_of()
    sockets: list[str] = []
    page.on("websocket", lambda opened: sockets.append(opened.url))
    create_interview(page, SimpleNamespace(url=relay))  # type: ignore[arg-type]
    expect(page.get_by_role("list", name="Participants")).to_be_visible()
    deadline = time.monotonic() + 15
    while not any("/ws/collab/" in url for url in sockets) and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert urlsplit(relay).port != urlsplit(server.url).port
    paths = {urlsplit(url).path.rstrip("/") for url in sockets}
    assert {"/_event"} <= paths
    assert any(path.startswith("/ws/collab/") for path in paths), sockets
    for url in sockets:
        assert urlsplit(url).netloc == urlsplit(relay).netloc, url
