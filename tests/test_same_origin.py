"""Production builds reach the backend at the page's own origin; development keeps Reflex's code."""

from __future__ import annotations

from pathlib import Path

import pytest
import reflex_base

from rivendell.same_origin import STATE_JS, same_origin_state_js

REFLEX_STATE_JS = (Path(reflex_base.__file__).parent / ".templates" / "web" / STATE_JS).read_text()


def test_the_installed_reflex_is_patched_once() -> None:
    patched = same_origin_state_js(REFLEX_STATE_JS, production=True)
    assert patched != REFLEX_STATE_JS
    assert "endpoint.port = window.location.port;" in patched
    assert 'endpoint.port = ""' not in patched
    assert same_origin_state_js(patched, production=True) == patched


def test_development_gets_reflexs_code_back() -> None:
    patched = same_origin_state_js(REFLEX_STATE_JS, production=True)
    assert same_origin_state_js(patched, production=False) == REFLEX_STATE_JS
    assert same_origin_state_js(REFLEX_STATE_JS, production=False) == REFLEX_STATE_JS


def test_an_unknown_reflex_fails_the_production_build() -> None:
    with pytest.raises(RuntimeError, match="getBackendURL"):
        same_origin_state_js("export const getBackendURL = () => 1;", production=True)
