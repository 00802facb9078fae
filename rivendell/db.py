"""The database: one engine per process, short sessions, and migrations applied at start."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

import sqlalchemy
from alembic.config import Config
from sqlalchemy import event, text
from sqlmodel import Session, create_engine

from alembic import command
from rivendell.settings import PROJECT_ROOT, get_settings

__all__ = ["get_engine", "migrate", "session", "wait_for_database"]

logger = logging.getLogger(__name__)

# Any id works as long as every Rivendell instance uses the same one.
_MIGRATION_LOCK_ID = 0x52495645


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
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


@contextmanager
def session() -> Iterator[Session]:
    """A short-lived session; ``expire_on_commit`` is off so returned rows stay readable."""
    with Session(get_engine(), expire_on_commit=False) as db:
        yield db


def wait_for_database(timeout: float = 30.0) -> None:
    """Block until the database answers, so a starting instance never crash-loops on it."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with get_engine().connect() as connection:
                connection.execute(text("SELECT 1"))
            return
        except sqlalchemy.exc.OperationalError as error:
            if time.monotonic() > deadline:
                raise
            logger.warning("database not reachable yet (%s); retrying", error.__class__.__name__)
            time.sleep(1)


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
