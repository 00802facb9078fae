"""One room's document across two instances on one PostgreSQL and one Redis, behind a balancer.

Both instances are production builds whose pages reach the backend through the round-robin
balancer (``REFLEX_API_URL``), as behind a real one; each runs one process (``GRANIAN_WORKERS=1``,
as the container does). Yjs clients also connect to each instance directly.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest
import redis
from playwright.sync_api import Page, expect

from tests.collab.yclient import byte_offset, yjs_client
from tests.conftest import fresh_postgres_database
from tests.e2e.server import Server, free_port, start_server, stop_server
from tests.e2e.test_coediting import EDITOR_TEXT, focus_end, synced, text_of
from tests.e2e.test_room import join
from tests.fleet.balancer import RoundRobin

pytestmark = pytest.mark.postgres

REDIS_URL = "redis://127.0.0.1:6379/8"


@dataclass
class Fleet:
    a: Server
    b: Server
    balancer: RoundRobin

    @property
    def url(self) -> str:
        """Where users go: the balancer."""
        return f"http://127.0.0.1:{self.balancer.port}"


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    redis.Redis.from_url(REDIS_URL).flushdb()
    lb_port, ports = free_port(), [free_port(), free_port()]
    with fresh_postgres_database() as database_url:
        env = {
            "REFLEX_DB_URL": database_url,
            "REFLEX_REDIS_URL": REDIS_URL,
            "REFLEX_API_URL": f"http://127.0.0.1:{lb_port}",
            "GRANIAN_WORKERS": "1",
        }
        servers: list[Server] = []
        try:
            for port in ports:
                tmp = tmp_path_factory.mktemp(f"instance-{port}")
                servers.append(start_server(tmp, env, port, own_build=True))
            with RoundRobin(lb_port, ports) as balancer:
                yield Fleet(servers[0], servers[1], balancer)
        finally:
            for server in servers:
                stop_server(server.process)
            redis.Redis.from_url(REDIS_URL).flushdb()


def create_session(base_url: str) -> tuple[str, str]:
    """A new interview made through an instance's API: (its id, the creator's token)."""
    reply = httpx.post(
        f"{base_url}/api/v1/sessions",
        json={"title": "Fleet", "language": "python", "creator_name": "Alex"},
        timeout=10,
    )
    reply.raise_for_status()
    return reply.json()["id"], reply.json()["creator_token"]


def join_session(base_url: str, interview_id: str, name: str) -> str:
    reply = httpx.post(
        f"{base_url}/api/v1/sessions/{interview_id}/join", json={"name": name}, timeout=10
    )
    reply.raise_for_status()
    return str(reply.json()["token"])


async def test_yjs_clients_on_two_instances_edit_one_room_and_converge(fleet: Fleet) -> None:
    interview_id, creator = create_session(fleet.a.url)
    tokens = [creator] + [join_session(fleet.b.url, interview_id, f"P{i}") for i in range(3)]
    bases = [fleet.a.url, fleet.b.url, fleet.a.url, fleet.b.url]
    pieces = ["é", "👩‍💻", "漢字", "e\u0301", "\r\n", "\t", "z"]

    async def typist(number: int) -> tuple[str, dict[str, bool]]:
        """Inserts markers between markers and deletes some of its own; returns what it saw."""
        rng = random.Random(number)
        mine: dict[str, bool] = {}  # marker -> still meant to be there
        async with yjs_client(bases[number], interview_id, tokens[number]) as client:
            for step in range(40):
                text = client.value()
                kept = [m for m, alive in mine.items() if alive and m in text]
                if step % 4 == 3 and kept:
                    marker = rng.choice(kept)
                    start = text.index(marker)
                    end = start + len(marker)
                    del client.text[byte_offset(text, start) : byte_offset(text, end)]
                    mine[marker] = False
                else:
                    # Only at the start, the end or right after a marker: never inside one.
                    gaps = [0, len(text)] + [i + 1 for i, c in enumerate(text) if c == ">"]
                    marker = f"<{number}.{step}{rng.choice(pieces)}>"
                    client.text.insert(byte_offset(text, rng.choice(gaps)), marker)
                    mine[marker] = True
                await asyncio.sleep(rng.uniform(0.005, 0.03))
            return await settled(client), mine

    async def settled(client: object) -> str:
        last, stable_since = None, time.monotonic()
        while time.monotonic() - stable_since < 1.5:
            value = client.value()  # type: ignore[attr-defined]
            if value != last:
                last, stable_since = value, time.monotonic()
            await asyncio.sleep(0.1)
        return str(last)

    results = await asyncio.gather(*(typist(n) for n in range(4)))
    finals = {final for final, _ in results}
    assert len(finals) == 1, "the replicas differ"
    final = finals.pop()
    async with yjs_client(fleet.b.url, interview_id, tokens[1]) as late:
        assert await settled(late) == final
    for _, markers in results:
        for marker, alive in markers.items():
            assert final.count(marker) == (1 if alive else 0), marker
    assert final.count("def solve()") == 1, "the room was seeded more than once"


def collab_backend(fleet: Fleet, after: int) -> int:
    """The instance (0 or 1) serving the first collaboration socket opened after ``after``."""
    for routed in fleet.balancer.routed[after:]:
        if routed.request_line.startswith("GET /ws/collab/"):
            return routed.backend
    raise AssertionError("no collaboration socket went through the balancer")


def cursor_labels(page: Page) -> str:
    return str(
        page.evaluate("[...document.querySelectorAll('style')].map(s => s.textContent).join()")
    )


@pytest.mark.browser
def test_two_browsers_on_two_instances_co_edit_and_survive_a_kill_9(
    fleet: Fleet, page_of: Callable[..., Page]
) -> None:
    interview_id, _ = create_session(fleet.a.url)
    room_url = f"{fleet.url}/i/{interview_id}"
    before_host = len(fleet.balancer.routed)
    fleet.balancer.pinned = 0
    host = page_of()
    join(host, room_url, "Alex")
    synced(host)
    before_guest = len(fleet.balancer.routed)
    fleet.balancer.pinned = 1
    guest = page_of()
    join(guest, room_url, "Sam")
    synced(guest)
    fleet.balancer.pinned = None  # reconnections go round robin, past a dead instance
    victim = collab_backend(fleet, before_host)
    assert (victim, collab_backend(fleet, before_guest)) == (0, 1), fleet.balancer.routed

    # Across the instances: the text, and each other's named cursor.
    focus_end(host)
    host.keyboard.type("# typed on both sides\n", delay=10)
    guest.wait_for_function(f"{EDITOR_TEXT}.includes('# typed on both sides')")
    focus_end(guest)
    expect(host.locator("[class*='yRemoteSelectionHead-']")).to_have_count(1)
    expect(guest.locator("[class*='yRemoteSelectionHead-']")).to_have_count(1)
    assert "Sam" in cursor_labels(host)
    assert "Alex" in cursor_labels(guest)

    # The last keystrokes may not have reached any server when it dies: the browser's replica
    # carries them to the instance it reconnects to.
    host.keyboard.type("# the last words", delay=5)
    routed_before_kill = len(fleet.balancer.routed)
    killed_at = time.monotonic()
    stop_server((fleet.a, fleet.b)[victim].process, kill=True)
    guest.wait_for_function(f"{EDITOR_TEXT}.includes('# the last words')", timeout=30_000)
    recovered = time.monotonic() - killed_at
    # The host's editor reconnects through the balancer to the instance still alive (the last
    # words may have reached the guest before the kill, so wait for the move itself).
    for _ in range(300):
        if any(
            r.request_line.startswith("GET /ws/collab/")
            for r in fleet.balancer.routed[routed_before_kill:]
        ):
            break
        host.wait_for_timeout(100)
    assert collab_backend(fleet, routed_before_kill) != victim, "no socket moved"
    expect(host.get_by_role("status", name="Connection")).to_have_text("Synced", timeout=30_000)
    moved = time.monotonic() - killed_at
    focus_end(guest)
    guest.keyboard.type("\n# after the failover", delay=10)
    host.wait_for_function(f"{EDITOR_TEXT}.includes('# after the failover')", timeout=30_000)
    assert text_of(host) == text_of(guest)
    assert text_of(host).count("# the last words") == 1
    print(f"after kill -9: the guest had the last words in {recovered:.1f} s, the host was")
    print(f"synced again through the other instance in {moved:.1f} s")
