"""The timeline and the export over real HTTP: interviewers (and the admin) only, in the
documented format, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
import zipfile

import httpx
import jsonschema_rs

from rivendell.timeline import schema_json
from tests.api.conftest import ADMIN_TOKEN, bearer, create
from tests.e2e.server import Server


def test_interviewers_read_the_timeline_and_download_the_archive(any_server: Server) -> None:
    created = create(any_server, title="Timeline: two sum")
    sid, creator = created["id"], created["creator_token"]
    with httpx.Client(base_url=f"{any_server.url}/api/v1", timeout=60) as api:
        seat = api.post(f"/sessions/{sid}/join", json={"name": "Casey"}).json()
        problem = {"markdown": "# Two sum"}
        assert api.put(f"/sessions/{sid}/problem", json=problem, headers=bearer(creator)).is_success
        ran = api.post(
            f"/sessions/{sid}/execute",
            json={"code": "print(input()[::-1])", "stdin": "olleh"},
            headers=bearer(seat["token"]),
        )
        assert ran.status_code == 200, ran.text

        timeline = api.get(f"/sessions/{sid}/timeline", headers=bearer(creator))
        assert timeline.status_code == 200, timeline.text
        document = timeline.json()
        jsonschema_rs.validator_for(json.loads(schema_json())).validate(document)
        kinds = [(e["kind"], e["participant_id"]) for e in document["events"]]
        # The join is recorded from the room event the seat announced, just after it.
        assert ("join", seat["participant_id"]) in kinds
        kinds.remove(("join", seat["participant_id"]))
        creator_id = document["participants"][0]["id"]
        assert kinds == [("problem", creator_id), ("run", seat["participant_id"])]
        run = next(e["data"] for e in document["events"] if e["kind"] == "run")
        assert (run["code"], run["stdin"]) == ("print(input()[::-1])", "olleh")
        assert run["status"] == ran.json()["status"]
        last = document["events"][-1]["id"]
        later = api.get(
            f"/sessions/{sid}/timeline", params={"after": last}, headers=bearer(creator)
        )
        assert later.json()["events"] == []
        assert api.get(f"/sessions/{sid}/timeline", headers=bearer(ADMIN_TOKEN)).is_success

        refused = api.get(f"/sessions/{sid}/timeline", headers=bearer(seat["token"]))
        assert refused.status_code == 403
        assert refused.json()["code"] == "forbidden"
        assert api.get(f"/sessions/{sid}/timeline").status_code == 401
        assert api.get(f"/sessions/{sid}/export", headers=bearer(seat["token"])).status_code == 403
        assert api.get("/sessions/nope/timeline", headers=bearer(creator)).status_code == 404

        exported = api.get(f"/sessions/{sid}/export", headers=bearer(creator))
        assert exported.status_code == 200
        assert exported.headers["content-type"] == "application/zip"
        disposition = exported.headers["content-disposition"]
        assert disposition == f'attachment; filename="rivendell-timeline-two-sum-{sid[:8]}.zip"'
        with zipfile.ZipFile(io.BytesIO(exported.content)) as archive:
            assert json.loads(archive.read("timeline.json"))["events"] == document["events"]
            assert archive.read("problem.md").decode() == "# Two sum"
            assert json.loads(archive.read("runs.json")) == [run]
