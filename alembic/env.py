"""Alembic's entry point: migrations run against Rivendell's configured database."""

from __future__ import annotations

from sqlmodel import SQLModel

import rivendell.models  # noqa: F401  (registers every table on SQLModel.metadata)
from alembic import context
from rivendell.db import get_engine

target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    """Run with the connection the app handed over, or a fresh one from the engine."""
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    with get_engine().begin() as fresh:
        _run(fresh)


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("Rivendell migrations run online only: alembic upgrade head")
run_migrations_online()
