"""Hostile program: one enormous line with no newline is capped like any output."""

from __future__ import annotations

import pytest

from rivendell.executor.base import Status
from tests.executor.sandbox import run_contained

pytestmark = pytest.mark.docker


CODE = 'import sys\nsys.stdout.write("x" * 50_000_000)\n'


async def test_huge_line(docker_client, executor) -> None:
    result = await run_contained(docker_client, executor, "python", CODE)
    assert result.status is Status.OUTPUT_LIMIT
    assert result.stdout.startswith("x" * 1000)
    assert "output truncated" in result.stdout
