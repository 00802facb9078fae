"""Hostile program: a fork bomb meets the process limit and then the time limit."""

from __future__ import annotations

import pytest

from rivendell.executor.base import Status
from tests.executor.sandbox import run_contained

pytestmark = pytest.mark.docker


CODE = """
import os
while True:
    try:
        os.fork()
    except OSError:
        pass
"""


async def test_fork_bomb(docker_client, executor) -> None:
    result = await run_contained(docker_client, executor, "python", CODE)
    assert result.status is Status.TIMEOUT
