"""Hostile program: filling /tmp ends with ENOSPC at the tmpfs cap; the root is read-only."""

from __future__ import annotations

import pytest

from rivendell.executor.base import Status
from tests.executor.sandbox import run_contained

pytestmark = pytest.mark.docker


CODE = """
import errno
try:
    open("/usr/evil", "w")
except OSError as error:
    print("root", errno.errorcode[error.errno])
written = 0
try:
    with open("/tmp/fill", "wb") as f:
        while True:
            f.write(b"\\\\0" * 2**20)
            f.flush()
            written += 1
except OSError as error:
    print("tmp", errno.errorcode[error.errno], written)
"""


async def test_disk_fill(docker_client, executor) -> None:
    result = await run_contained(docker_client, executor, "python", CODE)
    assert result.status is Status.OK, result
    lines = result.stdout.split("\n")
    assert lines[0] in {"root EROFS", "root EACCES"}
    name, code, mib = lines[1].split()
    assert (name, code) == ("tmp", "ENOSPC")
    assert int(mib) <= result.limits.tmp_bytes // 2**20
