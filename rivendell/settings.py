"""Rivendell's settings: one object, read from the environment, with defaults that just work.

Two URLs switch a machine from the embedded defaults to a fleet member: Reflex's own
``REFLEX_DB_URL`` (PostgreSQL instead of the SQLite file) and ``REFLEX_REDIS_URL``.
Everything else is ``RIVENDELL_*``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "get_settings", "sqlalchemy_url"]

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB_URL = f"sqlite:///{PROJECT_ROOT / 'data' / 'rivendell.db'}"


def sqlalchemy_url(url: str) -> str:
    """The SQLAlchemy form of a database URL: ``postgresql://`` means psycopg 3 here."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


class Settings(BaseSettings):
    """Every knob Rivendell reads, with its default."""

    model_config = SettingsConfigDict(env_prefix="RIVENDELL_", extra="ignore")

    database_url: str = Field(
        default=DEFAULT_DB_URL,
        validation_alias=AliasChoices("REFLEX_DB_URL", "RIVENDELL_DATABASE_URL"),
        description="SQLAlchemy URL of the database; the SQLite file under data/ by default.",
    )
    redis_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("REFLEX_REDIS_URL", "RIVENDELL_REDIS_URL"),
        description="Redis URL; unset means in-process state (one instance).",
    )
    presence_timeout_seconds: float = Field(
        default=12.0,
        gt=1,
        description="A participant whose browser has not been heard from for this long is offline.",
    )
    heartbeat_interval_ms: int = Field(
        default=4000, ge=500, description="How often an open room tells the server it is there."
    )
    interview_ttl_hours: float = Field(
        default=24.0, gt=0, description="An interview idle this long counts as expired."
    )

    executor: Literal["docker", "off"] = Field(
        default="docker",
        description="Where Run executes code: Docker sandboxes (when the engine is reachable "
        "through DOCKER_HOST or /var/run/docker.sock) or off.",
    )
    executor_pool_size: int = Field(
        default=2, ge=0, le=32, description="Started sandboxes kept waiting per runner image."
    )
    executor_instance: str = Field(
        default="rivendell",
        pattern=r"^[A-Za-z0-9_.-]+$",
        description="Labels this server's sandboxes; servers sharing a Docker engine need "
        "distinct names (a restart removes its own leftovers).",
    )

    @field_validator("database_url")
    @classmethod
    def _normalise_database_url(cls, url: str) -> str:
        return sqlalchemy_url(url)

    @property
    def is_sqlite(self) -> bool:
        """Whether the database is the embedded SQLite file."""
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
