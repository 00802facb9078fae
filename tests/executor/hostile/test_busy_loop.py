"""Hostile program: a busy loop stops at the CPU time limit."""

from __future__ import annotations

import pytest

from rivendell.executor.base import Status
from tests.executor.sandbox import run_contained

pytestmark = pytest.mark.docker


async def test_busy_loop(docker_client, executor) -> None:
    result = await run_contained(docker_client, executor, "python", "while True:\n    pass\n")
    assert result.status is Status.TIMEOUT
    assert "CPU" in result.message
