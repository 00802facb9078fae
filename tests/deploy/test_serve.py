"""scripts/serve.py: the health probe the image runs, and its refusal to serve no build."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts import serve
from tests.e2e.server import free_port


class _Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/health" else 404)
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def health_server() -> Iterator[int]:
    server = http.server.HTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def test_check_passes_when_health_answers(health_server: int) -> None:
    assert serve.check(health_server) == 0


def test_check_fails_when_nothing_listens(capsys: pytest.CaptureFixture[str]) -> None:
    assert serve.check(free_port()) == 1
    assert "/health" in capsys.readouterr().err


def test_serve_refuses_a_checkout_without_a_frontend_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REFLEX_WEB_WORKDIR", str(tmp_path / "web"))
    with pytest.raises(SystemExit, match="no frontend build"):
        serve.serve("127.0.0.1", free_port())
