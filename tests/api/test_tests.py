"""REST v1 test cases over real HTTP: who writes them, what a candidate sees, and Run tests."""

from __future__ import annotations

import httpx
import pytest

from rivendell.models import MAX_TEST_CASES
from tests.api.conftest import bearer, create
from tests.api.test_sessions import _api, _error
from tests.e2e.server import Server

SECRET_IN = "secret-input-31337"
SECRET_OUT = "secret-output-4242"


def _join(api: httpx.Client, sid: str) -> str:
    seat = api.post(f"/sessions/{sid}/join", json={"name": "Sam"})
    assert seat.status_code == 201, seat.text
    return seat.json()["token"]


def test_cases_are_written_by_the_interviewer_and_hidden_from_candidates(
    any_server: Server,
) -> None:
    created = create(any_server)
    sid, host = created["id"], bearer(created["creator_token"])
    with _api(any_server) as api:
        guest = bearer(_join(api, sid))
        shown = {"name": "greets", "stdin": "", "expected_stdout": "Hello, Rivendell!\n"}
        made = api.post(f"/sessions/{sid}/tests", json=shown, headers=host)
        assert made.status_code == 201, made.text
        assert made.headers["Location"].endswith(f"/tests/{made.json()['id']}")
        secret = {"name": "edge", "stdin": SECRET_IN, "expected_stdout": SECRET_OUT, "hidden": True}
        hidden_id = api.post(f"/sessions/{sid}/tests", json=secret, headers=host).json()["id"]

        _error(api.post(f"/sessions/{sid}/tests", json=shown, headers=guest), 403, "forbidden")
        _error(api.post(f"/sessions/{sid}/tests", json=shown), 401, "unauthorized")
        _error(api.get(f"/sessions/{sid}/tests"), 401, "unauthorized")
        _error(api.post(f"/sessions/{sid}/tests", json={"name": " "}, headers=host), 422,
               "validation_error")  # fmt: skip
        big = {"name": "big", "stdin": "x" * (1024 * 1024 + 1)}
        _error(api.post(f"/sessions/{sid}/tests", json=big, headers=host), 413, "payload_too_large")

        full = api.get(f"/sessions/{sid}/tests", headers=host).json()
        assert [(c["name"], c["stdin"]) for c in full] == [("greets", ""), ("edge", SECRET_IN)]
        seen = api.get(f"/sessions/{sid}/tests", headers=guest)
        assert seen.status_code == 200
        assert SECRET_IN not in seen.text
        assert SECRET_OUT not in seen.text
        assert "edge" not in seen.text
        assert seen.json()[1] == {
            "id": hidden_id, "position": 1, "name": "Hidden case 2", "hidden": True,
            "stdin": None, "expected_stdout": None,
        }  # fmt: skip

        renamed = {**secret, "name": "edge case"}
        _error(api.put(f"/sessions/{sid}/tests/{hidden_id}", json=renamed, headers=guest), 403,
               "forbidden")  # fmt: skip
        put = api.put(f"/sessions/{sid}/tests/{hidden_id}", json=renamed, headers=host)
        assert put.status_code == 200
        assert put.json()["name"] == "edge case"
        _error(api.put(f"/sessions/{sid}/tests/999999", json=renamed, headers=host), 404,
               "not_found")  # fmt: skip
        _error(api.delete(f"/sessions/{sid}/tests/{hidden_id}", headers=guest), 403, "forbidden")
        assert api.delete(f"/sessions/{sid}/tests/{hidden_id}", headers=host).status_code == 204
        assert len(api.get(f"/sessions/{sid}/tests", headers=host).json()) == 1
        for index in range(MAX_TEST_CASES - 1):
            api.post(f"/sessions/{sid}/tests", json={"name": f"c{index}"}, headers=host)
        _error(api.post(f"/sessions/{sid}/tests", json=shown, headers=host), 422,
               "validation_error")  # fmt: skip


def test_run_tests_in_the_sandbox_strips_hidden_details_for_candidates(
    api_server: Server,
) -> None:
    created = create(api_server)
    sid, host = created["id"], bearer(created["creator_token"])
    with _api(api_server) as api:
        guest = bearer(_join(api, sid))
        _error(api.post(f"/sessions/{sid}/tests/run", headers=guest), 422, "validation_error")
        # The room's code is the Python starter, which greets.
        api.post(f"/sessions/{sid}/tests", headers=host,
                 json={"name": "greets", "expected_stdout": "Hello, Rivendell!  \n\n"})  # fmt: skip
        api.post(f"/sessions/{sid}/tests", headers=host,
                 json={"name": "edge", "stdin": SECRET_IN, "expected_stdout": SECRET_OUT,
                       "hidden": True})  # fmt: skip
        ran = api.post(f"/sessions/{sid}/tests/run", headers=guest, timeout=120)
        assert ran.status_code == 200, ran.text
        body = ran.json()
        assert (body["passed"], body["total"]) == (1, 2)
        assert [(r["name"], r["passed"], r["status"]) for r in body["results"]] == [
            ("greets", True, "ok"),
            ("Hidden case 2", False, "ok"),
        ]
        assert body["results"][0]["stdout"] == "Hello, Rivendell!\n"
        assert SECRET_IN not in ran.text
        assert SECRET_OUT not in ran.text
        assert body["results"][1]["stdout"] == ""

        as_host = api.post(f"/sessions/{sid}/tests/run", headers=host, timeout=120).json()
        assert as_host["results"][1]["name"] == "edge"
        assert as_host["results"][1]["expected_stdout"] == SECRET_OUT
        # Test-case runs are not the room's last run.
        assert api.get(f"/sessions/{sid}").json()["last_run"] is None
        _error(api.post(f"/sessions/{sid}/tests/run", headers=bearer("forged")), 401,
               "unauthorized")  # fmt: skip


@pytest.mark.parametrize("method", ["put", "delete"])
def test_a_case_id_must_be_a_number(api_server: Server, method: str) -> None:
    created = create(api_server)
    with _api(api_server) as api:
        response = api.request(
            method.upper(),
            f"/sessions/{created['id']}/tests/abc",
            json={"name": "x"},
            headers=bearer(created["creator_token"]),
        )
        _error(response, 422, "validation_error")
