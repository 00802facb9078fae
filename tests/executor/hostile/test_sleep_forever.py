"""Hostile program: a program that never ends stops at the wall time limit."""

from __future__ import annotations

import pytest

from rivendell.executor.base import Status
from tests.executor.sandbox import run_contained

pytestmark = pytest.mark.docker


async def test_sleep_forever(docker_client, executor) -> None:
    result = await run_contained(
        docker_client, executor, "python", "import time\ntime.sleep(10**6)\n"
    )
    assert result.status is Status.TIMEOUT
    assert result.signal == 9
