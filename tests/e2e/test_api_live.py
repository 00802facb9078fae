"""The API and the browser are one room: what the API changes shows up live in the page, what
the page changes the API reports, and the admin page ends it for everyone."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.api.conftest import ADMIN_TOKEN, api_server, bearer, create
from tests.e2e.server import Server
from tests.e2e.test_room import join, participant

pytestmark = pytest.mark.browser

__all__ = ["api_server"]  # the API tests' server fixture, shared with this module


def test_api_edits_show_live_and_the_admin_page_ends_the_interview(
    api_server: Server, page_of
) -> None:
    created = create(api_server, title="API driven round")
    sid, creator = created["id"], created["creator_token"]
    room = page_of()
    join(room, created["url"], "Casey")
    expect(room.get_by_role("heading", name="API driven round")).to_be_visible()

    statement = {"markdown": "# Reverse a list\nIn place, please."}
    put = httpx.put(
        f"{api_server.url}/api/v1/sessions/{sid}/problem", json=statement, headers=bearer(creator)
    )
    assert put.status_code == 200
    expect(room.get_by_role("heading", name="Reverse a list")).to_be_visible()

    joined = httpx.post(f"{api_server.url}/api/v1/sessions/{sid}/join", json={"name": "Robin"})
    assert joined.status_code == 201
    expect(participant(room, "Robin", "candidate", "offline")).to_be_visible()

    # What the page changes is what the API reports: the language, and who is online.
    room.get_by_role("combobox", name="Language").click()
    room.get_by_role("option", name="Go").click()
    expect(room.get_by_role("combobox", name="Language")).to_have_text("Go")
    shown = httpx.get(f"{api_server.url}/api/v1/sessions/{sid}").json()
    assert shown["language"] == "go"
    casey = next(p for p in shown["participants"] if p["name"] == "Casey")
    assert casey["online"] is True

    admin = page_of()
    admin.goto(f"{api_server.url}/admin")
    admin.get_by_label("Admin token").fill(creator)  # a participant's token gets nothing
    admin.get_by_role("button", name="Sign in").click()
    expect(admin.get_by_role("alert")).to_have_text("That is not the admin token.")
    admin.get_by_label("Admin token").fill(ADMIN_TOKEN)
    admin.get_by_role("button", name="Sign in").click()
    admin.get_by_label("Search").fill("API driven")
    admin.get_by_role("button", name="Filter").click()
    row = admin.get_by_role("row").filter(has_text="API driven round")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("active")

    admin.get_by_role("button", name="View API driven round").click()
    details = admin.get_by_role("region", name="Interview details")
    expect(details.get_by_role("heading", name="Reverse a list")).to_be_visible()

    admin.get_by_role("button", name="End API driven round").click()
    expect(room.get_by_role("heading", name="Interview ended")).to_be_visible()
    expect(row).to_contain_text("ended")
    assert httpx.get(f"{api_server.url}/api/v1/sessions/{sid}").json()["status"] == "ended"
    expect(admin.get_by_role("status", name="Last cleanup")).to_contain_text(
        re.compile("No cleanup has run yet|ended")
    )

    admin.get_by_role("button", name="Delete API driven round").click()
    expect(row).to_have_count(0)
    assert httpx.get(f"{api_server.url}/api/v1/sessions/{sid}").status_code == 404


def test_the_docs_page_loads_swagger_ui_from_the_app_only(api_server: Server, page_of) -> None:
    page: Page = page_of()
    foreign: list[str] = []
    page.on(
        "request",
        lambda request: (
            foreign.append(request.url) if not request.url.startswith(api_server.url) else None
        ),
    )
    page.goto(f"{api_server.url}/docs")
    expect(page.get_by_text("Rivendell API").first).to_be_visible()
    expect(page.get_by_text("/api/v1/sessions/{session_id}/execute").first).to_be_visible()
    assert foreign == []
