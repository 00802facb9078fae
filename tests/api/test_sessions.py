"""REST v1 over real HTTP against the running production build, on SQLite and PostgreSQL."""

from __future__ import annotations

import httpx
import pytest

from rivendell.api.errors import ERROR_CODES, MAX_BODY_BYTES
from tests.api.conftest import ADMIN_TOKEN, bearer, create
from tests.e2e.server import Server


def _api(server: Server) -> httpx.Client:
    return httpx.Client(base_url=f"{server.url}/api/v1", timeout=30)


def _error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["code"] == code
    assert ERROR_CODES[code] == status
    assert response.json()["message"]


def test_create_get_and_unknown(any_server: Server) -> None:
    created = create(any_server, title="  Backend   round ")
    assert created["title"] == "Backend round"
    assert created["url"].endswith(f"/i/{created['id']}")
    assert created["creator_token"]
    assert created["status"] == "active"
    with _api(any_server) as api:
        shown = api.get(f"/sessions/{created['id']}").json()
        assert shown["participants"][0]["role"] == "interviewer"
        assert "creator_token" not in shown
        assert "token_hash" not in str(shown)
        _error(api.get("/sessions/unknown-id"), 404, "not_found")
        # A newline in the id (schemathesis found it) once fell past every route.
        creator = bearer(created["creator_token"])
        _error(api.delete("/sessions/a%0Ab", headers=creator), 404, "not_found")
        _error(api.get("/sessions/%0A"), 404, "not_found")
        bad = {"title": "", "language": "cobol-85", "creator_name": "Ada"}
        _error(api.post("/sessions", json=bad), 422, "validation_error")


def test_problem_join_and_permissions(any_server: Server) -> None:
    created = create(any_server)
    sid, creator = created["id"], created["creator_token"]
    with _api(any_server) as api:
        joined = api.post(f"/sessions/{sid}/join", json={"name": "Casey"})
        assert joined.status_code == 201
        seat = joined.json()
        assert seat["role"] == "candidate"
        assert seat["participant_id"] > 1
        assert seat["token"]

        body = {"markdown": "# Two sum\nReturn indices."}
        _error(api.put(f"/sessions/{sid}/problem", json=body), 401, "unauthorized")
        no_seat = api.put(f"/sessions/{sid}/problem", json=body, headers=bearer("nobody"))
        _error(no_seat, 401, "unauthorized")
        assert no_seat.headers["www-authenticate"] == "Bearer"
        candidate = api.put(f"/sessions/{sid}/problem", json=body, headers=bearer(seat["token"]))
        _error(candidate, 403, "forbidden")
        updated = api.put(f"/sessions/{sid}/problem", json=body, headers=bearer(creator))
        assert updated.status_code == 200
        assert api.get(f"/sessions/{sid}").json()["problem_markdown"] == body["markdown"]
        names = [p["name"] for p in api.get(f"/sessions/{sid}").json()["participants"]]
        assert names == ["Ada", "Casey"]


def test_list_needs_the_admin_token_pages_and_never_shows_tokens(any_server: Server) -> None:
    first, second = create(any_server, title="List one"), create(any_server, title="List two")
    with _api(any_server) as api:
        _error(api.get("/sessions"), 401, "unauthorized")
        _error(api.get("/sessions", headers=bearer(first["creator_token"])), 401, "unauthorized")
        page = api.get("/sessions", params={"limit": 1}, headers=bearer(ADMIN_TOKEN)).json()
        assert len(page["items"]) == 1
        assert page["total"] >= 2
        assert page["limit"] == 1
        found = api.get("/sessions", params={"q": "List t"}, headers=bearer(ADMIN_TOKEN)).json()
        assert [item["id"] for item in found["items"]] == [second["id"]]
        listed = api.get("/sessions", params={"limit": 200}, headers=bearer(ADMIN_TOKEN))
        assert first["creator_token"] not in listed.text
        assert "token" not in listed.text


def test_ending_makes_it_read_only(any_server: Server) -> None:
    created = create(any_server)
    sid, creator = created["id"], created["creator_token"]
    with _api(any_server) as api:
        seat = api.post(f"/sessions/{sid}/join", json={"name": "Casey"}).json()
        _error(api.delete(f"/sessions/{sid}", headers=bearer(seat["token"])), 403, "forbidden")
        ended = api.delete(f"/sessions/{sid}", headers=bearer(creator))
        assert ended.status_code == 200
        assert ended.json()["status"] == "ended"
        assert api.get(f"/sessions/{sid}").json()["ended_at"] is not None
        body = {"markdown": "too late"}
        late = api.put(f"/sessions/{sid}/problem", json=body, headers=bearer(creator))
        _error(late, 409, "session_ended")
        _error(api.post(f"/sessions/{sid}/join", json={"name": "Late"}), 409, "session_ended")
        run = api.post(f"/sessions/{sid}/execute", json={"code": "1"}, headers=bearer(creator))
        _error(run, 409, "session_ended")
        _error(api.delete(f"/sessions/{sid}", headers=bearer(ADMIN_TOKEN)), 409, "session_ended")
    other = create(any_server)
    with _api(any_server) as api:
        by_admin = api.delete(f"/sessions/{other['id']}", headers=bearer(ADMIN_TOKEN))
        assert by_admin.json()["status"] == "ended"


def test_oversized_bodies_are_413(api_server: Server) -> None:
    created = create(api_server)
    with _api(api_server) as api:
        huge = "x" * (MAX_BODY_BYTES + 1)
        response = api.put(
            f"/sessions/{created['id']}/problem",
            content=f'{{"markdown": "{huge}"}}',
            headers={**bearer(created["creator_token"]), "content-type": "application/json"},
        )
        _error(response, 413, "payload_too_large")
        code = "x" * (1024 * 1024 + 1)
        run = api.post(
            f"/sessions/{created['id']}/execute",
            json={"code": code},
            headers=bearer(created["creator_token"]),
        )
        _error(run, 413, "payload_too_large")


@pytest.mark.docker
def test_execute_runs_in_the_sandbox_and_is_the_rooms_run(api_server: Server) -> None:
    created = create(api_server)
    sid = created["id"]
    with _api(api_server) as api:
        seat = api.post(f"/sessions/{sid}/join", json={"name": "Casey"}).json()
        body = {"language": "python", "code": "print(input()[::-1])", "stdin": "abc\n"}
        run = api.post(f"/sessions/{sid}/execute", json=body, headers=bearer(seat["token"]))
        assert run.status_code == 200, run.text
        result = run.json()
        assert result["status"] == "ok"
        assert result["stdout"] == "cba\n"
        assert result["exit_code"] == 0
        assert result["duration_ms"] >= 0
        assert api.get(f"/sessions/{sid}").json()["last_run"]["run_id"] == result["run_id"]
        _error(api.post(f"/sessions/{sid}/execute", json=body), 401, "unauthorized")
        unknown = api.post(
            f"/sessions/{sid}/execute", json={"language": "cobol"}, headers=bearer(seat["token"])
        )
        _error(unknown, 422, "validation_error")
