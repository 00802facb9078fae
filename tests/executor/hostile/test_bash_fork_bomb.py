"""Hostile program: the classic shell fork bomb, whose parent returns at once."""

from __future__ import annotations

import pytest

from rivendell.executor.base import Status
from tests.executor.sandbox import run_contained

pytestmark = pytest.mark.docker


async def test_bash_fork_bomb(docker_client, executor) -> None:
    result = await run_contained(docker_client, executor, "bash", ":(){ :|:& };:\nsleep 2\n")
    # The process limit is what stops the bomb: bash reports each fork it refused.
    assert "Resource temporarily unavailable" in result.stderr
    # Then either the shell gets its `sleep` forked and ends, or bash's retries (1, 2, 4, 8 s
    # apart while the bomb still holds every process slot) outlast the wall limit: both are
    # a contained run, and run_contained checked that nothing of it is left.
    assert result.status in {Status.OK, Status.ERROR, Status.TIMEOUT}
