"""REST v1 for the interviewer's toolkit: notes, controls and the interviewer link, over HTTP."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.api.conftest import bearer, create
from tests.e2e.server import Server

# Anchors made by Yjs in a browser-like client (tests/node/anchors.fixture.mjs).
YJS = json.loads((Path(__file__).parents[1] / "node" / "anchors.json").read_text())


def _api(server: Server) -> httpx.Client:
    return httpx.Client(base_url=f"{server.url}/api/v1", timeout=30)


def _seat(api: httpx.Client, sid: str, name: str, key: str | None = None) -> dict:
    body = {"name": name} | ({"interviewer_key": key} if key is not None else {})
    joined = api.post(f"/sessions/{sid}/join", json=body)
    assert joined.status_code == 201, joined.text
    return joined.json()


def test_notes_are_the_interviewers_and_a_candidate_token_gets_403(any_server: Server) -> None:
    created = create(any_server)
    sid, creator = created["id"], created["creator_token"]
    with _api(any_server) as api:
        candidate = _seat(api, sid, "Casey")["token"]
        note = {
            "markdown": "Uses a **set**",
            "anchor_start": YJS["anchor_start"],
            "anchor_end": YJS["anchor_end"],
            "line_start": 2,
            "line_end": 3,
        }
        made = api.post(f"/sessions/{sid}/notes", json=note, headers=bearer(creator))
        assert made.status_code == 201, made.text
        out = made.json()
        assert out["kind"] == "note"
        assert "<strong>set</strong>" in out["html"]
        assert (out["line_start"], out["line_end"]) == (2, 3)
        assert out["anchor_start"] == YJS["anchor_start"]

        for response in (
            api.get(f"/sessions/{sid}/notes", headers=bearer(candidate)),
            api.post(f"/sessions/{sid}/notes", json=note, headers=bearer(candidate)),
            api.patch(
                f"/sessions/{sid}/notes/{out['id']}",
                json={"markdown": "x"},
                headers=bearer(candidate),
            ),
            api.delete(f"/sessions/{sid}/notes/{out['id']}", headers=bearer(candidate)),
        ):
            assert response.status_code == 403, response.text
            assert response.json() == {
                "code": "forbidden",
                "message": response.json()["message"],
            }
            assert "only interviewers" in response.json()["message"]
            assert "set" not in response.text
        assert api.get(f"/sessions/{sid}/notes").status_code == 401

        hint = api.post(f"/sessions/{sid}/notes", json={"kind": "hint"}, headers=bearer(creator))
        assert hint.json()["kind"] == "hint"
        changed = api.patch(
            f"/sessions/{sid}/notes/{out['id']}",
            json={"markdown": "Better"},
            headers=bearer(creator),
        )
        assert changed.json()["markdown"] == "Better"
        assert changed.json()["line_start"] == 2
        listed = api.get(f"/sessions/{sid}/notes", headers=bearer(creator)).json()
        assert [n["id"] for n in listed] == [out["id"], hint.json()["id"]]
        gone = api.delete(f"/sessions/{sid}/notes/{hint.json()['id']}", headers=bearer(creator))
        assert gone.status_code == 204
        missing = api.delete(f"/sessions/{sid}/notes/{hint.json()['id']}", headers=bearer(creator))
        assert missing.status_code == 404
        bad = api.post(
            f"/sessions/{sid}/notes",
            json={"markdown": "x", "anchor_start": "not base64!"},
            headers=bearer(creator),
        )
        assert bad.status_code == 422
        # Nothing about notes in what anyone holding the link sees.
        shown = api.get(f"/sessions/{sid}").text
        assert "Better" not in shown
        assert "interviewer_key" not in shown


def test_the_interviewer_link_through_the_api(any_server: Server) -> None:
    created = create(any_server)
    sid = created["id"]
    link = created["interviewer_url"]
    assert link.startswith(created["url"] + "?interviewer=")
    key = link.rsplit("=", 1)[1]
    with _api(any_server) as api:
        assert key not in api.get(f"/sessions/{sid}").text
        seat = _seat(api, sid, "Robin", key)
        assert seat["role"] == "interviewer"
        assert api.get(f"/sessions/{sid}/notes", headers=bearer(seat["token"])).status_code == 200
        wrong = api.post(f"/sessions/{sid}/join", json={"name": "Eve", "interviewer_key": "nope"})
        assert wrong.status_code == 403
        assert "interviewer link is not valid" in wrong.json()["message"]
        people = api.get(f"/sessions/{sid}").json()["participants"]
        assert [p["name"] for p in people] == ["Ada", "Robin"]
        assert _seat(api, sid, "Casey")["role"] == "candidate"


def test_controls_through_the_api(any_server: Server) -> None:
    created = create(any_server)
    sid, creator = created["id"], created["creator_token"]
    with _api(any_server) as api:
        candidate = _seat(api, sid, "Casey")["token"]
        assert api.get(f"/sessions/{sid}").json()["locked"] is False
        set_ = api.patch(
            f"/sessions/{sid}/controls", json={"run_disabled": True}, headers=bearer(creator)
        )
        assert set_.json() == {"locked": False, "run_disabled": True}
        shown = api.get(f"/sessions/{sid}").json()
        assert shown["run_disabled"] is True
        refused = api.post(f"/sessions/{sid}/execute", json={}, headers=bearer(candidate))
        assert refused.status_code == 403
        assert refused.json()["message"] == "the interviewer has disabled Run for candidates"
        assert (
            api.patch(
                f"/sessions/{sid}/controls", json={"locked": True}, headers=bearer(candidate)
            ).status_code
            == 403
        )


@pytest.mark.parametrize(
    "path",
    ["/api/v1/sessions/{session_id}/notes", "/api/v1/sessions/{session_id}/controls"],
)
def test_the_toolkit_routes_are_documented(api_server: Server, path: str) -> None:
    schema = httpx.get(f"{api_server.url}/api/v1/openapi.json", timeout=30).json()
    operations = schema["paths"][path]
    for operation in operations.values():
        assert operation["summary"]
        assert "403" in operation["responses"]
