"""Hostile program: C that includes /dev/zero; the compiler hits a limit, not the host."""

from __future__ import annotations

import pytest

from rivendell.executor.base import Status
from tests.executor.sandbox import run_contained

pytestmark = pytest.mark.docker


async def test_compile_bomb_c(docker_client, executor) -> None:
    code = "#include </dev/zero>\nint main(void) { return 0; }\n"
    result = await run_contained(docker_client, executor, "c", code)
    assert result.status in {Status.MEMORY_LIMIT, Status.TIMEOUT, Status.COMPILE_ERROR}
