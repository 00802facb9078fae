"""Hostile program: a flood of parallel runs, some busy looping; all end clearly."""

from __future__ import annotations

import asyncio

import pytest

from rivendell.executor.base import RunRequest, Status
from tests.executor.sandbox import assert_nothing_left, run_contained

pytestmark = pytest.mark.docker


async def test_parallel_run_flood(docker_client, executor) -> None:
    hostile = [RunRequest(language="python", code="while True:\n    pass\n") for _ in range(3)]
    normal = [RunRequest(language="python", code='print("OK")') for _ in range(12)]
    results = await asyncio.gather(*(executor.run(r) for r in hostile + normal))
    for result in results[:3]:
        assert result.status is Status.TIMEOUT
    for result in results[3:]:
        assert (result.status, result.stdout) == (Status.OK, "OK\n")
    for result in results:
        await assert_nothing_left(docker_client, executor, result)
    await run_contained(docker_client, executor, "python", "print(1)")
