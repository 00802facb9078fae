"""The interviewer's lock and the end reach Yjs sockets served by the other instance."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.api.conftest import bearer, create
from tests.collab.yclient import yjs_client
from tests.fleet.conftest import Fleet

pytestmark = pytest.mark.postgres

SETTLE_SECONDS = 2.5


async def test_a_lock_and_the_end_set_on_a_hold_for_sockets_on_b(fleet: Fleet) -> None:
    created = create(fleet.a)
    sid, creator = created["id"], created["creator_token"]
    async with httpx.AsyncClient(timeout=30) as http:
        joined = await http.post(f"{fleet.b.url}/api/v1/sessions/{sid}/join", json={"name": "S"})
        candidate = joined.json()["token"]
        joined = await http.post(f"{fleet.b.url}/api/v1/sessions/{sid}/join", json={"name": "K"})
        other = joined.json()["token"]
        async with (
            yjs_client(fleet.a.url, sid, creator) as host,
            yjs_client(fleet.b.url, sid, candidate) as guest,
            yjs_client(fleet.b.url, sid, other) as locked_out,
        ):
            api = f"{fleet.a.url}/api/v1/sessions/{sid}"
            await http.patch(f"{api}/controls", json={"locked": True}, headers=bearer(creator))
            await asyncio.sleep(1)
            locked_out.text += "# LOCKED-ON-B\n"
            await asyncio.sleep(SETTLE_SECONDS)
            assert "LOCKED-ON-B" not in host.value()
            await http.patch(f"{api}/controls", json={"locked": False}, headers=bearer(creator))
            await asyncio.sleep(1)
            guest.text += "# OPEN-ON-B\n"
            await asyncio.sleep(SETTLE_SECONDS)
            assert "OPEN-ON-B" in host.value()

            await http.delete(api, headers=bearer(creator))
            await asyncio.sleep(1)
            guest.text += "# AFTER-END-ON-B\n"
            await asyncio.sleep(SETTLE_SECONDS)
            assert "AFTER-END-ON-B" not in host.value()
        shown = (await http.get(api)).json()
        assert "OPEN-ON-B" in shown["code"]
        assert "LOCKED-ON-B" not in shown["code"]
        assert "AFTER-END-ON-B" not in shown["code"]
