"""Hostile program: endless output is cut at the cap with a visible marker and the run stopped."""

from __future__ import annotations

import pytest

from rivendell.executor.base import Status
from tests.executor.sandbox import run_contained

pytestmark = pytest.mark.docker


async def test_output_flood(docker_client, executor) -> None:
    result = await run_contained(
        docker_client, executor, "python", 'while True:\n    print("y" * 80)\n'
    )
    assert result.status is Status.OUTPUT_LIMIT
    assert result.stdout_truncated
    assert "output truncated" in result.stdout
    assert len(result.stdout.encode()) < result.limits.output_bytes + 100
