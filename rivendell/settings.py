"""Rivendell's settings: one object, read from the environment, with defaults that just work.

Two URLs switch a machine from the embedded defaults to a fleet member: Reflex's own
``REFLEX_DB_URL`` (PostgreSQL instead of the SQLite file) and ``REFLEX_REDIS_URL``.
Everything else is ``RIVENDELL_*``.
"""

from __future__ import annotations

import logging
import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal, Self

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "get_admin_token", "get_settings", "sqlalchemy_url"]

logger = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB_URL = f"sqlite:///{PROJECT_ROOT / 'data' / 'rivendell.db'}"
DEFAULT_ADMIN_TOKEN_FILE = PROJECT_ROOT / "data" / "admin-token"
# Values people paste from examples; outside development they are refused like no token at all.
PLACEHOLDER_ADMIN_TOKENS = frozenset({"changeme", "change-me", "admin", "secret", "token", "xxx"})
MIN_ADMIN_TOKEN_CHARS = 16


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

    environment: Literal["development", "production"] = Field(
        default="development",
        description="production refuses to start without a real admin token.",
    )
    admin_token: SecretStr | None = Field(
        default=None,
        description="Bearer token of the admin page and the API's admin calls. Unset in "
        "development: one is generated into data/admin-token. Required in production.",
    )
    cleanup_interval_seconds: float = Field(
        default=300.0, gt=0, description="How often the cleanup task looks for idle interviews."
    )
    ended_retention_hours: float = Field(
        default=1.0,
        ge=0,
        description="An ended interview stays readable (admin page, API) this long, then the "
        "cleanup deletes it.",
    )
    rate_create_per_minute: int = Field(
        default=20, ge=1, description="Interviews one client may create per minute."
    )
    rate_runs_per_client_per_minute: int = Field(
        default=30, ge=1, description="Runs one client may start per minute (all rooms)."
    )
    rate_runs_per_room_per_minute: int = Field(
        default=20, ge=1, description="Runs one room may start per minute (everyone in it)."
    )

    @model_validator(mode="after")
    def _admin_token_outside_development(self) -> Self:
        if self.environment == "development":
            return self
        token = self.admin_token.get_secret_value() if self.admin_token else ""
        if token.strip().lower() in PLACEHOLDER_ADMIN_TOKENS or len(token) < MIN_ADMIN_TOKEN_CHARS:
            raise ValueError(
                "RIVENDELL_ADMIN_TOKEN must be set to a secret of at least "
                f"{MIN_ADMIN_TOKEN_CHARS} characters when RIVENDELL_ENVIRONMENT=production "
                "(e.g. python3 -c 'import secrets; print(secrets.token_urlsafe(32))')"
            )
        return self

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


@lru_cache
def get_admin_token(token_file: Path = DEFAULT_ADMIN_TOKEN_FILE) -> str:
    """The admin token: ``RIVENDELL_ADMIN_TOKEN``, or in development the one in ``token_file``.

    A development server without a configured token makes one on first start and keeps it in
    ``data/admin-token`` (readable by its owner only), so ``make run`` needs no set-up and the
    token survives restarts. Production never gets here without a configured one.
    """
    configured = get_settings().admin_token
    if configured is not None and configured.get_secret_value():
        return configured.get_secret_value()
    if token_file.exists() and (stored := token_file.read_text().strip()):
        return stored
    token_file.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    descriptor = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(token + "\n")
    logger.warning("development admin token generated in %s", token_file)
    return token
