"""Production builds reach the backend at the page's own origin, wherever the page is served.

Reflex bakes its backend URL (``api_url``, ``http://localhost:<port>`` by default) into the
frontend build. In the browser, ``getBackendURL`` (Reflex's ``utils/state.js``) swaps a
``localhost`` host for the page's host but keeps the baked port, and drops the port only over
https. Behind a load balancer on another port (``http://lb:8080``) the socket would then dial
``ws://lb:8000/_event``, past the balancer. A production build is served on one port with its
backend (``--single-port`` or ``scripts/serve.py``), so the backend is always the page's own
origin: scheme, host and port. ``SameOriginPlugin`` patches ``getBackendURL`` to say so, so one
image works behind any balancer, host, port or scheme. The collaboration socket derives its URL
from the same function (``components/collab.jsx``).

It changes nothing when ``api_url`` names a real host (``REFLEX_API_URL=https://api.example``:
that URL is used as it is), and nothing in development, where Vite serves the pages on another
port than the backend (a development compile restores Reflex's code if a production build had
patched it).
"""

from __future__ import annotations

from typing import Any

from reflex.constants import Env
from reflex.plugins import Plugin
from reflex_base.environment import environment

__all__ = ["STATE_JS", "SameOriginPlugin", "same_origin_state_js"]

STATE_JS = "utils/state.js"

# Reflex 0.10.1's code, from the SAME_DOMAIN_HOSTNAMES branch of getBackendURL.
_REFLEX = """\
    // Use the frontend domain to access the backend
    const frontend_hostname = window.location.hostname;
    endpoint.hostname = frontend_hostname;
    if (window.location.protocol === "https:") {
      if (endpoint.protocol === "ws:") {
        endpoint.protocol = "wss:";
      } else if (endpoint.protocol === "http:") {
        endpoint.protocol = "https:";
      }
      endpoint.port = ""; // Assume websocket is on https port via load balancer.
    }
"""

_SAME_ORIGIN = """\
    // Rivendell (rivendell/same_origin.py): a production build is served with its backend on
    // one port, often behind a load balancer: the backend is the page's own origin.
    const secure = window.location.protocol === "https:";
    const socket = endpoint.protocol === "ws:" || endpoint.protocol === "wss:";
    endpoint.protocol = socket ? (secure ? "wss:" : "ws:") : window.location.protocol;
    endpoint.hostname = window.location.hostname;
    endpoint.port = window.location.port;
"""


def same_origin_state_js(source: str, *, production: bool) -> str:
    """Reflex's ``utils/state.js`` with the same-origin backend URL (``production``) or without.

    Raises:
        RuntimeError: A production build of a Reflex whose ``getBackendURL`` changed: the
            patch must be redone rather than silently skipped.
    """
    if not production:
        return source.replace(_SAME_ORIGIN, _REFLEX)
    if _SAME_ORIGIN in source:
        return source
    if _REFLEX not in source:
        msg = (
            f"SameOriginPlugin: getBackendURL in {STATE_JS} is not Reflex 0.10.1's; "
            "update rivendell/same_origin.py for this Reflex version"
        )
        raise RuntimeError(msg)
    return source.replace(_REFLEX, _SAME_ORIGIN)


def _patch(source: str) -> str:
    return same_origin_state_js(source, production=environment.REFLEX_ENV_MODE.get() == Env.PROD)


class SameOriginPlugin(Plugin):
    """Register in ``rx.Config(plugins=[...])``; see the module docstring."""

    def pre_compile(self, **context: Any) -> None:
        """Patch (production) or restore (development) the compiled ``utils/state.js``.

        Args:
            context: The pre-compile context from Reflex.
        """
        context["add_modify_task"](STATE_JS, _patch)
