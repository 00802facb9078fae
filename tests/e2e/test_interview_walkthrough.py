"""Issue 7's walk-through: a short interview with every tool, then its playback and its export.

An interviewer and a candidate type, run, run tests; the interviewer pins a note to a line and
gives a hint. The candidate never receives the note or the hint (page and every socket frame).
The interviewer scrubs the playback to the moment before the hint and sees the code as it was
then, downloads the export, and its JSON validates against the documented schema; replaying its
update log gives the final code byte for byte.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import jsonschema_rs
import pytest
from playwright.sync_api import Page, expect
from pycrdt import Decoder, Doc, Text

from tests.e2e.frames import record_frames
from tests.e2e.server import Server
from tests.e2e.test_browser_run import output, set_code
from tests.e2e.test_coediting import EDITOR_TEXT, synced
from tests.e2e.test_playback import PLAYBACK_TEXT
from tests.e2e.test_room import create_interview, join
from tests.e2e.test_tests import add_case, case_panel, result
from tests.e2e.test_toolkit import notes, select_lines

pytestmark = [pytest.mark.browser, pytest.mark.docker]

SOLUTION = "a, b = map(int, input().split())\nprint(a + b)\n"
NOTE = "NOTE-c41d: reads both numbers in one line"
HINT = "HINT-9e2b: what if the input has three numbers?"
AFTER_HINT = "# three numbers: sum(map(int, input().split()))\n"
SCHEMA = Path(__file__).parents[2] / "docs" / "timeline.schema.json"


def test_an_interview_with_every_tool_then_its_playback_and_export(
    server: Server, page_of: Callable[..., Page], tmp_path: Path
) -> None:
    host = page_of()
    url = create_interview(host, server, title="Walk-through", name="Alex")
    guest = page_of()
    frames = record_frames(guest)
    join(guest, url, "Sam")
    synced(host)
    synced(guest)

    # The interviewer attaches a test case; the candidate types a solution, runs it, runs tests.
    add_case(host, "adds", "2 3", "5")
    set_code(guest, SOLUTION)
    host.wait_for_function(f"{EDITOR_TEXT}.includes('print(a + b)')")
    guest.get_by_role("textbox", name="Program input").fill("40 2")
    output(guest).get_by_role("button", name="Run", exact=True).click()
    for page in (host, guest):
        expect(output(page).get_by_label("Standard output")).to_have_text("42", timeout=60_000)
    case_panel(guest).get_by_role("button", name="Run tests").click()
    for page in (host, guest):
        expect(case_panel(page).get_by_role("status", name="Test results")).to_contain_text(
            "1/1 passed", timeout=60_000
        )
        expect(result(page, "adds: passed")).to_be_visible()

    # A note pinned to line 2, then a hint, while nobody types: the code at the hint is known.
    select_lines(host, 2, 2)
    notes(host).get_by_role("textbox", name="Private note").fill(NOTE)
    notes(host).get_by_role("button", name="Add note").click()
    expect(notes(host).get_by_role("listitem", name="Note")).to_contain_text("NOTE-c41d")
    host.wait_for_timeout(2000)
    code_at_hint = host.evaluate(EDITOR_TEXT)
    notes(host).get_by_role("textbox", name="Private note").fill(HINT)
    notes(host).get_by_role("button", name="Hint given").click()
    expect(notes(host).get_by_role("listitem", name="Hint")).to_contain_text("HINT-9e2b")
    host.wait_for_timeout(1500)

    # After the hint the candidate goes on typing.
    guest.get_by_role("region", name="Code editor").locator(".view-lines").click()
    guest.keyboard.press("Control+End")
    guest.keyboard.type(AFTER_HINT, delay=5)
    host.wait_for_function(f"{EDITOR_TEXT}.includes('three numbers:')")
    final = host.evaluate(EDITOR_TEXT)

    # The candidate never received the note nor the hint.
    guest.wait_for_timeout(1000)
    page_text = guest.content()
    assert "NOTE-c41d" not in page_text
    assert "HINT-9e2b" not in page_text
    assert frames, "no frame was recorded"
    assert [f for f in frames if "NOTE-c41d" in f or "HINT-9e2b" in f] == []

    # The playback, at the hint and a second before it, shows the code as it was then.
    watch = host.context.new_page()
    watch.goto(f"{url}/playback")
    watch.wait_for_function(
        f"window.__rivendellEditors?.['playback-editor'] && {PLAYBACK_TEXT}.includes('three')",
        timeout=30_000,
    )
    markers = watch.get_by_role("toolbar", name="Timeline events")
    markers.get_by_role("button", name=re.compile(r"^Hint by Alex")).click()
    watch.wait_for_function(f"{PLAYBACK_TEXT} === {json.dumps(code_at_hint)}")
    slider = watch.get_by_role("slider", name="Playback position")
    slider.focus()
    watch.keyboard.press("ArrowLeft")
    watch.wait_for_function(f"{PLAYBACK_TEXT} === {json.dumps(code_at_hint)}")
    expect(markers.get_by_role("button", name=re.compile(r"^Run by Sam"))).to_have_count(1)
    tests_marker = markers.get_by_role("button", name=re.compile(r"^Tests by Sam: 1.1 passed"))
    expect(tests_marker).to_have_count(1)
    expect(markers.get_by_role("button", name=re.compile(r"^Note by Alex"))).to_have_count(1)
    watch.screenshot(path=str(tmp_path / "walkthrough-playback.png"))

    # The export: one archive whose timeline validates and whose update log replays the code.
    for _ in range(50):  # the candidate's last keystrokes are saved (and logged) within a second
        with host.expect_download() as download_info:
            host.get_by_role("button", name="Export").click()
        archive = zipfile.ZipFile(io.BytesIO(Path(download_info.value.path()).read_bytes()))
        replayed: Doc = Doc()
        for update in Decoder(archive.read("updates.bin")).read_messages():
            replayed.apply_update(update)
        if str(replayed.get("code", type=Text)) == final:
            break
        host.wait_for_timeout(300)
    assert str(replayed.get("code", type=Text)).encode() == final.encode()
    assert archive.read("code/main.py").decode() == final
    document = json.loads(archive.read("timeline.json"))
    jsonschema_rs.validator_for(json.loads(SCHEMA.read_text())).validate(document)
    kinds = {event["kind"] for event in document["events"]}
    assert {"seed", "edit", "run", "tests", "note", "hint", "join"} <= kinds
    hint = next(e for e in document["events"] if e["kind"] == "hint")
    assert hint["data"]["markdown"] == HINT
    note = next(e for e in document["events"] if e["kind"] == "note")
    assert (note["data"]["line_start"], note["data"]["line_end"]) == (2, 2)
    runs = json.loads(archive.read("runs.json"))
    assert [(r["stdin"], r["stdout"]) for r in runs] == [("40 2", "42\n")]
    assert runs[0]["receipt"]["image_id"].startswith("sha256:")
