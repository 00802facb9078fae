"""The interviewer's toolkit across two instances: notes reach the interviewers on the other
instance (and no candidate), and the controls reach every browser wherever it is served."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.frames import record_frames
from tests.e2e.test_browser_run import set_code
from tests.e2e.test_coediting import EDITOR_TEXT, synced, text_of
from tests.e2e.test_room import create_interview, join
from tests.e2e.test_toolkit import notes
from tests.fleet.conftest import Fleet
from tests.fleet.test_room import on

pytestmark = [pytest.mark.browser, pytest.mark.postgres]


def test_notes_and_controls_cross_instances(fleet: Fleet, page_of: Callable[..., Page]) -> None:
    host = page_of()
    url = create_interview(host, fleet.a, title="Fleet toolkit")
    host.get_by_role("button", name="Invite an interviewer").click()
    link = host.evaluate("navigator.clipboard.readText()")
    second = page_of()
    second.goto(on(fleet.b, link))
    second.get_by_role("textbox", name="Your name").fill("Robin")
    second.get_by_role("button", name="Join interview").click()
    guest = page_of()
    frames = record_frames(guest)
    join(guest, on(fleet.b, url), "Sam")
    for page in (host, second, guest):
        synced(page)
    set_code(host, "x = 1\n")
    guest.wait_for_function(f"{EDITOR_TEXT} === 'x = 1\\n'")

    notes(host).get_by_role("textbox", name="Private note").fill("FLEET-SECRET on A")
    notes(host).get_by_role("button", name="Add note").click()
    expect(notes(second).get_by_role("listitem", name="Note")).to_contain_text("FLEET-SECRET on A")

    host.get_by_role("switch", name="Lock editor").click()
    expect(guest.get_by_role("status", name="Editor status")).to_have_text(
        "Editor locked by the interviewer"
    )
    guest.get_by_role("region", name="Code editor").locator(".view-lines").click()
    guest.keyboard.press("Control+End")
    guest.keyboard.type("candidate typed")
    second.get_by_role("region", name="Code editor").locator(".view-lines").click()
    second.keyboard.press("Control+End")
    second.keyboard.type("y = 2")
    host.wait_for_function(f"{EDITOR_TEXT}.includes('y = 2')")
    assert "candidate typed" not in text_of(host)

    second.get_by_role("switch", name="Disable Run").click()
    expect(guest.get_by_text("Run is disabled by the interviewer")).to_be_visible()
    assert not any("FLEET-SECRET" in frame for frame in frames)
    assert "FLEET-SECRET" not in guest.content()
