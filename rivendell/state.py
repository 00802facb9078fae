"""State shared across pages: who this browser is in each interview it has joined.

The bearer tokens live in the browser's local storage and nowhere else on the client; the
server keeps only their hashes. Rights always come from a token, never from a name or the URL.

The browser's copy is the one that counts. The backend's is lost with the page's state when
Reflex's state store loses it (Redis restarted, or the state expired); Reflex then rehydrates
the page without the browser's storage, so a page that needs the tokens reads them again with
``read_tokens_from_browser``.
"""

from __future__ import annotations

import json
from typing import Any

import reflex as rx

__all__ = ["IDENTITIES_KEY", "IdentityState", "read_tokens_from_browser"]

IDENTITIES_KEY = "rivendell-identities"
"""The local-storage key holding this browser's tokens (a JSON object by interview id)."""

# One browser rarely holds more; the cap keeps the stored map (sent on every page load) small.
_MAX_REMEMBERED = 50


class IdentityState(rx.State):
    """The tokens this browser holds, by interview id."""

    identities: str = rx.LocalStorage("{}", name=IDENTITIES_KEY, sync=True)

    def _tokens(self) -> dict[str, str]:
        return _parse(self.identities)

    def adopt(self, stored: object) -> None:
        """Take the browser's own copy (read from its local storage) as this state's."""
        if isinstance(stored, str) and (tokens := _parse(stored)) != self._tokens():
            self.identities = json.dumps(tokens)

    def token_for(self, interview_id: str) -> str:
        """This browser's token for the interview, or ``""``."""
        return self._tokens().get(interview_id, "")

    def remember(self, interview_id: str, token: str) -> None:
        """Keep ``token`` as this browser's identity in the interview."""
        tokens = self._tokens()
        tokens.pop(interview_id, None)
        tokens[interview_id] = token
        self.identities = json.dumps(dict(list(tokens.items())[-_MAX_REMEMBERED:]))

    def forget(self, interview_id: str) -> None:
        """Drop a token the server no longer knows."""
        tokens = self._tokens()
        if tokens.pop(interview_id, None) is not None:
            self.identities = json.dumps(tokens)


def _parse(stored: str) -> dict[str, str]:
    try:
        tokens = json.loads(stored or "{}")
    except ValueError:
        return {}
    if not isinstance(tokens, dict):
        return {}
    return {k: v for k, v in tokens.items() if isinstance(k, str) and isinstance(v, str)}


def read_tokens_from_browser(callback: Any) -> Any:
    """An event that reads the browser's stored tokens and passes them (a string) to
    ``callback``, which hands them to ``IdentityState.adopt``."""
    return rx.call_script(
        f"window.localStorage.getItem({json.dumps(IDENTITIES_KEY)}) ?? '{{}}'", callback=callback
    )
