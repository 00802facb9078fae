"""The settings table of docs/deploy.md is generated from ``Settings`` and kept current."""

from __future__ import annotations

from pathlib import Path

import pytest

from rivendell.settings import Settings
from rivendell.settings_doc import BEGIN, END, environment_variables, settings_markdown
from tests.generated import generated_block

DEPLOY_DOC = Path(__file__).resolve().parents[1] / "docs" / "deploy.md"


def test_deploy_doc_settings_table_is_generated_from_settings() -> None:
    assert generated_block(DEPLOY_DOC, BEGIN, END) == settings_markdown(), (
        "docs/deploy.md settings table is stale: paste `python -m rivendell.settings_doc`"
    )


def test_every_setting_is_documented_under_the_variable_that_sets_it() -> None:
    for name, field in Settings.model_fields.items():
        assert field.description, name
        for variable in environment_variables(name, field):
            assert f"`{variable}`" in settings_markdown(), variable


def test_the_variables_shown_are_the_ones_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RIVENDELL_EXECUTOR_POOL_SIZE", "7")
    monkeypatch.setenv("REFLEX_REDIS_URL", "redis://example:6379/0")
    settings = Settings()
    assert settings.executor_pool_size == 7
    assert settings.redis_url == "redis://example:6379/0"
