"""HTTP routes mounted beside the Reflex app on the same port."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Route

from rivendell.api.health import liveness

__all__ = ["create_api"]


def create_api() -> Starlette:
    """The Starlette app Reflex mounts its own routes under."""
    return Starlette(routes=[Route("/health", liveness, methods=["GET"])])
