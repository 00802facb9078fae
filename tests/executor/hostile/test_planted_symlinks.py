"""Hostile program: symlinks planted where a harness would write; nothing writes after it."""

from __future__ import annotations

from pathlib import Path

import pytest

from rivendell.executor.base import Status
from tests.executor.sandbox import run_contained

pytestmark = pytest.mark.docker

CODE = """
import os
for target, link in [("/etc/passwd", "/tmp/run/output"), ("/etc/shadow", "/tmp/.stdin.new"),
                     ("/", "/tmp/run/out"), ("/etc/passwd", "/tmp/result.json")]:
    try:
        os.symlink(target, link)
    except OSError as error:
        print(type(error).__name__, link)
print("planted")
"""


def host_passwd() -> bytes:
    return Path("/etc/passwd").read_bytes()


async def test_planted_symlinks(docker_client, executor) -> None:
    before = host_passwd()
    result = await run_contained(docker_client, executor, "python", CODE)
    assert result.status is Status.OK
    assert result.stdout.endswith("planted\n")
    assert host_passwd() == before
