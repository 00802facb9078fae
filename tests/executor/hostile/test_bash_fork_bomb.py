"""Hostile program: the classic shell fork bomb, whose parent returns at once."""

from __future__ import annotations

import pytest

from rivendell.executor.base import Status
from tests.executor.sandbox import run_contained

pytestmark = pytest.mark.docker


async def test_bash_fork_bomb(docker_client, executor) -> None:
    result = await run_contained(docker_client, executor, "bash", ":(){ :|:& };:\nsleep 2\n")
    assert result.status in {Status.OK, Status.ERROR}
