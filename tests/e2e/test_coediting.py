"""Two people typing in one room at once: the shared editor, as a browser shows it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.server import Server, start_server, stop_server
from tests.e2e.test_room import create_interview, join

pytestmark = pytest.mark.browser

EDITOR_TEXT = "Object.values(window.__rivendellEditors)[0].editor.getValue()"


def text_of(page: Page) -> str:
    return page.evaluate(EDITOR_TEXT)


def synced(page: Page) -> None:
    expect(page.get_by_role("status", name="Connection")).to_have_text("Synced", timeout=10_000)


def focus_end(page: Page) -> None:
    page.get_by_role("region", name="Code editor").locator(".view-lines").click()
    page.keyboard.press("Control+End")


def test_two_people_type_at_once_and_see_each_other(
    server: Server, page_of: Callable[..., Page]
) -> None:
    host = page_of()
    url = create_interview(host, server, title="Pairing", name="Alex")
    guest = page_of()
    join(guest, url, "Sam")
    synced(host)
    synced(guest)
    seed = text_of(host)
    assert text_of(guest) == seed
    assert seed.startswith("def solve()")

    focus_end(host)
    host.keyboard.press("Enter")
    focus_end(guest)
    guest.keyboard.press("Enter")
    for round_ in range(4):
        host.keyboard.type(f"a{round_}é👩", delay=15)
        guest.keyboard.type(f"b{round_}漢\t", delay=15)
    host.wait_for_function(f"{EDITOR_TEXT}.includes('a3é👩') && {EDITOR_TEXT}.includes('b3漢')")
    guest.wait_for_function(f"{EDITOR_TEXT}.includes('a3é👩') && {EDITOR_TEXT}.includes('b3漢')")
    guest.wait_for_timeout(500)
    assert text_of(host) == text_of(guest)
    for round_ in range(4):
        assert text_of(host).count(f"a{round_}é👩") == 1
        assert text_of(host).count(f"b{round_}漢\t") == 1

    # Each sees the other's cursor, labelled with the other's name.
    expect(host.locator("[class*='yRemoteSelectionHead-']")).to_have_count(1)
    expect(guest.locator("[class*='yRemoteSelectionHead-']")).to_have_count(1)
    assert "Sam" in host.evaluate(
        "[...document.querySelectorAll('style')].map(s => s.textContent).join()"
    )
    assert "Alex" in guest.evaluate(
        "[...document.querySelectorAll('style')].map(s => s.textContent).join()"
    )

    # Undo takes back only your own typing.
    guest_text = "b0漢\tb1漢\tb2漢\tb3漢\t"
    host.keyboard.press("Control+z")
    host.wait_for_timeout(300)
    for _ in range(20):
        host.keyboard.press("Control+z")
    guest.wait_for_function(f"!{EDITOR_TEXT}.includes('a3é👩')")
    assert guest_text.replace("\t", "") in text_of(guest).replace("\t", "")
    assert "a0é👩" not in text_of(guest)
    assert text_of(guest) == text_of(host)


def test_the_code_survives_a_reload(server: Server, page_of: Callable[..., Page]) -> None:
    host = page_of()
    create_interview(host, server, title="Reload")
    synced(host)
    focus_end(host)
    host.keyboard.type("\n# kept after reload ✓")
    host.wait_for_timeout(1200)
    host.reload()
    synced(host)
    assert text_of(host).endswith("# kept after reload ✓")


def test_an_offline_editor_merges_its_edits_when_it_comes_back(
    server: Server, page_of: Callable[..., Page]
) -> None:
    host = page_of()
    url = create_interview(host, server, title="Offline")
    guest = page_of()
    join(guest, url, "Sam")
    synced(host)
    synced(guest)
    guest.context.set_offline(True)
    expect(guest.get_by_role("status", name="Connection")).not_to_have_text(
        "Synced", timeout=15_000
    )
    focus_end(guest)
    guest.keyboard.type("\n# written offline")
    focus_end(host)
    host.keyboard.type("\n# written online")
    guest.context.set_offline(False)
    synced(guest)
    for page in (host, guest):
        both = " && ".join(
            f"{EDITOR_TEXT}.includes('# written {w}')" for w in ("offline", "online")
        )
        page.wait_for_function(both)
    assert text_of(host) == text_of(guest)


def test_editors_reconnect_by_themselves_after_a_server_restart(
    tmp_path: Path, page_of: Callable[..., Page]
) -> None:
    database_url = f"sqlite:///{tmp_path / 'restart.db'}"
    # No sandbox pool: its containers starting with each server would only slow the restart.
    env = {"REFLEX_DB_URL": database_url, "RIVENDELL_EXECUTOR": "off"}
    server = start_server(tmp_path, env)
    port = int(server.url.rsplit(":", 1)[1])
    try:
        host = page_of()
        create_interview(host, server, title="Restart")
        synced(host)
        focus_end(host)
        host.keyboard.type("\n# before the restart")
        host.wait_for_timeout(1200)
        stop_server(server.process)
        expect(host.get_by_role("status", name="Connection")).not_to_have_text("Synced")
        server = start_server(tmp_path, env, port=port)
        synced(host)
        focus_end(host)
        host.keyboard.type("\n# after the restart")
        host.wait_for_timeout(1200)
        host.reload()
        synced(host)
        # The old page's last keystrokes may reach the server after the reloaded page synced:
        # they then arrive as a broadcast a moment later.
        host.wait_for_function(f"{EDITOR_TEXT}.endsWith('# after the restart')", timeout=10_000)
        assert "# before the restart" in text_of(host)
    finally:
        stop_server(server.process)
