"""A fleet for tests: two Rivendell instances sharing one PostgreSQL database and one Redis.

``fleet`` (session-scoped, so every module of ``tests/fleet`` and any other that asks shares one
pair of builds) is a :class:`Fleet`:

- ``fleet.a``, ``fleet.b``: the two instances (``tests.e2e.server.Server``: ``.url``, ``.log``,
  ``.log_text()``, ``.process``), production builds of their own (``own_build``) on two ports;
- ``fleet.database_url``: the fresh PostgreSQL database both use (``REFLEX_DB_URL``);
- ``fleet.redis_url``: logical database 7 of the Redis on 127.0.0.1:6379 (``REFLEX_REDIS_URL``),
  flushed when the fleet starts and when it stops. Reflex's keys (states, socket records) and
  Rivendell's (presence, rate limits, the cleanup lock, the collaboration relay) all live there;
  pub/sub channels are named after it (``rivendell:7:events``);
- ``fleet.workers``: the Granian workers per instance asked for, ``None`` for Reflex's default
  (2 x CPUs + 1, at most 8: five here). ``RIVENDELL_TEST_FLEET_WORKERS=1`` runs one worker per
  instance (lighter; it no longer tests delivery between workers of one instance);
- ``fleet.worker_pids(server)``: the worker processes an instance runs now;
- ``fleet.redis()``, ``fleet.redis_keys()``: a Redis client on the fleet's database, its keys.

The two URLs are the only fleet settings; the rest makes tests practical: ``ADMIN_TOKEN`` from
the API tests, rate limits out of the way, no warm sandbox pool (``RIVENDELL_EXECUTOR`` stays
``docker``: runs start a cold sandbox). :func:`start_fleet` starts another fleet with other
settings (``env``) or worker counts. The browser fixtures (``browser``, ``new_context``,
``page_of``) are the e2e tests'.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis

from tests.api.conftest import ADMIN_TOKEN
from tests.conftest import fresh_postgres_database, fresh_redis_database
from tests.e2e.conftest import browser, new_context, page_of
from tests.e2e.server import Server, start_server, stop_server

__all__ = ["Fleet", "browser", "fleet", "new_context", "page_of", "start_fleet"]

REDIS_DB = 7
WORKERS_VARIABLE = "RIVENDELL_TEST_FLEET_WORKERS"

TEST_SETTINGS = {
    "RIVENDELL_ADMIN_TOKEN": ADMIN_TOKEN,
    "RIVENDELL_RATE_CREATE_PER_MINUTE": "100000",
    "RIVENDELL_RATE_RUNS_PER_CLIENT_PER_MINUTE": "100000",
    "RIVENDELL_RATE_RUNS_PER_ROOM_PER_MINUTE": "100000",
    "RIVENDELL_EXECUTOR_POOL_SIZE": "0",
}


@dataclass
class Fleet:
    """Two running instances with the same ``REFLEX_DB_URL`` and ``REFLEX_REDIS_URL``."""

    a: Server
    b: Server
    database_url: str
    redis_url: str
    workers: int | None
    env: dict[str, str] = field(default_factory=dict)

    @property
    def servers(self) -> tuple[Server, Server]:
        return self.a, self.b

    def redis(self) -> redis.Redis:
        """A client on the fleet's Redis database (close it after use)."""
        return redis.Redis.from_url(self.redis_url)

    def redis_keys(self) -> set[str]:
        """Every key in the fleet's Redis database now."""
        client = self.redis()
        try:
            return {key.decode() for key in client.keys("*")}
        finally:
            client.close()

    @staticmethod
    def worker_pids(server: Server) -> list[int]:
        """The Granian workers of ``server``: the processes of its group that serve requests."""
        group = server.process.pid
        members: dict[int, int] = {}  # pid -> parent pid
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[2]) == group:
                members[int(entry.name)] = int(fields[1])
        # Workers are the leaves of the tree: the CLI starts the backend, which forks workers.
        return sorted(pid for pid in members if pid not in members.values() and pid != group)


@contextlib.contextmanager
def start_fleet(
    tmp: Path, *, workers: int | None = None, env: dict[str, str] | None = None
) -> Iterator[Fleet]:
    """Start two instances on a fresh PostgreSQL database and Redis database 7; stop both after.

    ``workers`` sets ``GRANIAN_WORKERS`` (None: Reflex's default); ``env`` adds or overrides
    settings of both instances. One fleet at a time: they share Redis database 7.
    """
    with (
        fresh_postgres_database() as database_url,
        fresh_redis_database(REDIS_DB) as redis_url,
        pytest.MonkeyPatch.context() as patch,
    ):
        patch.delenv("GRANIAN_WORKERS", raising=False)  # an inherited count is not the default
        settings = {
            **TEST_SETTINGS,
            "REFLEX_DB_URL": database_url,
            "REFLEX_REDIS_URL": redis_url,
            **({"GRANIAN_WORKERS": str(workers)} if workers is not None else {}),
            **(env or {}),
        }
        started: list[Server] = []
        try:
            for name in ("a", "b"):
                folder = tmp / name
                folder.mkdir()
                started.append(start_server(folder, settings, own_build=True))
            yield Fleet(started[0], started[1], database_url, redis_url, workers, settings)
        finally:
            for server in started:
                stop_server(server.process)


def _workers_wanted() -> int | None:
    value = os.environ.get(WORKERS_VARIABLE, "")
    return int(value) if value else None


@pytest.fixture(scope="session")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    """Two instances, one PostgreSQL database, one Redis database (see the module docstring)."""
    with start_fleet(tmp_path_factory.mktemp("fleet"), workers=_workers_wanted()) as running:
        yield running
