"""Hostile program: threads until the process limit refuses more."""

from __future__ import annotations

import pytest

from rivendell.executor.base import Status
from tests.executor.sandbox import run_contained

pytestmark = pytest.mark.docker


CODE = """
import threading, time
count = 0
try:
    while True:
        threading.Thread(target=time.sleep, args=(30,), daemon=True).start()
        count += 1
except RuntimeError:
    print(count)
"""


async def test_thread_bomb(docker_client, executor) -> None:
    result = await run_contained(docker_client, executor, "python", CODE)
    assert result.status is Status.OK
    assert int(result.stdout) < result.limits.processes
