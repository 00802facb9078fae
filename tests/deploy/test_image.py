"""The app image starts on its own: healthy, serving pages and /health, as a non-root user.

``make image`` builds it (a no-op when nothing changed); the container runs on the host network
on a free port with the embedded defaults (SQLite inside the container, no Redis).
"""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import docker
import httpx
import pytest
from docker.models.containers import Container

from tests.e2e.server import free_port
from tests.executor.sandbox import docker_client_or_skip

pytestmark = pytest.mark.docker

ROOT = Path(__file__).resolve().parents[2]
IMAGE = "rivendell-app:latest"
BUILD_TIMEOUT = 3600
HEALTHY_TIMEOUT = 300


@pytest.fixture(scope="module")
def image(docker_client: docker.DockerClient) -> str:
    """The app image, built from this checkout by ``make image`` (cached layers when current)."""
    built = subprocess.run(
        ["make", "image", f"APP_IMAGE={IMAGE}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
        check=False,
    )
    assert built.returncode == 0, built.stdout[-4000:] + built.stderr[-4000:]
    return IMAGE


@pytest.fixture(scope="module")
def docker_client() -> docker.DockerClient:
    return docker_client_or_skip()


def wait_healthy(container: Container) -> str:
    """Docker's verdict once it has one (``healthy``, or ``unhealthy``/``exited`` on failure)."""
    deadline = time.monotonic() + HEALTHY_TIMEOUT
    while time.monotonic() < deadline:
        container.reload()
        state = container.attrs["State"]
        if state["Status"] != "running":
            return state["Status"]
        status = state.get("Health", {}).get("Status", "none")
        if status in {"healthy", "unhealthy"}:
            return status
        time.sleep(1)
    return "still starting"


@pytest.fixture(scope="module")
def running(docker_client: docker.DockerClient, image: str) -> Iterator[tuple[Container, str]]:
    """The image started with its defaults on a free port of the host network."""
    port = free_port()
    container = docker_client.containers.run(
        image,
        name=f"rivendell-test-app-{uuid.uuid4().hex[:8]}",
        detach=True,
        network_mode="host",
        environment={"HOST": "127.0.0.1", "PORT": str(port), "RIVENDELL_EXECUTOR": "off"},
    )
    try:
        status = wait_healthy(container)
        logs = container.logs(tail=80).decode(errors="replace")
        assert status == "healthy", f"container {status}:\n{logs}"
        yield container, f"http://127.0.0.1:{port}"
    finally:
        container.remove(force=True)


def test_health_and_the_built_pages_are_served(running: tuple[Container, str]) -> None:
    _, url = running
    health = httpx.get(f"{url}/health", timeout=10)
    assert health.status_code == 200
    assert health.json() == {"status": "ok"}
    page = httpx.get(url, timeout=10)
    assert page.status_code == 200
    assert "<html" in page.text.lower()
    assert httpx.get(f"{url}/api/v1/health", timeout=10).json()["status"] == "up"


def test_it_runs_as_a_non_root_user(running: tuple[Container, str]) -> None:
    container, _ = running
    assert container.attrs["Config"]["User"] not in {"", "0", "root"}
    # Docker needs the pid column to tell the container's processes apart.
    processes = container.top(ps_args="-o pid,uid,args")["Processes"]
    assert processes
    for _pid, uid, command in processes:
        assert uid != "0", command


def test_one_server_process_serves(running: tuple[Container, str]) -> None:
    """Granian's supervisor and exactly one worker (GRANIAN_WORKERS=1), whatever the CPUs."""
    container, _ = running
    processes = container.top(ps_args="-o pid,ppid,args")["Processes"]
    servers = {
        pid: ppid
        for pid, ppid, command in processes
        if "scripts.serve" in command and "--check" not in command
    }
    supervisors = [pid for pid, ppid in servers.items() if ppid not in servers]
    assert len(supervisors) == 1, processes
    workers = [pid for pid, ppid in servers.items() if ppid == supervisors[0]]
    assert len(workers) == 1, processes
