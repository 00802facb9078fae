"""State shared across pages: who this browser is in each interview it has joined.

The bearer tokens live in the browser's local storage and nowhere else on the client; the
server keeps only their hashes. Rights always come from a token, never from a name or the URL.
"""

from __future__ import annotations

import json

import reflex as rx

__all__ = ["IdentityState"]

# One browser rarely holds more; the cap keeps the stored map (sent on every page load) small.
_MAX_REMEMBERED = 50


class IdentityState(rx.State):
    """The tokens this browser holds, by interview id."""

    identities: str = rx.LocalStorage("{}", name="rivendell-identities", sync=True)

    def _tokens(self) -> dict[str, str]:
        try:
            stored = json.loads(self.identities or "{}")
        except ValueError:
            return {}
        if not isinstance(stored, dict):
            return {}
        return {k: v for k, v in stored.items() if isinstance(k, str) and isinstance(v, str)}

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
