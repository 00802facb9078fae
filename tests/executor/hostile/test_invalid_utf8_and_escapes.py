"""Hostile program: invalid UTF-8 and terminal escapes come back as inert text."""

from __future__ import annotations

import pytest

from rivendell.executor.base import Status
from tests.executor.sandbox import run_contained

pytestmark = pytest.mark.docker


CODE = r"""
import sys
sys.stdout.buffer.write(b"\xff\xfe bad \x1b[2J\x1b]0;owned\x07 \x1b[31mred\x1b[0m\n")
"""


async def test_invalid_utf8_and_escapes(docker_client, executor) -> None:
    result = await run_contained(docker_client, executor, "python", CODE)
    assert result.status is Status.OK
    assert result.stdout.startswith("\ufffd\ufffd bad ")
    assert "\x1b[31mred" in result.stdout
