"""The playback page: an interviewer scrubs through what happened; paste marking in the room.

Two people type a line each, the interviewer runs the code in the browser, the candidate pastes
five lines from outside the editor (and then re-pastes text copied inside it, which is not
marked); the interviewer's playback shows the code as it was at any moment, each author's text
in their colour, and the run and the paste on the bar. A candidate is refused.
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect
from pycrdt import Doc, Text

from rivendell.pages.playback import REFUSED
from tests.e2e.server import Server, start_server, stop_server
from tests.e2e.test_browser_run import choose_language
from tests.e2e.test_coediting import focus_end, synced
from tests.e2e.test_room import create_interview, join

pytestmark = pytest.mark.browser

PLAYBACK_TEXT = "window.__rivendellEditors['playback-editor'].editor.getValue()"
ROOM_TEXT = "Object.values(window.__rivendellEditors)[0].editor.getValue()"
ALEX_LINE = "let alex = 40;"
SAM_LINE = "let sam = 2;"
PASTED = "".join(f"const pasted{i} = {i};\n" for i in range(5))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("playback")
    running = start_server(tmp, {"REFLEX_DB_URL": f"sqlite:///{tmp / 'rivendell.db'}"})
    try:
        yield running
    finally:
        stop_server(running.process)


def token_of(page: Page, interview_id: str) -> str:
    stored = page.evaluate("localStorage.getItem('rivendell-identities')")
    return json.loads(stored)[interview_id]


def timeline(server: Server, interview_id: str, token: str) -> dict[str, Any]:
    response = httpx.get(
        f"{server.url}/api/v1/sessions/{interview_id}/timeline",
        headers={"Authorization": f"Bearer {token}"},
    )
    response.raise_for_status()
    return response.json()


def replayed(document: dict[str, Any]) -> str:
    """The code the timeline's updates rebuild (``final_code`` may be ahead of the last save)."""
    doc = Doc()
    for event in document["events"]:
        if event["update"]:
            doc.apply_update(base64.b64decode(event["update"]))
    return str(doc.get("code", type=Text))


