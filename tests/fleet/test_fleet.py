"""The fleet itself: several workers per instance, and every key in the fleet's Redis database."""

from __future__ import annotations

import httpx
import pytest

from tests.api.conftest import bearer, create
from tests.fleet.conftest import Fleet

pytestmark = pytest.mark.postgres


def test_each_instance_runs_its_workers_and_answers_on_its_own_port(fleet: Fleet) -> None:
    for server in fleet.servers:
        workers = fleet.worker_pids(server)
        print(f"\n{server.url}: {len(workers)} workers")
        if fleet.workers is None:
            assert len(workers) > 1, "Reflex starts several workers with a Redis URL"
        else:
            assert len(workers) == fleet.workers
        assert httpx.get(f"{server.url}/health", timeout=10).status_code == 200
    assert fleet.a.url != fleet.b.url


def test_what_one_instance_writes_the_other_reads_and_redis_keys_stay_in_one_database(
    fleet: Fleet,
) -> None:
    created = create(fleet.a, title="Seen from both")
    shown = httpx.get(f"{fleet.b.url}/api/v1/sessions/{created['id']}", timeout=10)
    assert shown.json()["title"] == "Seen from both"
    joined = httpx.post(
        f"{fleet.b.url}/api/v1/sessions/{created['id']}/join", json={"name": "Kim"}, timeout=10
    )
    assert joined.status_code == 201
    ended = httpx.delete(
        f"{fleet.a.url}/api/v1/sessions/{created['id']}",
        headers=bearer(created["creator_token"]),
        timeout=10,
    )
    assert ended.status_code < 300
    keys = fleet.redis_keys()
    assert any(key.startswith("rivendell:rate:") for key in keys), keys
