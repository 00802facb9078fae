"""Migrations on SQLite and PostgreSQL: they build exactly the schema the models describe."""

from __future__ import annotations

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
