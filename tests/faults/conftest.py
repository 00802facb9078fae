"""Fault tests: each module starts its own PostgreSQL cluster or Redis server, so it can stop and
start them under a running app without disturbing the machine's shared servers.

The browser fixtures (``browser``, ``page_of``) are the e2e ones.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import TypeVar

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import browser, new_context, page_of
from tests.e2e.server import Server
from tests.e2e.test_room import create_interview, join, participant
from tests.faults.services import PostgresCluster, RedisServer

__all__ = ["browser", "new_context", "page_of", "poll", "two_in_a_room"]

T = TypeVar("T")

DEADLINE_SECONDS = 90.0
"""How long a fault test waits for something that should happen by itself (never asserted)."""


def poll(check: Callable[[], T | None], what: str, deadline: float = DEADLINE_SECONDS) -> T:
    """Call ``check`` until it returns something truthy (returned); fail after ``deadline``."""
    give_up = time.monotonic() + deadline
    last: object = None
    while True:
        try:
            if result := check():
                return result
        except Exception as error:  # not there yet: a refused connection, a 503, a timeout
            last = error
        if time.monotonic() > give_up:
            pytest.fail(f"{what}: not after {deadline:.0f} s (last error: {last!r})")
        time.sleep(0.5)


def two_in_a_room(
    page_of: Callable[..., Page], server: Server, title: str
) -> tuple[Page, Page, str]:
    """An interviewer (Alex) and a candidate (Sam) in a new room: their pages and its URL."""
    host = page_of()
    url = create_interview(host, server, title=title)
    guest = page_of()
    join(guest, url, "Sam")
    # Generous: this only sets the scene, on a machine other suites may be keeping busy.
    expect(participant(host, "Sam", "candidate", "online")).to_be_visible(timeout=30_000)
    return host, guest, url


@pytest.fixture(scope="module")
def postgres_cluster() -> Iterator[PostgresCluster]:
    """A PostgreSQL cluster of this module's own, initialised but not started."""
    cluster = PostgresCluster()
    try:
        yield cluster
    finally:
        cluster.remove()


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A redis-server of this module's own, started."""
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server
    finally:
        server.stop()
