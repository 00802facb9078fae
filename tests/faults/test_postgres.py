"""PostgreSQL going away under a running instance, and an instance starting before it.

The instance keeps running throughout: its API answers 503 ``database_unavailable`` with
``Retry-After``, its readiness check says the database is down, its pages say "The database is
unreachable — retrying"; once PostgreSQL is back everything recovers without a restart.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from rivendell.api.errors import ERROR_CODES
from rivendell.db import RETRY_AFTER_SECONDS
from rivendell.layout import DATABASE_DOWN
from tests.api.conftest import ADMIN_TOKEN
from tests.e2e.server import Server, start_server, stop_server
from tests.e2e.test_room import create_interview, participant
from tests.faults.conftest import poll, two_in_a_room
from tests.faults.services import PostgresCluster

pytestmark = [pytest.mark.postgres, pytest.mark.browser]

UNREACHABLE = re.compile(re.escape(DATABASE_DOWN))
# Generous: a page notices within a heartbeat or a retry (a few seconds), a busy machine is slower.
NOTICE_TIMEOUT_MS = 60_000


def _start(tmp: Path, cluster: PostgresCluster) -> Server:
    return start_server(
        tmp,
        {
            "REFLEX_DB_URL": cluster.url,
            "RIVENDELL_EXECUTOR": "off",
            "RIVENDELL_ADMIN_TOKEN": ADMIN_TOKEN,
            "GRANIAN_WORKERS": "1",
        },
        own_build=True,
    )


def _api(server: Server) -> httpx.Client:
    return httpx.Client(base_url=f"{server.url}/api/v1", timeout=30)


def _unavailable(response: httpx.Response) -> bool:
    assert response.status_code == 503, response.text
    assert response.json()["code"] == "database_unavailable"
    assert ERROR_CODES["database_unavailable"] == 503
    assert response.json()["message"]
    assert int(response.headers["Retry-After"]) == RETRY_AFTER_SECONDS
    return True


def _database_health(server: Server) -> tuple[int, dict[str, object]]:
    response = httpx.get(f"{server.url}/api/v1/health", timeout=30)
    return response.status_code, response.json()["components"]["database"]


def _health_down(server: Server) -> bool:
    status, database = _database_health(server)
    return status == 503 and database["status"] == "down" and bool(database["detail"])


def _health_up(server: Server) -> bool:
    status, database = _database_health(server)
    return status == 200 and database["status"] == "up"


NEW_SESSION = {"title": "Fault", "creator_name": "Ops", "language": "python"}


def _alive(server: Server, pid: int) -> None:
    assert server.process.poll() is None, server.log_text()[-4000:]
    assert server.process.pid == pid
    assert httpx.get(f"{server.url}/health", timeout=30).json() == {"status": "ok"}


@pytest.fixture(scope="module")
def running(
    tmp_path_factory: pytest.TempPathFactory, postgres_cluster: PostgresCluster
) -> Iterator[Server]:
    """The app on the module's own PostgreSQL, migrated and serving."""
    postgres_cluster.start()
    postgres_cluster.create_database()
    server = _start(tmp_path_factory.mktemp("pg-outage"), postgres_cluster)
    try:
        poll(lambda: _health_up(server), "the app migrated and ready")
        yield server
    finally:
        stop_server(server.process)


