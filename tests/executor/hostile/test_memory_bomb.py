"""Hostile program: allocating far past the memory limit is an OOM kill, reported as such."""

from __future__ import annotations

import pytest

from rivendell.executor.base import Status
from tests.executor.sandbox import run_contained

pytestmark = pytest.mark.docker


CODE = """
chunks = []
while True:
    chunks.append(bytearray(16 * 2**20))
"""


async def test_memory_bomb(docker_client, executor) -> None:
    result = await run_contained(docker_client, executor, "python", CODE)
    assert result.status is Status.MEMORY_LIMIT
    assert "memory" in result.message
