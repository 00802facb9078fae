"""deploy/nginx.conf in a real nginx: valid, round-robin, failover, WebSockets on the three paths.

nginx is Debian's, in an image built here on the local base (no registry needed); compose runs
the official image of a newer nginx, which reads this file the same way. Two small servers on
the host stand in for the app instances: each answers ``GET /who`` with its name and echoes on
WebSockets. For the live tests the config's upstream addresses and its port are rewritten to
the host's; nothing else of it changes.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import threading
import time
import uuid
from collections.abc import Iterator
from http import HTTPStatus
from pathlib import Path

import docker
import httpx
import pytest
from docker.models.containers import Container
from websockets.http11 import Request, Response
from websockets.sync.client import connect
from websockets.sync.server import Server, ServerConnection, serve

from tests.deploy.test_compose import APPS, SOCKET_PATHS
from tests.e2e.server import free_port
from tests.executor.sandbox import docker_client_or_skip

pytestmark = pytest.mark.docker

CONF = Path(__file__).resolve().parents[2] / "deploy" / "nginx.conf"
IMAGE = "rivendell-test-nginx:bookworm"
BASE = os.environ.get("RIVENDELL_TEST_NGINX_BASE", "rivendell-base:bookworm")
DOCKERFILE = f"""FROM {BASE}
RUN apt-get update \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nginx-light \\
 && rm -rf /var/lib/apt/lists/* /etc/nginx/sites-enabled/*
"""
UP_TIMEOUT = 30


@pytest.fixture(scope="module")
def docker_client() -> docker.DockerClient:
    return docker_client_or_skip()


@pytest.fixture(scope="module")
def nginx_image(docker_client: docker.DockerClient) -> str:
    """Debian's nginx on the local base, built once."""
    with contextlib.suppress(docker.errors.ImageNotFound):
        docker_client.images.get(IMAGE)
        return IMAGE
    docker_client.images.build(
        fileobj=io.BytesIO(DOCKERFILE.encode()), tag=IMAGE, network_mode="host", rm=True
    )
    return IMAGE


def run_nginx(
    client: docker.DockerClient, image: str, conf: Path, command: str, **options: object
) -> Container:
    return client.containers.run(
        image,
        ["sh", "-c", command],
        name=f"rivendell-test-lb-{uuid.uuid4().hex[:8]}",
        detach=True,
        volumes={str(conf): {"bind": "/etc/nginx/conf.d/default.conf", "mode": "ro"}},
        **options,
    )


def test_nginx_accepts_the_config(docker_client: docker.DockerClient, nginx_image: str) -> None:
    checked = run_nginx(
        docker_client,
        nginx_image,
        CONF,
        "nginx -t",
        network_mode="none",
        extra_hosts={app: "127.0.0.1" for app in APPS},
    )
    try:
        result = checked.wait(timeout=60)
        output = checked.logs().decode(errors="replace")
    finally:
        checked.remove(force=True)
    assert result["StatusCode"] == 0, output


class Instance:
    """A stand-in app instance: ``GET /who`` answers its name; WebSockets echo."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.port = free_port()
        self.server: Server | None = None

    def start(self) -> None:
        self.server = serve(
            self._echo, "127.0.0.1", self.port, process_request=self._plain, compression=None
        )
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server = None

    def _plain(self, connection: ServerConnection, request: Request) -> Response | None:
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return None
        return connection.respond(HTTPStatus.OK, f"{self.name}\n")

    def _echo(self, connection: ServerConnection) -> None:
        path = connection.request.path if connection.request else ""
        for message in connection:
            connection.send(f"{self.name} {path} {message}")


@pytest.fixture
def balancer(
    docker_client: docker.DockerClient, nginx_image: str, tmp_path: Path
) -> Iterator[tuple[str, list[Instance]]]:
    """nginx with this config on a free host port, in front of two stand-in instances."""
    instances = [Instance(app) for app in APPS]
    for instance in instances:
        instance.start()
    port = free_port()
    conf = CONF.read_text()
    for instance in instances:
        conf, found = re.subn(
            rf"server {instance.name}:8000", f"server 127.0.0.1:{instance.port}", conf
        )
        assert found == 1, instance.name
    conf, found = re.subn(r"listen 80;", f"listen 127.0.0.1:{port};", conf)
    assert found == 1
    (tmp_path / "default.conf").write_text(conf)
    lb = run_nginx(
        docker_client,
        nginx_image,
        tmp_path / "default.conf",
        "exec nginx -g 'daemon off;'",
        network_mode="host",
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + UP_TIMEOUT
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/lb-health", timeout=2).status_code == 200:
                    break
            time.sleep(0.2)
        else:
            pytest.fail(f"nginx did not answer:\n{lb.logs().decode(errors='replace')}")
        yield url, instances
    finally:
        lb.remove(force=True)
        for instance in instances:
            instance.stop()


def who(url: str, times: int) -> list[str]:
    with httpx.Client(timeout=5) as client:
        return [client.get(f"{url}/who").text.strip() for _ in range(times)]


def test_requests_go_round_robin_to_every_instance(
    balancer: tuple[str, list[Instance]],
) -> None:
    url, _ = balancer
    answered = who(url, 10)
    assert answered.count(APPS[0]) == answered.count(APPS[1]) == 5, answered


def test_a_stopped_instance_is_passed_over(balancer: tuple[str, list[Instance]]) -> None:
    url, instances = balancer
    instances[0].stop()
    assert who(url, 10) == [APPS[1]] * 10


@pytest.mark.parametrize("path", SOCKET_PATHS)
def test_websockets_are_upgraded_on_every_socket_path(
    balancer: tuple[str, list[Instance]], path: str
) -> None:
    url, _ = balancer
    target = url.replace("http://", "ws://") + path + ("" if path.endswith("/") else "/") + "x"
    with connect(target, open_timeout=10) as socket:
        socket.send("ping")
        name, echoed_path, message = str(socket.recv(timeout=10)).split(" ")
    assert name in APPS
    assert echoed_path.startswith(path)
    assert message == "ping"