def test_postgres_outage_under_a_running_instance(
    running: Server, postgres_cluster: PostgresCluster, page_of: Callable[..., Page]
) -> None:
    pid = running.process.pid
    host, guest, url = two_in_a_room(page_of, running, "Through the outage")
    interview_id = url.rsplit("/", 1)[1]

    postgres_cluster.stop()

    with _api(running) as api:
        poll(lambda: _unavailable(api.get(f"/sessions/{interview_id}")), "GET answers 503")
        _unavailable(api.post("/sessions", json=NEW_SESSION))
    poll(lambda: _health_down(running), "readiness says the database is down")

    # The open room keeps its editor under a banner; a room opened now shows only the notice.
    expect(host.get_by_role("alert").filter(has_text=UNREACHABLE)).to_be_visible(
        timeout=NOTICE_TIMEOUT_MS
    )
    expect(host.get_by_role("region", name="Code editor")).to_be_visible()
    late = page_of()
    late.goto(url)
    expect(late.get_by_role("heading", name=UNREACHABLE)).to_be_visible(timeout=NOTICE_TIMEOUT_MS)
    home = page_of()
    home.goto(running.url)
    expect(home.get_by_role("alert").filter(has_text=UNREACHABLE)).to_be_visible(
        timeout=NOTICE_TIMEOUT_MS
    )
    admin = page_of()
    admin.goto(f"{running.url}/admin")
    admin.get_by_label("Admin token").fill(ADMIN_TOKEN)
    admin.get_by_role("button", name="Sign in").click()
    expect(admin.get_by_role("alert").filter(has_text=UNREACHABLE)).to_be_visible(
        timeout=NOTICE_TIMEOUT_MS
    )
    _alive(running, pid)

    postgres_cluster.start()

    poll(lambda: _health_up(running), "readiness says the database is up again")
    with _api(running) as api:
        poll(lambda: api.get(f"/sessions/{interview_id}").status_code == 200, "GET answers 200")
        created = api.post("/sessions", json=NEW_SESSION)
    assert created.status_code == 201, created.text

    # Every page recovers by itself: no reload.
    expect(host.get_by_role("alert").filter(has_text=UNREACHABLE)).to_have_count(
        0, timeout=NOTICE_TIMEOUT_MS
    )
    expect(late.get_by_role("button", name="Join interview")).to_be_visible(
        timeout=NOTICE_TIMEOUT_MS
    )
    expect(home.get_by_role("alert").filter(has_text=UNREACHABLE)).to_have_count(
        0, timeout=NOTICE_TIMEOUT_MS
    )
    expect(admin.get_by_role("row").filter(has_text="Through the outage")).to_have_count(
        1, timeout=NOTICE_TIMEOUT_MS
    )
    expect(admin.get_by_role("alert").filter(has_text=UNREACHABLE)).to_have_count(0)
    host.get_by_role("button", name="Edit problem").click()
    host.get_by_role("textbox", name="Problem statement").fill("## After the outage")
    host.get_by_role("button", name="Save problem").click()
    expect(
        guest.get_by_role("region", name="Problem").get_by_role("heading", name="After the outage")
    ).to_be_visible()
    late.get_by_role("textbox", name="Your name").fill("Kim")
    late.get_by_role("button", name="Join interview").click()
    expect(participant(host, "Kim", "candidate", "online")).to_be_visible()
    _alive(running, pid)
    assert "Reflex Backend Exception" not in running.log_text()


def test_an_instance_started_before_postgres_waits_then_serves(
    tmp_path_factory: pytest.TempPathFactory, page_of: Callable[..., Page]
) -> None:
    cluster = PostgresCluster()
    try:
        server = _start(tmp_path_factory.mktemp("pg-late"), cluster)
        try:
            pid = server.process.pid
            # It serves at once: liveness up, readiness down, the API and the pages say why.
            status, database = _database_health(server)
            assert status == 503
            assert database["status"] == "down"
            with _api(server) as api:
                _unavailable(api.post("/sessions", json=NEW_SESSION))
            home = page_of()
            home.goto(server.url)
            expect(home.get_by_role("alert").filter(has_text=UNREACHABLE)).to_be_visible(
                timeout=NOTICE_TIMEOUT_MS
            )
            poll(lambda: "waiting for the database" in server.log_text(), "the log says why")
            _alive(server, pid)

            cluster.start()
            cluster.create_database()

            poll(lambda: _health_up(server), "readiness up once PostgreSQL is")
            _alive(server, pid)
            expect(home.get_by_role("alert").filter(has_text=UNREACHABLE)).to_have_count(
                0, timeout=NOTICE_TIMEOUT_MS
            )
            url = create_interview(home, server, title="Migrated late")
            with _api(server) as api:
                response = api.get(f"/sessions/{url.rsplit('/', 1)[1]}")
            assert response.status_code == 200
            assert response.json()["title"] == "Migrated late"
        finally:
            stop_server(server.process)
    finally:
        cluster.remove()
