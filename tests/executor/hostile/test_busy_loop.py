"""Hostile program: a busy loop stops at the CPU time limit."""

from __future__ import annotations

import dataclasses

import pytest

from rivendell.executor.base import Status
from rivendell.executor.languages import languages
from tests.executor.sandbox import run_contained

pytestmark = pytest.mark.docker


async def test_busy_loop(docker_client, executor, monkeypatch: pytest.MonkeyPatch) -> None:
    # On a loaded machine the loop gets less than a core, and a 10 s wall limit could stop it
    # before it used 5 s of CPU: with a generous wall limit, only the CPU limit can.
    python = languages()["python"]
    generous = dataclasses.replace(python.limits, wall_seconds=120.0)
    monkeypatch.setitem(languages(), "python", dataclasses.replace(python, limits=generous))
    result = await run_contained(docker_client, executor, "python", "while True:\n    pass\n")
    assert result.status is Status.TIMEOUT
    assert "CPU" in result.message
