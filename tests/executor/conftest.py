"""Fixtures for the executor tests: a real Docker engine and an executor with its own label."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import docker
import pytest

from rivendell.executor.docker import DockerExecutor, remove_orphans
from tests.executor.sandbox import docker_client_or_skip


@pytest.fixture(scope="session")
def docker_client() -> docker.DockerClient:
    """The engine the executor uses (``DOCKER_HOST`` or the local socket)."""
    return docker_client_or_skip()


@pytest.fixture
async def executor(docker_client: docker.DockerClient) -> AsyncIterator[DockerExecutor]:
    """An executor with no warm pool (every run creates its container), labelled for this test."""
    instance = f"test-{uuid.uuid4().hex[:12]}"
    try:
        async with DockerExecutor(pool_size=0, instance=instance) as started:
            yield started
    finally:
        remove_orphans(instance=instance)
