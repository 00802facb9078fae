"""The HTTP surface beside the Reflex app, on the same port: REST v1, its docs, the event stream
and the health checks. ``create_api()`` builds it; Reflex mounts its own routes under it.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.convertors import PathConvertor, register_url_convertor

from rivendell.api import docs, health, notes, sessions, tests
from rivendell.api.errors import ApiError, BodySizeLimit, install_error_handlers
from rivendell.api.stream import stream_events

__all__ = ["OPENAPI_URL", "create_api"]

OPENAPI_URL = "/api/v1/openapi.json"


class _AnyPath(PathConvertor):
    # Starlette's `path` is `.*`, which stops at a newline: a request for `/api/v1/sessions/a%0Ab`
    # then matched no mount at all, not even Reflex's top-level one, and got a plain-text 404.
    regex = "[\\s\\S]*"


# Before any route is compiled (Reflex builds its top-level app after importing this package).
register_url_convertor("path", _AnyPath())


def create_api() -> FastAPI:
    """The FastAPI app: its routes first, then (added by Reflex) everything of the Reflex app."""
    api = FastAPI(
        title="Rivendell API",
        version="1.0.0",
        summary="Create and drive live coding interviews.",
        description=(
            "Interviews are called sessions here. Tokens go in `Authorization: Bearer …`: "
            "the creator's (from create), a participant's (from join) or the admin token. "
            'Errors are `{"code", "message"}` with a stable code. Live events: '
            "`WS /ws/sessions/{id}?token=…`."
        ),
        openapi_url=OPENAPI_URL,
        docs_url=None,
        redoc_url=None,
    )
    install_error_handlers(api)
    api.add_middleware(BodySizeLimit)
    api.add_route("/health", health.liveness, methods=["GET"], include_in_schema=False)
    api.include_router(health.router)
    api.include_router(sessions.router)
    api.include_router(notes.router)
    api.include_router(tests.router)
    api.include_router(docs.router)
    api.mount(docs.ASSETS_PATH, docs.assets, name="docs-assets")
    api.add_api_websocket_route("/ws/sessions/{session_id}", stream_events)
    # Last of the API's routes: any other path under /api/ (an id holding "/" or a newline, a
    # typo) answers in the API's JSON, not with the Reflex app's plain-text 404.
    api.add_api_route(
        "/api/{path:path}",
        _unknown_route,
        methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        include_in_schema=False,
    )
    return api


async def _unknown_route(path: str) -> None:
    raise ApiError("not_found", f"no such API route: /api/{path[:200]}")
