"""Hostile program: no secret of the server in the environment or in /proc."""

from __future__ import annotations

import pytest

from rivendell.executor.base import Status
from tests.executor.sandbox import run_contained

pytestmark = pytest.mark.docker

CODE = """
import os
print("env", repr(open("/proc/self/environ").read()))
for path in ("/proc/1/environ", "/proc/1/mem", "/proc/1/fd/0"):
    try:
        open(path, "rb").read(1)
        print("READ", path)
    except OSError as error:
        print("denied", path, type(error).__name__)
print("pids", len([p for p in os.listdir("/proc") if p.isdigit()]))
"""


async def test_env_and_proc_snooping(docker_client, executor, monkeypatch) -> None:
    monkeypatch.setenv("RIVENDELL_TEST_SECRET", "hunter2-secret")
    result = await run_contained(docker_client, executor, "python", CODE)
    assert result.status is Status.OK, result
    assert "hunter2" not in result.stdout
    assert "env ''" in result.stdout
    assert "READ" not in result.stdout
    # Only the launcher and the program itself: no process of the host or of another sandbox.
    assert "pids 2\n" in result.stdout
