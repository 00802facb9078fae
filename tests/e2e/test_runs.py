"""Pressing Run in a room: the code runs in a real Docker sandbox and everyone sees the output."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.server import Server
from tests.e2e.test_browser_run import output, set_code
from tests.e2e.test_coediting import EDITOR_TEXT, focus_end, synced
from tests.e2e.test_room import create_interview, join

pytestmark = [pytest.mark.browser, pytest.mark.docker]


def test_a_run_shows_everyone_the_same_output_and_reads_the_program_input(
    server: Server, page_of: Callable[..., Page]
) -> None:
    host = page_of()
    url = create_interview(host, server, title="Runs", name="Alex")
    guest = page_of()
    join(guest, url, "Sam")
    synced(host)
    synced(guest)
    set_code(guest, "name = input()\nprint(f'hello {name} ✓')\n")
    host.wait_for_function(f"{EDITOR_TEXT}.includes('hello {{name}}')")

    guest.get_by_role("textbox", name="Program input").fill("Rivendell")
    guest.get_by_role("button", name="Run", exact=True).click()
    for page in (host, guest):
        expect(output(page).get_by_label("Standard output")).to_have_text(
            "hello Rivendell ✓", timeout=30_000
        )
        status = output(page).get_by_role("status", name="Run status")
        expect(status).to_contain_text("OK")
        expect(status).to_contain_text("Sam")
        expect(status).to_contain_text("exit code 0")

    # Ctrl+Enter in the editor runs too (and does not insert a line); a failing program's
    # stderr and exit code reach everyone.
    set_code(host, "import sys\nprint('to stderr', file=sys.stderr)\nsys.exit(3)\n")
    guest.wait_for_function(f"{EDITOR_TEXT}.includes('sys.exit(3)')")
    focus_end(host)
    host.keyboard.press("Control+Enter")
    for page in (host, guest):
        expect(output(page).get_by_label("Standard error")).to_have_text(
            "to stderr", timeout=30_000
        )
        expect(output(page).get_by_role("status", name="Run status")).to_contain_text("exit code 3")
    assert not host.evaluate(EDITOR_TEXT).endswith("\n\n")
    expect(output(guest).get_by_text("Run history (2)")).to_be_visible()


def test_while_one_run_goes_on_everyone_sees_it_and_nobody_starts_another(
    server: Server, page_of: Callable[..., Page]
) -> None:
    host = page_of()
    url = create_interview(host, server, title="Busy", name="Alex")
    guest = page_of()
    join(guest, url, "Sam")
    synced(host)
    synced(guest)
    set_code(host, "import time\ntime.sleep(2.5)\nprint('finished')\n")
    guest.wait_for_function(f"{EDITOR_TEXT}.includes('time.sleep(2.5)')")
    host.get_by_role("button", name="Run", exact=True).click()
    for page in (host, guest):
        status = output(page).get_by_role("status", name="Run status")
        expect(status).to_contain_text("Running…")
        expect(status).to_contain_text("Alex")
    expect(guest.get_by_role("button", name="Run", exact=True)).to_be_disabled()
    for page in (host, guest):
        expect(output(page).get_by_label("Standard output")).to_have_text(
            "finished", timeout=30_000
        )
    expect(guest.get_by_role("button", name="Run", exact=True)).to_be_enabled()
