"""The interviewer's toolkit in two browsers: private notes pinned to code, the room's controls,
the interviewer link, and an ended room."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session

from rivendell.models import Interview
from tests.e2e.frames import record_frames
from tests.e2e.server import Server
from tests.e2e.test_browser_run import set_code
from tests.e2e.test_coediting import EDITOR_TEXT, synced, text_of
from tests.e2e.test_room import create_interview, join, participant

pytestmark = pytest.mark.browser

SECRET = "SECRET-NOTE-7f3a loops twice over the list"
CODE = "def solve(xs):\n    seen = set()\n    return [x for x in xs if x in seen]\n\nprint(1)\n"
EDITOR = "Object.values(window.__rivendellEditors)[0]"
# The lines the interviewer's editor marks as pinned, and their text.
PINNED_LINES = f"""(() => {{
  const {{ editor }} = {EDITOR};
  const model = editor.getModel();
  const lines = new Set();
  for (const d of model.getAllDecorations()) {{
    if (d.options.className !== "rivendell-note-line") continue;
    for (let n = d.range.startLineNumber; n <= d.range.endLineNumber; n++) lines.add(n);
  }}
  return [...lines].sort((a, b) => a - b).map((n) => model.getLineContent(n));
}})()"""


def select_lines(page: Page, first: int, last: int) -> None:
    page.evaluate(
        f"([a, b]) => {EDITOR}.editor.setSelection("
        "{startLineNumber: a, startColumn: 1, endLineNumber: b, endColumn: 3})",
        [first, last],
    )


def notes(page: Page):
    return page.get_by_role("region", name="Private notes")


def test_a_pinned_note_stays_private_and_on_its_code(
    server: Server, page_of: Callable[..., Page], server_db: Session
) -> None:
    host = page_of()
    url = create_interview(host, server, title="Notes")
    guest = page_of()
    frames = record_frames(guest)
    join(guest, url, "Sam")
    synced(host)
    synced(guest)
    set_code(host, CODE)
    guest.wait_for_function(f"{EDITOR_TEXT}.includes('seen = set()')")
    expect(notes(guest)).to_have_count(0)

    select_lines(host, 2, 3)
    notes(host).get_by_role("textbox", name="Private note").fill(SECRET)
    notes(host).get_by_role("button", name="Add note").click()
    row = notes(host).get_by_role("listitem", name="Note")
    expect(row).to_contain_text("SECRET-NOTE-7f3a")
    expect(row.get_by_label("Pinned to")).to_have_text("lines 2\u20133")
    host.wait_for_function(f"{PINNED_LINES}.length === 2")
    assert host.evaluate(PINNED_LINES) == CODE.split("\n")[1:3]
    notes(host).get_by_role("button", name="Hint given").click()
    expect(notes(host).get_by_role("listitem", name="Hint")).to_contain_text("Hint given")

    # The candidate writes lines above the pinned code: the note follows its code.
    guest.get_by_role("region", name="Code editor").locator(".view-lines").click()
    guest.keyboard.press("Control+Home")
    guest.keyboard.type("import sys\n# two lines above\n")
    host.wait_for_function(f"{EDITOR_TEXT}.startsWith('import sys')")
    expect(row.get_by_label("Pinned to")).to_have_text("lines 4\u20135")
    host.wait_for_function(f"{PINNED_LINES}[0] === {CODE.split(chr(10))[1]!r}")
    assert host.evaluate(PINNED_LINES) == CODE.split("\n")[1:3]

    # A reloaded interviewer gets the notes back; the candidate never got a byte of them.
    host.reload()
    expect(notes(host).get_by_role("listitem", name="Note")).to_contain_text("SECRET-NOTE-7f3a")
    guest.wait_for_timeout(1000)
    key = server_db.get(Interview, url.rsplit("/", 1)[1])
    assert key is not None
    assert key.interviewer_key
    content = guest.content()
    assert "SECRET-NOTE" not in content
    assert key.interviewer_key not in content
    assert frames, "no frames recorded"
    leaked = [f for f in frames if "SECRET-NOTE" in f or key.interviewer_key in f]
    assert leaked == []
    assert not any("Hint given" in f for f in frames)


def test_the_interviewer_locks_the_editor_and_disables_run_for_candidates(
    server: Server, page_of: Callable[..., Page]
) -> None:
    host = page_of()
    url = create_interview(host, server, title="Controls")
    guest = page_of()
    join(guest, url, "Sam")
    synced(host)
    synced(guest)
    set_code(host, "x = 1\n")
    guest.wait_for_function(f"{EDITOR_TEXT} === 'x = 1\\n'")
    expect(guest.get_by_role("switch", name="Lock editor")).to_have_count(0)

    host.get_by_role("switch", name="Lock editor").click()
    expect(guest.get_by_role("status", name="Editor status")).to_have_text(
        "Editor locked by the interviewer"
    )
    guest.get_by_role("region", name="Code editor").locator(".view-lines").click()
    guest.keyboard.press("Control+End")
    guest.keyboard.type("candidate typed")
    guest.wait_for_timeout(800)
    assert text_of(guest) == "x = 1\n"
    assert text_of(host) == "x = 1\n"
    host.get_by_role("region", name="Code editor").locator(".view-lines").click()
    host.keyboard.press("Control+End")
    host.keyboard.type("y = 2")
    guest.wait_for_function(f"{EDITOR_TEXT}.includes('y = 2')")

    host.get_by_role("switch", name="Lock editor").click()
    expect(guest.get_by_role("status", name="Editor status")).to_have_count(0)
    guest.get_by_role("region", name="Code editor").locator(".view-lines").click()
    guest.keyboard.press("Control+End")
    guest.keyboard.type(" # ok")
    host.wait_for_function(f"{EDITOR_TEXT}.includes('# ok')")

    host.get_by_role("switch", name="Disable Run").click()
    output = guest.get_by_role("region", name="Output")
    expect(output.get_by_text("Run is disabled by the interviewer")).to_be_visible()
    expect(output.get_by_role("button", name="Run", exact=True)).to_be_disabled()
    guest.keyboard.press("Control+Enter")  # the shortcut asks the server, which refuses
    expect(guest.get_by_text("the interviewer has disabled Run for candidates")).to_be_visible()
    expect(
        host.get_by_role("region", name="Output").get_by_role("button", name="Run", exact=True)
    ).to_be_enabled()
    host.get_by_role("switch", name="Disable Run").click()
    expect(output.get_by_role("button", name="Run", exact=True)).to_be_enabled()


def test_the_interviewer_link_seats_a_second_interviewer(
    server: Server, page_of: Callable[..., Page]
) -> None:
    host = page_of()
    url = create_interview(host, server, title="Panel")
    host.get_by_role("button", name="Invite an interviewer").click()
    link = host.evaluate("navigator.clipboard.readText()")
    assert re.fullmatch(re.escape(url) + r"\?interviewer=[\w-]{43}", link), link

    wrong = page_of()
    wrong.goto(link[:-4] + "AAAA")
    wrong.get_by_role("textbox", name="Your name").fill("Eve")
    wrong.get_by_role("button", name="Join interview").click()
    expect(wrong.get_by_role("alert")).to_contain_text("interviewer link is not valid")

    second = page_of()
    second.goto(link)
    expect(second.get_by_text("You are invited as an interviewer to")).to_be_visible()
    second.get_by_role("textbox", name="Your name").fill("Robin")
    second.get_by_role("button", name="Join interview").click()
    expect(participant(host, "Robin", "interviewer", "online")).to_be_visible()
    expect(notes(second)).to_be_visible()
    notes(second).get_by_role("textbox", name="Private note").fill("From Robin")
    notes(second).get_by_role("button", name="Add note").click()
    expect(notes(host).get_by_role("listitem", name="Note")).to_contain_text("From Robin")


def test_ending_turns_the_room_read_only_and_keeps_it_for_interviewers(
    server: Server, page_of: Callable[..., Page]
) -> None:
    host = page_of()
    url = create_interview(host, server, title="Ending")
    guest = page_of()
    join(guest, url, "Sam")
    synced(host)
    synced(guest)
    set_code(host, "kept = True\n")
    guest.wait_for_function(f"{EDITOR_TEXT} === 'kept = True\\n'")

    host.get_by_role("button", name="End interview").click()
    host.get_by_role("alertdialog").get_by_role("button", name="End interview").click()
    expect(guest.get_by_role("heading", name="Interview ended")).to_be_visible()
    expect(guest.get_by_text("This interview has ended")).to_be_visible()
    banner = host.get_by_role("status", name="Interview ended")
    expect(banner).to_be_visible()
    expect(banner.get_by_role("link", name="Watch the playback")).to_have_attribute(
        "href", url.removeprefix(server.url) + "/playback"
    )
    expect(banner).to_contain_text("read-only")
    expect(host.get_by_role("switch", name="Lock editor")).to_have_count(0)
    expect(notes(host).get_by_role("textbox", name="Private note")).to_have_count(0)
    expect(
        host.get_by_role("region", name="Output").get_by_role("button", name="Run", exact=True)
    ).to_be_disabled()
    expect(host.get_by_role("button", name="Edit problem")).to_have_count(0)
    cases = host.get_by_role("region", name="Test cases")
    expect(cases.get_by_role("button", name="Add test case")).to_have_count(0)
    expect(cases.get_by_role("button", name="Run tests")).to_be_disabled()
    host.get_by_role("region", name="Code editor").locator(".view-lines").click()
    host.keyboard.type("typed after the end")
    host.wait_for_timeout(800)
    assert text_of(host) == "kept = True\n"

    # Reopened later: interviewers get the read-only room, candidates the notice.
    host.reload()
    expect(host.get_by_role("status", name="Interview ended")).to_be_visible()
    expect(host.get_by_role("region", name="Code editor")).to_contain_text("kept = True")
    guest.reload()
    expect(guest.get_by_role("heading", name="Interview ended")).to_be_visible()
