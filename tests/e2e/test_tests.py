"""Test cases in the room: the interviewer adds them, the candidate runs them, both see results,
and nothing of a hidden case ever reaches the candidate's browser."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.frames import record_frames
from tests.e2e.server import Server
from tests.e2e.test_browser_run import output, set_code
from tests.e2e.test_coediting import EDITOR_TEXT, synced
from tests.e2e.test_room import create_interview, join

pytestmark = [pytest.mark.browser, pytest.mark.docker]

SECRET_IN = "31337 11111"
SECRET_OUT = "42448"
SECRETS = ("31337", "11111", SECRET_OUT, "secret edge")
SOLUTION = "a, b = map(int, input().split())\nprint(a + b)\n"


def case_panel(page: Page):
    return page.get_by_role("region", name="Test cases")


def add_case(page: Page, name: str, stdin: str, expected: str, *, hidden: bool = False) -> None:
    region = case_panel(page)
    region.get_by_role("button", name="Add test case").click()
    region.get_by_role("textbox", name="Test case name").fill(name)
    region.get_by_role("textbox", name="Test case input").fill(stdin)
    region.get_by_role("textbox", name="Expected output").fill(expected)
    if hidden:
        region.get_by_role("checkbox", name="Hidden from the candidate").click()
    region.get_by_role("button", name="Save test case").click()
    expect(region.get_by_role("button", name="Save test case")).to_have_count(0)


def result(page: Page, label: str):
    return (
        case_panel(page)
        .get_by_role("list", name="Test case results")
        .get_by_role("listitem", name=label)
    )


def test_hidden_and_visible_cases_run_for_everyone_and_hidden_ones_stay_hidden(
    server: Server, page_of: Callable[..., Page]
) -> None:
    host = page_of()
    url = create_interview(host, server, title="Sums", name="Alex")
    guest = page_of()
    frames = record_frames(guest)
    join(guest, url, "Sam")
    synced(host)
    synced(guest)

    add_case(host, "adds", "2 3", "5")
    add_case(host, "secret edge", SECRET_IN, SECRET_OUT, hidden=True)
    add_case(host, "wrong on purpose", "1 1", "3")
    cases = case_panel(guest).get_by_role("list", name="Test cases")
    expect(cases.get_by_role("listitem")).to_have_count(3)
    expect(cases.get_by_role("listitem", name="Hidden case 2")).to_be_visible()
    expect(cases.get_by_role("listitem", name="adds")).to_be_visible()

    set_code(guest, SOLUTION)
    host.wait_for_function(f"{EDITOR_TEXT}.includes('print(a + b)')")
    case_panel(guest).get_by_role("button", name="Run tests").click()
    for page in (host, guest):
        expect(case_panel(page).get_by_role("status", name="Test results")).to_contain_text(
            "2/3 passed", timeout=60_000
        )
        expect(result(page, "adds: passed")).to_be_visible()
        expect(result(page, "wrong on purpose: failed")).to_be_visible()
    expect(result(guest, "Hidden case 2: passed")).to_be_visible()
    expect(result(host, "secret edge: passed")).to_be_visible()

    # The interviewer sees everything of the hidden case; the candidate the visible cases'
    # input, expected and actual output, on demand, and how each ran.
    result(host, "secret edge: passed").locator("summary").first.click()
    expect(result(host, "secret edge: passed").get_by_label("Input")).to_have_text(SECRET_IN)
    wrong = result(guest, "wrong on purpose: failed")
    wrong.locator("summary").first.click()
    expect(wrong.get_by_label("Expected output")).to_have_text("3")
    expect(wrong.get_by_label("Actual output")).to_have_text("2")
    wrong.get_by_text("How it ran").click()
    receipt = wrong.get_by_label("Run receipt")
    expect(receipt).to_contain_text(re.compile(r"Digest: +sha256:[0-9a-f]{64}"))
    expect(receipt).to_contain_text(re.compile(r"CPU time: +\d+ ms"))
    expect(receipt).to_contain_text(re.compile(r"Peak memory: +[\d.]+ MiB"))
    # A hidden result cannot be opened by the candidate.
    expect(result(guest, "Hidden case 2: passed").locator("summary")).to_have_count(0)
    # The room's own output is not a test's: nobody pressed Run.
    expect(output(guest)).to_contain_text("Press Run")

    page_text = guest.content()
    assert not [secret for secret in SECRETS if secret in page_text]
    assert any("Hidden case 2" in frame for frame in frames), "no state frame was recorded"
    leaked = [s for s in SECRETS for frame in frames if s in frame]
    assert not leaked, f"the candidate's socket carried {sorted(set(leaked))}"