def wait_for_timeline(
    server: Server, interview_id: str, token: str, ready: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    """The timeline once ``ready`` says it holds what the test did (edits are saved in batches)."""
    deadline = time.monotonic() + 20
    while True:
        document = timeline(server, interview_id, token)
        if ready(document):
            return document
        if time.monotonic() > deadline:
            pytest.fail(f"the timeline never got there: {json.dumps(document)[:2000]}")
        time.sleep(0.3)


def test_an_interviewer_scrubs_through_the_interview(
    server: Server, page_of: Callable[..., Page], tmp_path: Path
) -> None:
    host = page_of()
    url = create_interview(host, server, title="Playback pairing", name="Alex")
    interview_id = url.rstrip("/").rsplit("/", 1)[-1]
    choose_language(host, "JavaScript (Node)")
    guest = page_of()
    join(guest, url, "Sam")
    synced(host)
    synced(guest)
    seed = host.evaluate(ROOM_TEXT)

    # Alex writes the first line at the end of the starter code, and runs it in the browser.
    focus_end(host)
    host.keyboard.press("Enter")
    host.keyboard.type(ALEX_LINE, delay=10)
    guest.wait_for_function(f"{ROOM_TEXT}.includes({json.dumps(ALEX_LINE)})")
    host.get_by_role("button", name="Run in browser").click()
    expect(
        host.get_by_role("region", name="Output").get_by_role("status", name="Run status")
    ).to_contain_text("Alex", timeout=30_000)

    # Sam writes the next line, pastes five lines copied elsewhere, then re-pastes text copied
    # inside the editor (not a paste from outside: no marker).
    focus_end(guest)
    guest.keyboard.press("Enter")
    guest.keyboard.type(SAM_LINE, delay=10)
    guest.keyboard.press("Enter")
    # Three lines are not worth a marker; five are.
    guest.evaluate("text => navigator.clipboard.writeText(text)", "a = 1\nb = 2\nc = 3\n")
    guest.keyboard.press("Control+V")
    guest.wait_for_function(f"{ROOM_TEXT}.includes('c = 3')")
    guest.evaluate("text => navigator.clipboard.writeText(text)", PASTED)
    guest.keyboard.press("Control+V")
    guest.wait_for_function(f"{ROOM_TEXT}.includes('pasted4')")
    guest.keyboard.press("Control+A")
    guest.keyboard.press("Control+C")
    guest.keyboard.press("Control+End")
    guest.keyboard.press("Control+V")
    guest.wait_for_function(f"{ROOM_TEXT}.split('pasted4').length === 3")

    token = token_of(host, interview_id)
    document = wait_for_timeline(
        server,
        interview_id,
        token,
        lambda d: (
            replayed(d) == d["interview"]["final_code"]
            and replayed(d).count("pasted4") == 2
            and any(e["kind"] == "run" for e in d["events"])
        ),
    )
    final = replayed(document)
    sam = next(p for p in document["participants"] if p["name"] == "Sam")
    pastes = [e for e in document["events"] if e["kind"] == "paste"]
    assert [(p["participant_id"], p["data"]) for p in pastes] == [
        (sam["id"], {"lines": 5, "chars": len(PASTED)})
    ]

    # The interviewer's playback opens on the end: the final code.
    watch = host.context.new_page()
    problems: list[str] = []
    watch.on("console", lambda m: m.type == "error" and problems.append(m.text))
    watch.on("pageerror", lambda error: problems.append(str(error)))
    watch.goto(f"{url}/playback")
    expect(watch.get_by_role("heading", name=re.compile("Playback pairing"))).to_be_visible()
    watch.wait_for_function(
        f"window.__rivendellEditors?.['playback-editor'] && {PLAYBACK_TEXT}.length > 0"
    )
    assert watch.evaluate(PLAYBACK_TEXT) == final
    expect(watch.locator(".monaco-editor[data-mode-id='javascript']")).to_be_visible()

    # Sam's text is tinted in Sam's colour; the starter code is no one's.
    red, green, blue = (int(sam["color"][i : i + 2], 16) for i in (1, 3, 5))
    sam_spans = watch.evaluate(
        """id => [...document.querySelectorAll(`.view-lines .rv-author-${id}`)].map(
            el => [el.textContent, getComputedStyle(el).borderBottomColor])""",
        sam["id"],
    )
    assert SAM_LINE.replace(" ", "\u00a0") in "".join(t for t, _ in sam_spans).replace(
        " ", "\u00a0"
    )
    assert {c for _, c in sam_spans} == {f"rgb({red}, {green}, {blue})"}
    authored = watch.evaluate(
        "[...document.querySelectorAll('.view-lines [class*=rv-author-]')]"
        ".map(e => e.textContent).join('')"
    )
    # (Sam's re-paste of everything is Sam's text, the starter code's copy included.)
    assert authored.replace("\u00a0", " ").startswith(ALEX_LINE)

    # The bar shows the run and the paste; the run's marker shows what ran and sits before
    # Sam's line: the editor goes back to the code as it was then.
    markers = watch.get_by_role("toolbar", name="Timeline events")
    expect(markers.get_by_role("button", name=re.compile(r"^Paste by Sam: 5 lines"))).to_have_count(
        1
    )
    run_marker = markers.get_by_role("button", name=re.compile(r"^Run by Alex"))
    expect(run_marker).to_have_count(1)
    # The markers are one tab stop; arrow keys go from one to the next.
    markers.get_by_role("button").first.focus()
    watch.keyboard.press("End")
    expect(markers.get_by_role("button").last).to_be_focused()
    watch.keyboard.press("ArrowLeft")
    expect(markers.get_by_role("button").nth(-2)).to_be_focused()
    run_marker.click()
    details = watch.get_by_role("region", name="Run details")
    expect(details).to_contain_text("in the browser")
    expect(details.get_by_label("Code that ran")).to_contain_text(ALEX_LINE)
    watch.wait_for_function(f"!{PLAYBACK_TEXT}.includes({json.dumps(SAM_LINE)})")
    then = watch.evaluate(PLAYBACK_TEXT)
    assert ALEX_LINE in then
    assert "pasted" not in then

    # The scrubber is keyboard driven: Home is the starter code, End the final code.
    slider = watch.get_by_role("slider", name="Playback position")
    slider.focus()
    watch.keyboard.press("Home")
    watch.wait_for_function(f"{PLAYBACK_TEXT} === {json.dumps(seed)}")
    watch.keyboard.press("End")
    watch.wait_for_function(f"{PLAYBACK_TEXT} === {json.dumps(final)}")
    expect(watch.get_by_role("combobox", name="Playback speed")).to_have_value("4")
    watch.get_by_role("combobox", name="Playback speed").select_option("32")
    slider.focus()
    watch.keyboard.press("Home")
    watch.wait_for_function(f"{PLAYBACK_TEXT} === {json.dumps(seed)}")
    watch.get_by_role("button", name="Play").click()
    # Played at 32x, the interview ends where it ended (idle stretches are skipped anyway).
    watch.wait_for_function(f"{PLAYBACK_TEXT} === {json.dumps(final)}", timeout=30_000)
    expect(watch.get_by_role("button", name="Play")).to_be_visible()

    run_marker.click()
    # To look at (pytest -s prints where): docs/screenshots/ comes from scripts/screenshots.py.
    watch.screenshot(path=str(tmp_path / "playback.png"))
    print("playback screenshot:", tmp_path / "playback.png")

    assert problems == []

    # A candidate (and a stranger) is told why there is nothing to see.
    guest.goto(f"{url}/playback")
    expect(guest.get_by_text(REFUSED)).to_be_visible()
    expect(guest.get_by_role("region", name="Code editor")).to_have_count(0)
    stranger = page_of()
    stranger.goto(f"{url}/playback")
    expect(stranger.get_by_text(REFUSED)).to_be_visible()

    # Once the interview is over, its playback still plays, up to the end.
    ended = httpx.delete(
        f"{server.url}/api/v1/sessions/{interview_id}", headers={"Authorization": f"Bearer {token}"}
    )
    assert ended.status_code == 200, ended.text
    expect(host.get_by_role("heading", name="Interview ended")).to_be_visible()
    expect(host.get_by_role("link", name="Watch the playback")).to_be_in_viewport()
    expect(host.get_by_role("link", name="Watch the playback")).to_have_attribute(
        "href", f"/i/{interview_id}/playback"
    )
    watch.reload()
    end_marker = watch.get_by_role("toolbar", name="Timeline events").get_by_role(
        "button", name=re.compile(r"^Interview ended")
    )
    expect(end_marker).to_have_count(1)
    end_marker.click()
    watch.wait_for_function(f"{PLAYBACK_TEXT} === {json.dumps(final)}")
