"""One room, two instances: browsers on A and on B see the same room, whoever changed it where.

Each test puts people on different instances (the room's URL is the same path on both), so
every update a browser sees crossed from one instance to the other: through the room event bus
over Redis, the room's ``RoomState`` kept in Redis, and Reflex's "lost and found" channel that
hands a state delta to the worker holding the browser's socket. Latencies are printed (run with
``-s`` to see them), never asserted.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import httpx
import pytest
from playwright.sync_api import Page, expect

from rivendell.settings import Settings
from tests.api.conftest import ADMIN_TOKEN, bearer, create
from tests.e2e.server import Server
from tests.e2e.test_browser_run import output, set_code
from tests.e2e.test_coediting import EDITOR_TEXT, synced
from tests.e2e.test_room import create_interview, join, participant
from tests.fleet.conftest import Fleet

pytestmark = [pytest.mark.browser, pytest.mark.postgres]

PRESENCE_TIMEOUT_MS = int(Settings().presence_timeout_seconds * 1000)


def on(server: Server, url: str) -> str:
    """The same room's URL on another instance."""
    return server.url + url[url.index("/i/") :]


def _report(what: str, samples_ms: list[float]) -> None:
    print(
        f"\n{what}: n={len(samples_ms)} p50={statistics.median(samples_ms):.0f} ms "
        f"max={max(samples_ms):.0f} ms ({', '.join(f'{s:.0f}' for s in samples_ms)})"
    )


# Records (in window.__seenAt) the wall-clock time a page first shows an <h1> with this text,
# checked every frame, so that pages can be timed side by side.
_WATCH_HEADING = """text => {
  window.__seenAt = window.__seenAt || {};
  const look = () => {
    if ([...document.querySelectorAll('h1')].some(h => h.textContent === text)) {
      window.__seenAt[text] = Date.now();
    } else {
      requestAnimationFrame(look);
    }
  };
  look();
}"""


def _session(server: Server, sid: str) -> dict:
    response = httpx.get(f"{server.url}/api/v1/sessions/{sid}", timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def _online(server: Server, sid: str) -> dict[str, bool]:
    """Who the API of ``server`` says is online in the interview, by name."""
    return {p["name"]: p["online"] for p in _session(server, sid)["participants"]}


def test_a_problem_edit_through_the_api_of_a_reaches_a_browser_on_b(
    fleet: Fleet, page_of: Callable[..., Page]
) -> None:
    created = create(fleet.a, title="Edited through A")
    sid, creator = created["id"], created["creator_token"]
    # A browser on B, and for comparison one on A, the instance whose API is called.
    rooms = {"B": page_of(), "A": page_of()}
    join(rooms["B"], on(fleet.b, created["url"]), "Casey")
    join(rooms["A"], created["url"], "Robin")
    latencies: dict[str, list[float]] = {name: [] for name in rooms}
    for n in range(10):
        heading = f"Edit number {n}"
        for room in rooms.values():
            room.evaluate(_WATCH_HEADING, heading)
        started = time.time() * 1000
        put = httpx.put(
            f"{fleet.a.url}/api/v1/sessions/{sid}/problem",
            json={"markdown": f"# {heading}\n\nMade on A."},
            headers=bearer(creator),
            timeout=10,
        )
        assert put.status_code == 200, put.text
        for name, room in rooms.items():
            seen = room.wait_for_function("text => window.__seenAt[text]", arg=heading)
            latencies[name].append(seen.json_value() - started)
    for name, room in rooms.items():
        problem = room.get_by_role("region", name="Problem")
        expect(problem.get_by_role("heading", name="Edit number 9")).to_be_visible()
        _report(f"problem edit, API on A -> browser on {name}", latencies[name])


def test_people_on_both_instances_are_online_everywhere_until_they_leave(
    fleet: Fleet, page_of: Callable[..., Page]
) -> None:
    host = page_of()
    url = create_interview(host, fleet.a, title="Presence across", name="Alex")
    sid = url.rsplit("/", 1)[1]
    guest = page_of()
    guest.goto(on(fleet.b, url))
    guest.get_by_role("textbox", name="Your name").fill("Sam")
    started = time.perf_counter()
    guest.get_by_role("button", name="Join interview").click()
    expect(participant(host, "Sam", "candidate", "online")).to_be_visible()
    came_online_ms = (time.perf_counter() - started) * 1000
    for page in (host, guest):
        expect(participant(page, "Alex", "interviewer", "online")).to_be_visible()
        expect(participant(page, "Sam", "candidate", "online")).to_be_visible()
    for server in fleet.servers:
        assert _online(server, sid) == {"Alex": True, "Sam": True}
        listed = httpx.get(
            f"{server.url}/api/v1/sessions",
            params={"q": "Presence across"},
            headers=bearer(ADMIN_TOKEN),
            timeout=10,
        ).json()
        assert [item["participants_online"] for item in listed["items"]] == [2]

    started = time.perf_counter()
    guest.context.close()
    expect(participant(host, "Sam", "candidate", "offline")).to_be_visible(
        timeout=PRESENCE_TIMEOUT_MS
    )
    went_offline_ms = (time.perf_counter() - started) * 1000
    for server in fleet.servers:
        assert _online(server, sid) == {"Alex": True, "Sam": False}
    keys = fleet.redis_keys()
    # Reflex's and Rivendell's keys are all in the fleet's database.
    assert any(key.startswith("token_manager_socket_record_") for key in keys), keys
    assert any(key.startswith("rivendell:presence:") for key in keys), keys
    _report("presence: joined on B -> online on A", [came_online_ms])
    _report("presence: closed on B -> offline on A", [went_offline_ms])


@pytest.mark.docker
def test_a_run_started_on_a_shows_its_status_and_output_on_b(
    fleet: Fleet, page_of: Callable[..., Page]
) -> None:
    host = page_of()
    url = create_interview(host, fleet.a, title="Run across", name="Alex")
    sid = url.rsplit("/", 1)[1]
    guest = page_of()
    join(guest, on(fleet.b, url), "Sam")
    synced(host)
    synced(guest)
    set_code(host, "import time\ntime.sleep(1.5)\nprint('ran on A:', 6 * 7)\n")
    guest.wait_for_function(f"{EDITOR_TEXT}.includes('6 * 7')")
    # At once, before any save: the worker handling the click may not be the one holding the
    # host's document, and must still run what everyone sees.
    host.get_by_role("button", name="Run", exact=True).click()
    status = output(guest).get_by_role("status", name="Run status")
    expect(status).to_contain_text("Running…", timeout=30_000)
    expect(status).to_contain_text("Alex")
    expect(guest.get_by_role("button", name="Run", exact=True)).to_be_disabled()
    for page in (guest, host):
        expect(output(page).get_by_label("Standard output")).to_have_text(
            "ran on A: 42", timeout=60_000
        )
        expect(output(page).get_by_role("status", name="Run status")).to_contain_text("OK")
    assert _session(fleet.b, sid)["last_run"]["stdout"] == "ran on A: 42\n"
