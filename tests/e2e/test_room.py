"""The room end to end: two people in two browser profiles, as the issue describes it."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, WebSocketRoute, expect

from tests.e2e.server import Server

pytestmark = pytest.mark.browser

ROOM_URL = re.compile(r"/i/[a-z2-7]{32}$")


def create_interview(
    page: Page, server: Server, *, title: str = "Backend pairing", name: str = "Alex"
) -> str:
    page.goto(server.url)
    page.get_by_role("textbox", name="Interview title").fill(title)
    page.get_by_role("textbox", name="Your name").fill(name)
    page.get_by_role("button", name="Create interview").click()
    page.wait_for_url(ROOM_URL)
    expect(page.get_by_role("region", name="Code editor")).to_be_visible()
    return page.url


def join(page: Page, url: str, name: str) -> None:
    page.goto(url)
    page.get_by_role("textbox", name="Your name").fill(name)
    page.get_by_role("button", name="Join interview").click()
    expect(page.get_by_role("region", name="Code editor")).to_be_visible()


def participant(page: Page, name: str, role: str, status: str):
    return page.get_by_role("list", name="Participants").get_by_role(
        "listitem", name=f"{name}, {role}, {status}"
    )


def test_interviewer_and_candidate_share_one_room(
    server: Server, page_of: Callable[..., Page]
) -> None:
    host = page_of()
    url = create_interview(host, server)
    expect(host.get_by_role("heading", name="Backend pairing")).to_be_visible()
    expect(participant(host, "Alex", "interviewer", "online")).to_be_visible()

    host.get_by_role("button", name="Copy link").click()
    copied = host.evaluate("navigator.clipboard.readText()")
    assert copied == url

    guest = page_of()
    guest.goto(copied)
    expect(guest.get_by_role("heading", name="Backend pairing")).to_be_visible()
    expect(guest.get_by_text("Alex")).to_be_visible()
    guest.get_by_role("textbox", name="Your name").fill("Sam")
    guest.get_by_role("button", name="Join interview").click()

    expect(participant(host, "Sam", "candidate", "online")).to_be_visible()
    expect(participant(guest, "Alex", "interviewer", "online")).to_be_visible()
    expect(guest.get_by_role("button", name="Edit problem")).to_have_count(0)

    host.get_by_role("button", name="Edit problem").click()
    host.get_by_role("textbox", name="Problem statement").fill(
        "# Two sum\n\nFind **two** numbers. <script>window.pwned=1</script>"
    )
    expect(host.locator(".rivendell-markdown strong", has_text="two")).to_be_visible()
    host.get_by_role("button", name="Save problem").click()

    problem = guest.get_by_role("region", name="Problem")
    expect(problem.get_by_role("heading", name="Two sum")).to_be_visible(timeout=5_000)
    expect(problem.get_by_text("<script>window.pwned=1</script>")).to_be_visible()
    assert guest.evaluate("window.pwned") is None

    guest.context.close()
    expect(participant(host, "Sam", "candidate", "offline")).to_be_visible(timeout=15_000)


def test_language_picker_is_shared_by_the_room(
    server: Server, page_of: Callable[..., Page]
) -> None:
    host = page_of()
    url = create_interview(host, server, title="Languages")
    guest = page_of()
    join(guest, url, "Sam")
    guest.get_by_role("combobox", name="Language").click()
    guest.get_by_role("option", name="Rust").click()
    expect(host.get_by_role("combobox", name="Language")).to_have_text("Rust")
    expect(host.locator(".monaco-editor[data-mode-id='rust']")).to_have_count(1)


def test_code_is_saved_with_the_interview(server: Server, page_of: Callable[..., Page]) -> None:
    host = page_of()
    create_interview(host, server, title="Persistence")
    expect(host.get_by_role("status", name="Connection")).to_have_text("Synced")
    editor = host.get_by_role("region", name="Code editor")
    editor.locator(".monaco-editor").click()
    host.keyboard.press("Control+A")
    host.keyboard.type("print('kept after reload')")
    host.wait_for_timeout(1200)
    host.reload()
    expect(host.get_by_role("region", name="Code editor")).to_contain_text("kept after reload")
    expect(participant(host, "Alex", "interviewer", "online")).to_be_visible()
    expect(host.get_by_role("button", name="Edit problem")).to_be_visible()


def test_saving_never_clobbers_typing_and_others_see_the_code(
    server: Server, page_of: Callable[..., Page]
) -> None:
    host = page_of()
    url = create_interview(host, server, title="Typing")
    guest = page_of()
    join(guest, url, "Sam")
    for page in (host, guest):
        expect(page.get_by_role("status", name="Connection")).to_have_text("Synced")
    host.get_by_role("region", name="Code editor").locator(".view-lines").click()
    host.keyboard.press("Control+A")
    host.keyboard.press("Delete")
    # Pauses longer than the save debounce, so saves and their echoes land mid-typing.
    for word in ["alpha ", "beta ", "gamma ", "delta ", "epsilon"]:
        host.keyboard.type(word, delay=30)
        host.wait_for_timeout(600)
    typed = "alpha beta gamma delta epsilon"
    text = (
        "window.__rivendellEditors && Object.values(window.__rivendellEditors)[0].editor.getValue()"
    )
    assert host.evaluate(text) == typed
    guest_text = guest.get_by_role("region", name="Code editor")
    expect(guest_text).to_contain_text(typed, timeout=10_000)


def test_reload_keeps_identity_and_a_forged_problem_edit_is_refused(
    server: Server, page_of: Callable[..., Page]
) -> None:
    host = page_of()
    url = create_interview(host, server, title="Forgery")
    host.get_by_role("button", name="Edit problem").click()
    host.get_by_role("textbox", name="Problem statement").fill("Original statement")
    host.get_by_role("button", name="Save problem").click()

    guest = page_of()
    frames: list[str] = []
    sockets: list[WebSocketRoute] = []

    def relay(ws: WebSocketRoute) -> None:
        backend = ws.connect_to_server()
        sockets.append(backend)

        def outgoing(message: str | bytes) -> None:
            if isinstance(message, str):
                frames.append(message)
            backend.send(message)

        ws.on_message(outgoing)
        backend.on_message(lambda message: ws.send(message))

    guest.route_web_socket(re.compile(r"_event"), relay)
    join(guest, url, "Sam")
    guest.reload()
    expect(participant(guest, "Sam", "candidate", "online")).to_be_visible()
    expect(guest.get_by_role("button", name="Edit problem")).to_have_count(0)

    # Replay the candidate's own last room event with another handler name: what a hand-made
    # client would send, with the candidate's real session.
    sent = next(f for f in reversed(frames) if "room_page_state" in f)
    prefix, _, body = sent.partition("[")
    name, event = json.loads("[" + body)
    state = event["name"].rsplit(".", 1)[0]
    for handler, payload in (("set_problem_draft", {"value": "PWNED"}), ("save_problem", {})):
        forged = dict(event, name=f"{state}.{handler}", payload=payload)
        sockets[-1].send(prefix + json.dumps([name, forged]))

    expect(guest.get_by_text("only the interviewer can edit the problem statement")).to_be_visible()
    host.wait_for_timeout(1000)
    expect(host.get_by_role("region", name="Problem")).to_contain_text("Original statement")
    expect(host.get_by_role("region", name="Problem")).not_to_contain_text("PWNED")
    assert "refused a problem edit from candidate" in server.log_text()


def test_dark_mode_renders_the_room_dark(server: Server, page_of: Callable[..., Page]) -> None:
    host = page_of(color_scheme="dark")
    create_interview(host, server, title="Dark")
    background = host.evaluate("getComputedStyle(document.body).backgroundColor")
    channels = [int(c) for c in re.findall(r"\d+", background)[:3]]
    assert sum(channels) / 3 < 60, background
    expect(host.locator(".monaco-editor.vs-dark")).to_have_count(1)


def test_unknown_interview_shows_not_found(server: Server, page_of: Callable[..., Page]) -> None:
    page = page_of()
    page.goto(f"{server.url}/i/{'a' * 32}")
    expect(page.get_by_role("heading", name="Interview not found")).to_be_visible()
    page.goto(f"{server.url}/i/<img src=x onerror=alert(1)>")
    expect(page.get_by_role("heading", name="Interview not found")).to_be_visible()
    page.goto(f"{server.url}/i/<script>alert(1)</script>")
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()


def test_keyboard_only_interviewer_creates_a_room_with_html_in_its_title(
    server: Server, page_of: Callable[..., Page]
) -> None:
    page = page_of()
    page.goto(server.url)
    title = "<img src=x onerror=window.pwned=1> Café 👩‍💻"
    expect(page.get_by_role("textbox", name="Interview title")).to_be_focused()
    page.keyboard.type(title)
    page.keyboard.press("Tab")
    expect(page.get_by_role("textbox", name="Your name")).to_be_focused()
    page.keyboard.type("Alex")
    page.keyboard.press("Tab")
    expect(page.get_by_role("combobox", name="Language")).to_be_focused()
    page.keyboard.press("Enter")
    page.get_by_role("option", name="Go").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("combobox", name="Language")).to_have_text("Go")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Create interview")).to_be_focused()
    page.keyboard.press("Enter")
    page.wait_for_url(ROOM_URL)
    expect(page.get_by_role("heading", name=title)).to_be_visible()
    expect(page.get_by_role("combobox", name="Language")).to_have_text("Go")
    assert page.evaluate("window.pwned") is None
    handle = page.get_by_role("separator", name="Resize panels").first
    handle.focus()
    expect(handle).to_be_focused()
    before = handle.get_attribute("aria-valuenow")
    assert before is not None
    page.keyboard.press("ArrowRight")
    expect(handle).not_to_have_attribute("aria-valuenow", before)


def test_home_form_shows_clear_limits(server: Server, page_of: Callable[..., Page]) -> None:
    page = page_of()
    page.goto(server.url)
    page.get_by_role("textbox", name="Interview title").fill("   ")
    page.get_by_role("textbox", name="Your name").fill("Alex")
    page.get_by_role("button", name="Create interview").click()
    expect(page.get_by_role("alert")).to_contain_text("Title must not be empty")
    page.get_by_role("textbox", name="Interview title").fill("x" * 5000)
    assert len(page.get_by_role("textbox", name="Interview title").input_value()) == 120
