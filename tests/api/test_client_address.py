"""Which address the API's rate limits count: the direct peer, or behind trusted proxies the
client they forwarded for (REFLEX_TRUSTED_PROXY_HOPS, as Reflex's own events use)."""

from __future__ import annotations

import pytest
from reflex_base.config import get_config
from starlette.requests import Request

from rivendell.api.sessions import _client


def request_from(peer: str, forwarded_for: str | None) -> Request:
    headers = [(b"x-forwarded-for", forwarded_for.encode())] if forwarded_for else []
    return Request({"type": "http", "client": (peer, 5000), "headers": headers})


@pytest.mark.parametrize(
    ("hops", "forwarded_for", "expected"),
    [
        (0, "203.0.113.9", "10.0.0.2"),  # no trusted proxy: the header is anyone's to forge
        (1, "203.0.113.9", "203.0.113.9"),
        (1, "198.51.100.1, 203.0.113.9", "203.0.113.9"),  # the first entry is the client's word
        (2, "198.51.100.1, 203.0.113.9", "198.51.100.1"),
        (2, "203.0.113.9", "10.0.0.2"),  # fewer hops than trusted: not through the proxies
        (1, None, "10.0.0.2"),
    ],
)
def test_the_rate_limited_address(
    monkeypatch: pytest.MonkeyPatch, hops: int, forwarded_for: str | None, expected: str
) -> None:
    monkeypatch.setattr(get_config(), "trusted_proxy_hops", hops)
    assert _client(request_from("10.0.0.2", forwarded_for)) == expected
