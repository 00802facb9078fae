"""Health checks for load balancers and operators."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

__all__ = ["liveness"]


async def liveness(_request: Request) -> JSONResponse:
    """The process is up and its event loop answers; nothing else is checked."""
    return JSONResponse({"status": "ok"})
