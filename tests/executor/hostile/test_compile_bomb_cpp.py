"""Hostile program: runaway C++ template instantiation ends within the compile limits."""

from __future__ import annotations

import pytest

from rivendell.executor.base import Status
from tests.executor.sandbox import run_contained

pytestmark = pytest.mark.docker

CODE = """
template <int N> struct Boom { static const int value = Boom<N + 1>::value + Boom<N + 2>::value; };
int main() { return Boom<0>::value; }
"""


async def test_compile_bomb_cpp(docker_client, executor) -> None:
    result = await run_contained(docker_client, executor, "cpp", CODE)
    assert result.status in {Status.COMPILE_ERROR, Status.MEMORY_LIMIT, Status.TIMEOUT}
