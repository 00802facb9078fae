"""Hostile program: creating files until the tmpfs has no inodes left."""

from __future__ import annotations

import pytest

from rivendell.executor.base import Status
from tests.executor.sandbox import run_contained

pytestmark = pytest.mark.docker


CODE = """
import errno, os
count = 0
try:
    while True:
        os.close(os.open(f"/tmp/f{count}", os.O_CREAT | os.O_WRONLY))
        count += 1
except OSError as error:
    print(errno.errorcode[error.errno], count)
"""


async def test_inode_fill(docker_client, executor) -> None:
    result = await run_contained(docker_client, executor, "python", CODE)
    assert result.status is Status.OK, result
    code, count = result.stdout.split()
    assert code == "ENOSPC"
    assert int(count) <= result.limits.tmp_inodes
