"""Hostile program: opening files until the descriptor limit says no."""

from __future__ import annotations

import pytest

from rivendell.executor.base import Status
from tests.executor.sandbox import run_contained

pytestmark = pytest.mark.docker


CODE = """
import errno, os
fds = []
try:
    while True:
        fds.append(os.open("/dev/null", os.O_RDONLY))
except OSError as error:
    print(errno.errorcode[error.errno], len(fds))
"""


async def test_fd_exhaustion(docker_client, executor) -> None:
    result = await run_contained(docker_client, executor, "python", CODE)
    assert result.status is Status.OK, result
    code, count = result.stdout.split()
    assert code == "EMFILE"
    assert int(count) < result.limits.open_files
