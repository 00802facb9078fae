"""The database: one engine per process, short sessions, and migrations applied at start.

An instance never exits or crash-loops over its database: ``watch`` (a lifespan task) waits for
it as long as it takes, migrates it, then keeps checking it. Meanwhile, and whenever it becomes
unreachable later, ``session`` raises ``DatabaseUnavailable``: the API answers 503, the pages
say the database is unreachable and retry, and ``outage`` tells them when it is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

import sqlalchemy
import sqlalchemy.exc
from alembic.config import Config
from sqlalchemy import event, text
from sqlmodel import Session, create_engine

from alembic import command
from rivendell.settings import PROJECT_ROOT, get_settings

__all__ = [
    "RETRY_AFTER_SECONDS",
    "DatabaseUnavailable",
    "get_engine",
    "migrate",
    "outage",
    "ping",
    "session",
    "wait_for_database",
    "watch",
]

logger = logging.getLogger(__name__)

# Any id works as long as every Rivendell instance uses the same one.
_MIGRATION_LOCK_ID = 0x52495645

CONNECT_TIMEOUT_SECONDS = 5
"""A connection attempt to a host that does not answer gives up after this long."""
RETRY_AFTER_SECONDS = 5
"""What a refused request is told to wait before trying again."""
WATCH_INTERVAL_SECONDS = 2.0
"""How often a running instance checks that its database answers."""
_WAIT_BACKOFF_SECONDS = (0.5, 1.0, 2.0, 5.0)
_STILL_WAITING_LOG_SECONDS = 30.0

UNREACHABLE: tuple[type[Exception], ...] = (
    sqlalchemy.exc.OperationalError,  # refused, reset, shut down, "starting up", locked (SQLite)
    sqlalchemy.exc.InterfaceError,  # a connection closed under the driver
    sqlalchemy.exc.TimeoutError,  # no pooled connection came free in time
)
"""The errors that mean "the database cannot be used right now", not "this request is wrong"."""


class DatabaseUnavailable(Exception):
    """The database cannot be used right now (unreachable, or not migrated yet): retry later.

    ``str()`` is for anyone; ``detail`` (the driver's words) is for operators and the logs.
    """

    def __init__(self, message: str, *, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail or message


# What this process last saw of its database; plain assignments, read from any thread.
_pending: str | None = None  # set while waiting to migrate: every session is refused then
_failure: str | None = None  # the last failure, until a query succeeds again
_failed_since: float | None = None


def outage() -> str | None:
    """Why the database cannot be used, as this process last saw it, or ``None`` when it can."""
    return _pending or _failure


def _driver_words(error: Exception) -> str:
    """The first line of what the driver said (SQLAlchemy's own text adds a link and the SQL)."""
    cause = getattr(error, "orig", None) or error
    lines = str(cause).strip().splitlines() or [""]
    return f"{type(cause).__name__}: {lines[0]}"[:300]


def _unavailable(error: Exception) -> DatabaseUnavailable:
    global _failure, _failed_since
    detail = _driver_words(error)
    if _failure is None:
        _failed_since = time.monotonic()
        logger.error("database unreachable: %s", detail)
    _failure = detail
    return DatabaseUnavailable("the database is unreachable; try again shortly", detail=detail)


def _recovered() -> None:
    global _failure, _failed_since
    if _failure is not None:
        down_for = time.monotonic() - (_failed_since or time.monotonic())
        logger.warning("database reachable again (after %.1f s)", down_for)
    _failure, _failed_since = None, None


@cache
def get_engine() -> sqlalchemy.Engine:
    """The process's engine for the configured database."""
    url = get_settings().database_url
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        if path and path != ":memory:":
            from pathlib import Path

            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 15})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            # WAL lets the room's readers go on while one request writes.
            cursor.execute("PRAGMA journal_mode=WAL")
            # In WAL mode this still survives a killed process; it skips an fsync per commit,
            # which only a power loss needs.
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    # pre_ping: a pooled connection that died with its server (a restart) is replaced on checkout
    # instead of failing the request that drew it.
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=5,
        max_overflow=10,
        connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS},
    )


@contextmanager
def session() -> Iterator[Session]:
    """A short-lived session; ``expire_on_commit`` is off so returned rows stay readable.

    Raises ``DatabaseUnavailable`` when the database cannot be reached (or is not migrated yet).
    """
    if _pending is not None:
        raise DatabaseUnavailable("the database is not ready yet; try again shortly")
    try:
        with Session(get_engine(), expire_on_commit=False) as db:
            yield db
    except UNREACHABLE as error:
        raise _unavailable(error) from error
    _recovered()


def _select_one() -> None:
    with get_engine().connect() as connection:
        connection.execute(text("SELECT 1"))


def ping() -> None:
    """Ask the database for ``SELECT 1``; ``DatabaseUnavailable`` unless it answers, migrated."""
    if _pending is not None:
        raise DatabaseUnavailable("the database is not ready yet", detail=_pending)
    try:
        _select_one()
    except UNREACHABLE as error:
        raise _unavailable(error) from error
    _recovered()


async def wait_for_database() -> None:
    """Return once the database answers, however long that takes (no deadline).

    An instance started before its database waits here instead of exiting, so an orchestrator
    never sees it crash-loop; the log says it is waiting every half minute.
    """
    started = last_log = time.monotonic()
    for attempt in itertools.count():
        try:
            await asyncio.to_thread(_select_one)
            return
        except UNREACHABLE as error:
            now = time.monotonic()
            if attempt == 0 or now - last_log >= _STILL_WAITING_LOG_SECONDS:
                last_log = now
                logger.warning(
                    "waiting for the database (%.0f s so far): %s",
                    now - started,
                    _driver_words(error),
                )
        await asyncio.sleep(_WAIT_BACKOFF_SECONDS[min(attempt, len(_WAIT_BACKOFF_SECONDS) - 1)])


async def watch(
    migrated: asyncio.Event | None = None, interval: float = WATCH_INTERVAL_SECONDS
) -> None:
    """Wait for the database, migrate it (then set ``migrated``), then keep ``outage()``
    current; runs until cancelled.

    Until the migration is done every session is refused with ``DatabaseUnavailable`` (the
    health check says so too), so nothing reads a schema that is not there yet.
    """
    global _pending
    _pending = "waiting for the database, then migrating it"
    try:
        while _pending is not None:
            await wait_for_database()
            try:
                await asyncio.to_thread(migrate)
            except UNREACHABLE:
                continue  # it went away again between the check and the migration
            except Exception as error:
                _pending = f"the migration failed ({type(error).__name__}); retrying"
                logger.exception("database migration failed; retrying in 30 s")
                await asyncio.sleep(30)
                continue
            _pending = None
        _recovered()
        if migrated is not None:
            migrated.set()
        while True:
            await asyncio.sleep(interval)
            # A failure is recorded by ping(): the pages and the health check read outage().
            with contextlib.suppress(DatabaseUnavailable):
                await asyncio.to_thread(ping)
    finally:
        _pending = None  # nobody is waiting to migrate any more: sessions go ahead


def _alembic_config() -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    return config


def migrate() -> None:
    """Bring the schema to the newest revision; safe when several instances start at once."""
    engine = get_engine()
    config = _alembic_config()
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:id)"), {"id": _MIGRATION_LOCK_ID})
            try:
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
                connection.commit()
            finally:
                connection.execute(
                    text("SELECT pg_advisory_unlock(:id)"), {"id": _MIGRATION_LOCK_ID}
                )
                connection.commit()
        return
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
