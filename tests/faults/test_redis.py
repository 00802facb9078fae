"""Redis restarting under a running instance that keeps Reflex's state in it.

The module's own redis-server keeps nothing on disk, so a restart loses every page's state as
well as Reflex's pub/sub subscriptions and its keyspace-notification setting. Afterwards, without
a restart of the app or a reload of the pages, the open pages get their seats back, events work,
and an update made on one worker reaches the browsers of the other (two workers).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import redis
from playwright.sync_api import Page, expect

from tests.e2e.server import Server, start_server, stop_server
from tests.e2e.test_room import join, participant
from tests.faults.conftest import poll, two_in_a_room
from tests.faults.services import RedisServer

pytestmark = pytest.mark.browser

RECOVERY_TIMEOUT_MS = 60_000


def _subscriptions(server: RedisServer) -> int:
    """How many patterns Redis's clients (Reflex's listeners) are subscribed to, in all."""
    client = redis.Redis.from_url(server.url, socket_connect_timeout=2)
    try:
        return sum(int(c.get("psub", 0)) for c in client.client_list())
    finally:
        client.close()


def _keyspace_notifications(server: RedisServer) -> str:
    client = redis.Redis.from_url(server.url, socket_connect_timeout=2)
    try:
        return str(client.config_get("notify-keyspace-events")["notify-keyspace-events"])
    finally:
        client.close()


def _save_problem(page: Page, markdown: str) -> None:
    page.get_by_role("button", name="Edit problem").click()
    page.get_by_role("textbox", name="Problem statement").fill(markdown)
    page.get_by_role("button", name="Save problem").click()


def _problem_heading(page: Page, name: str):
    return page.get_by_role("region", name="Problem").get_by_role("heading", name=name)


def _saved(page: Page, markdown: str) -> bool:
    """One try at saving the problem, as a person would: a click made while the page is still
    getting its state back does nothing, and they click again."""
    editor = page.get_by_role("textbox", name="Problem statement")
    if not editor.is_visible():
        page.get_by_role("button", name="Edit problem").click(timeout=5_000)
        editor.wait_for(timeout=5_000)
    editor.fill(markdown, timeout=5_000)
    page.get_by_role("button", name="Save problem").click(timeout=5_000)
    _problem_heading(page, markdown.lstrip("# ")).wait_for(timeout=10_000)
    return True


@pytest.fixture(scope="module")
def on_redis(
    tmp_path_factory: pytest.TempPathFactory, redis_server: RedisServer
) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("on-redis")
    server = start_server(
        tmp,
        {
            "REFLEX_DB_URL": f"sqlite:///{tmp / 'rivendell.db'}",
            "REFLEX_REDIS_URL": redis_server.url,
            "RIVENDELL_EXECUTOR": "off",
            "GRANIAN_WORKERS": "2",
        },
        own_build=True,
    )
    try:
        yield server
    finally:
        stop_server(server.process)


def test_reflex_events_work_again_after_redis_restarts(
    on_redis: Server, redis_server: RedisServer, page_of: Callable[..., Page]
) -> None:
    pid = on_redis.process.pid
    host, guest, url = two_in_a_room(page_of, on_redis, "Through a Redis restart")
    _save_problem(host, "## Before the restart")
    expect(_problem_heading(guest, "Before the restart")).to_be_visible()
    listening = poll(lambda: _subscriptions(redis_server), "Reflex's listeners subscribed")

    redis_server.stop()
    # Long enough for Reflex's listeners to give up (five failures within a minute).
    poll(
        lambda: " ".join(on_redis.log_text().split()).count("task exceeded exception limit") >= 3,
        "Reflex's listeners gave up while Redis was down",
    )
    redis_server.start()

    poll(lambda: _subscriptions(redis_server) >= listening, "Reflex's listeners back")
    poll(lambda: "K" in _keyspace_notifications(redis_server), "keyspace notifications back")
    # Every page's state went with Redis: the open pages reconnect and get it back by themselves.
    poll(lambda: "reconnect to get their state back" in on_redis.log_text(), "browsers told")
    poll(lambda: _saved(host, "## After the restart"), "the interviewer saves the problem")
    expect(_problem_heading(guest, "After the restart")).to_be_visible(timeout=RECOVERY_TIMEOUT_MS)
    expect(guest.get_by_role("region", name="Code editor")).to_be_visible()
    late = page_of()
    join(late, url, "Kim")
    for page in (host, guest):
        expect(participant(page, "Kim", "candidate", "online")).to_be_visible(
            timeout=RECOVERY_TIMEOUT_MS
        )
    assert on_redis.process.poll() is None
    assert on_redis.process.pid == pid
