"""Start and stop a production build of Rivendell on a free port (browser tests and benchmarks)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("RIVENDELL_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
BUILD_TIMEOUT = 420


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """A running Rivendell: its base URL and the log it wrote."""

    def __init__(
        self, url: str, log: Path, process: subprocess.Popen[bytes], database_url: str
    ) -> None:
        self.url = url
        self.log = log
        self.process = process
        self.database_url = database_url

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def start_server(
    tmp: Path, env_overrides: dict[str, str], port: int | None = None, *, own_build: bool = True
) -> Server:
    """Build and start the app the way ``make run`` does, on a port of its own.

    ``env_overrides`` must name the database (``REFLEX_DB_URL``). The build embeds the port, so
    each server builds into its own folder under ``tmp`` (``own_build``): a second server must
    not rewrite the frontend a first one is serving.
    """
    port = port or free_port()
    log = tmp / f"server-{port}.log"
    env = {
        **os.environ,
        "PATH": f"{ROOT / 'tools/node_modules/.bin'}:{ROOT / '.venv/bin'}:{os.environ['PATH']}",
        "REFLEX_USE_SYSTEM_BUN": "1",
        "REFLEX_TELEMETRY_ENABLED": "false",
        **({"REFLEX_WEB_WORKDIR": str(tmp / "web")} if own_build else {}),
        # A server removes its own instance's sandboxes when it starts: a label per port keeps
        # servers running side by side out of each other's pools (a restart on the same port
        # still cleans up after the server it replaces).
        "RIVENDELL_EXECUTOR_INSTANCE": f"test-{port}",
        **env_overrides,
    }
    process = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/reflex"),
            "run",
            "--env",
            "prod",
            "--single-port",
            "--backend-host",
            "127.0.0.1",
            "--backend-port",
            str(port),
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + BUILD_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{log.read_text(errors='replace')[-4000:]}")
        try:
            if (
                httpx.get(f"{url}/health", timeout=2).status_code == 200
                and httpx.get(url, timeout=5).status_code == 200
            ):
                return Server(url, log, process, env["REFLEX_DB_URL"])
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    stop_server(process)
    raise RuntimeError(
        f"server not up in {BUILD_TIMEOUT}s:\n{log.read_text(errors='replace')[-4000:]}"
    )


def stop_server(process: subprocess.Popen[bytes], *, kill: bool = False) -> None:
    """Stop the server: SIGTERM (a graceful shutdown) or, with ``kill``, SIGKILL at once."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL if kill else signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
