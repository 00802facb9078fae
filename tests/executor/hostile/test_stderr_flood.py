"""Hostile program: a flood on stderr is capped on its own stream."""

from __future__ import annotations

import pytest

from rivendell.executor.base import Status
from tests.executor.sandbox import run_contained

pytestmark = pytest.mark.docker


CODE = 'import sys\nprint("fine", flush=True)\nwhile True:\n    sys.stderr.write("e" * 4096)\n'


async def test_stderr_flood(docker_client, executor) -> None:
    result = await run_contained(docker_client, executor, "python", CODE)
    assert result.status is Status.OUTPUT_LIMIT
    assert result.stderr_truncated
    assert not result.stdout_truncated
    assert result.stdout == "fine\n"
