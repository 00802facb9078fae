"""The same room on PostgreSQL, switched on by REFLEX_DB_URL alone."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.server import Server, start_server, stop_server
from tests.e2e.test_room import create_interview, join, participant

pytestmark = [pytest.mark.browser, pytest.mark.postgres]


@pytest.fixture(scope="module")
def postgres_server(
    tmp_path_factory: pytest.TempPathFactory, postgres_database: str
) -> Iterator[Server]:
    running = start_server(tmp_path_factory.mktemp("pg"), {"REFLEX_DB_URL": postgres_database})
    try:
        yield running
    finally:
        stop_server(running.process)


def test_room_works_on_postgres(postgres_server: Server, page_of: Callable[..., Page]) -> None:
    host = page_of()
    url = create_interview(host, postgres_server, title="On PostgreSQL")
    guest = page_of()
    join(guest, url, "Sam")
    # Online once Sam's page has beaten: within the presence timeout, not Playwright's 5 s.
    expect(participant(host, "Sam", "candidate", "online")).to_be_visible(timeout=15_000)
    host.get_by_role("button", name="Edit problem").click()
    host.get_by_role("textbox", name="Problem statement").fill("## Stored in PostgreSQL")
    host.get_by_role("button", name="Save problem").click()
    expect(
        guest.get_by_role("region", name="Problem").get_by_role(
            "heading", name="Stored in PostgreSQL"
        )
    ).to_be_visible()
    guest.reload()
    expect(guest.get_by_role("region", name="Problem")).to_contain_text("Stored in PostgreSQL")
