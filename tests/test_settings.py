"""Settings: the admin token is required outside development; development makes one."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from rivendell.settings import Settings, get_admin_token, get_settings


@pytest.mark.parametrize("token", [None, "changeme", "short", "  admin  "])
def test_production_refuses_missing_or_placeholder_tokens(token: str | None) -> None:
    with pytest.raises(ValidationError, match="RIVENDELL_ADMIN_TOKEN"):
        Settings(environment="production", admin_token=token)


def test_production_takes_a_real_token() -> None:
    settings = Settings(environment="production", admin_token="x" * 32)
    assert settings.admin_token is not None


def test_development_generates_a_private_token_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RIVENDELL_ADMIN_TOKEN", raising=False)
    get_settings.cache_clear()
    get_admin_token.cache_clear()
    token_file = tmp_path / "data" / "admin-token"
    try:
        first = get_admin_token(token_file)
        get_admin_token.cache_clear()
        assert get_admin_token(token_file) == first
        assert len(first) >= 32
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    finally:
        get_admin_token.cache_clear()
        get_settings.cache_clear()
