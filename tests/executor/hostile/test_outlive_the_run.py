"""Hostile program: a double fork and setsid do not let a process outlive the run."""

from __future__ import annotations

import pytest

from rivendell.executor.base import Status
from tests.executor.sandbox import run_contained

pytestmark = pytest.mark.docker

CODE = """
import os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        time.sleep(3)
        print("STILL ALIVE", flush=True)
        os._exit(0)
    os._exit(0)
print("parent done")
"""


async def test_outlive_the_run(docker_client, executor) -> None:
    result = await run_contained(docker_client, executor, "python", CODE)
    assert result.status is Status.OK
    assert result.stdout == "parent done\n"
