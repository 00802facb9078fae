"""Hostile program: the internet, the host's PostgreSQL and Redis, and the Docker socket."""

from __future__ import annotations

import pytest

from rivendell.executor.base import Status
from tests.executor.sandbox import run_contained

pytestmark = pytest.mark.docker

CODE = """
import socket
targets = [("1.1.1.1", 53), ("deb.debian.org", 80), ("127.0.0.1", 5432), ("127.0.0.1", 6379),
           ("172.17.0.1", 5432), ("10.0.2.2", 6379)]
for host, port in targets:
    try:
        socket.create_connection((host, port), timeout=1).close()
        print("REACHED", host, port)
    except OSError:
        print("blocked", host, port)
for path in ("/var/run/docker.sock", "/run/docker.sock"):
    try:
        s = socket.socket(socket.AF_UNIX)
        s.connect(path)
        print("REACHED", path)
    except OSError:
        print("blocked", path)
"""


async def test_network_probes(docker_client, executor) -> None:
    result = await run_contained(docker_client, executor, "python", CODE)
    assert result.status is Status.OK, result
    assert "REACHED" not in result.stdout
    assert result.stdout.count("blocked") == 8
