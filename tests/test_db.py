"""Migrations on SQLite and PostgreSQL: they build exactly the schema the models describe."""

from __future__ import annotations

import asyncio
import contextlib
import threading

import pytest
import sqlalchemy
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from rivendell import db as database


def test_migrate_creates_every_table_and_matches_the_models(migrated: str) -> None:
    engine = database.get_engine()
    tables = set(sqlalchemy.inspect(engine).get_table_names())
    assert {"interview", "participant", "alembic_version"} <= tables
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []


def test_migrate_is_idempotent(migrated: str) -> None:
    database.migrate()
    with database.get_engine().connect() as connection:
        versions = connection.execute(sqlalchemy.text("SELECT version_num FROM alembic_version"))
        assert len(versions.all()) == 1


@pytest.mark.postgres
def test_instances_starting_together_migrate_once(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import _reset_caches

    monkeypatch.setenv("REFLEX_DB_URL", postgres_url)
    _reset_caches()
    errors: list[BaseException] = []

    def start() -> None:
        try:
            database.migrate()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert "interview" in sqlalchemy.inspect(database.get_engine()).get_table_names()
    database.get_engine().dispose()
    _reset_caches()


def test_an_unreachable_database_raises_database_unavailable(unreachable: str) -> None:
    with pytest.raises(database.DatabaseUnavailable) as raised, database.session() as db:
        db.exec(sqlalchemy.text("SELECT 1"))
    assert "unreachable" in str(raised.value)
    assert "127.0.0.1" not in str(raised.value)  # the driver's words are for operators only
    assert "OperationalError" in raised.value.detail
    assert database.outage() == raised.value.detail
    with pytest.raises(database.DatabaseUnavailable):
        database.ping()


async def test_watch_waits_for_the_database_without_a_deadline(unreachable: str) -> None:
    watching = asyncio.create_task(database.watch())
    try:
        await asyncio.sleep(3)  # several attempts: it keeps waiting and refuses sessions meanwhile
        assert not watching.done()
        assert database.outage() is not None
        with pytest.raises(database.DatabaseUnavailable), database.session():
            pass
    finally:
        watching.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watching


async def test_watch_migrates_once_the_database_answers(configured: str) -> None:
    migrated = asyncio.Event()
    watching = asyncio.create_task(database.watch(migrated, interval=0.1))
    try:
        await asyncio.wait_for(migrated.wait(), timeout=120)
        assert database.outage() is None
        tables = await asyncio.to_thread(
            lambda: sqlalchemy.inspect(database.get_engine()).get_table_names()
        )
        assert "interview" in tables
        with database.session() as db:
            assert db.exec(sqlalchemy.text("SELECT 1")).one() == (1,)
    finally:
        watching.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watching
