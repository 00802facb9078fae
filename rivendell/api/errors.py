"""The API's errors: one JSON shape, ``{"code", "message"}``, with stable codes.

Routes raise ``ApiError`` or let ``crud``'s refusals through; the handlers here turn both, and
FastAPI's own validation errors, into that shape with the HTTP status that means the same. A
database that cannot be reached is a 503 ``database_unavailable`` with ``Retry-After``.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rivendell import crud
from rivendell.db import RETRY_AFTER_SECONDS, DatabaseUnavailable
from rivendell.ratelimit import RateLimited

__all__ = [
    "ERROR_CODES",
    "MAX_BODY_BYTES",
    "ApiError",
    "BodySizeLimit",
    "ErrorBody",
    "error_responses",
    "install_error_handlers",
]

logger = logging.getLogger(__name__)

# The biggest legitimate body is a run: 1 MiB of code and 1 MiB of input, JSON-escaped.
MAX_BODY_BYTES = 4 * 1024 * 1024

ERROR_CODES: dict[str, int] = {
    "unauthorized": 401,
    "forbidden": 403,
    "not_found": 404,
    "session_ended": 409,
    "run_in_progress": 409,
    "payload_too_large": 413,
    "validation_error": 422,
    "rate_limited": 429,
    "internal_error": 500,
    "database_unavailable": 503,
}
"""Every ``code`` the API answers with, and its HTTP status. Integrators match on the code."""


class ErrorBody(BaseModel):
    """What every error response carries."""

    code: str
    message: str


class ApiError(Exception):
    """An error response: one of ``ERROR_CODES`` and a message for a human."""

    def __init__(self, code: str, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.code, self.message = code, message
        self.status = ERROR_CODES[code]
        self.headers = headers or {}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` of a route that may fail with these statuses."""
    described = {
        401: "No bearer token, or one that seats no one here",
        403: "The token is valid but may not do this",
        404: "No such interview",
        409: "The interview has ended (read-only), or another run is going on",
        413: "The body or a field is over its size limit",
        422: "The input breaks a rule; the message says which",
        429: "Too many requests; see Retry-After",
        503: "The database is unreachable right now; retry after Retry-After seconds",
    }
    headers = {
        401: {"WWW-Authenticate": {"schema": {"type": "string"}}},
        429: {"Retry-After": {"schema": {"type": "integer"}}},
        503: {"Retry-After": {"schema": {"type": "integer"}}},
    }
    return {
        status: {
            "model": ErrorBody,
            "description": described[status],
            **({"headers": headers[status]} if status in headers else {}),
        }
        for status in statuses
    }


def _response(error: ApiError) -> JSONResponse:
    headers = dict(error.headers)
    if error.status == 401:
        headers.setdefault("WWW-Authenticate", "Bearer")
    return JSONResponse(
        {"code": error.code, "message": error.message}, status_code=error.status, headers=headers
    )


def from_crud(error: crud.Error) -> ApiError:
    """The API error that says what ``crud`` refused."""
    if isinstance(error, RateLimited):
        return ApiError("rate_limited", str(error), headers={"Retry-After": str(error.retry_after)})
    if isinstance(error, crud.Unauthorized):
        return ApiError("unauthorized", str(error))
    if isinstance(error, crud.Forbidden):
        return ApiError("forbidden", str(error))
    if isinstance(error, crud.Ended):
        return ApiError("session_ended", str(error))
    if isinstance(error, crud.NotFound):
        return ApiError("not_found", str(error))
    if isinstance(error, crud.Busy):
        return ApiError("run_in_progress", str(error))
    return ApiError("validation_error", str(error))


def _validation_message(error: RequestValidationError) -> str:
    details = error.errors()
    if not details:
        return "invalid request"
    first = details[0]
    where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
    message = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


def install_error_handlers(api: FastAPI) -> None:
    """Make every error of ``api`` answer in the one JSON shape."""

    @api.exception_handler(ApiError)
    async def _api_error(_request: Request, error: ApiError) -> JSONResponse:
        return _response(error)

    @api.exception_handler(crud.Error)
    async def _crud_error(_request: Request, error: crud.Error) -> JSONResponse:
        return _response(from_crud(error))

    @api.exception_handler(DatabaseUnavailable)
    async def _database_unavailable(_request: Request, error: DatabaseUnavailable) -> JSONResponse:
        retry = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        return _response(ApiError("database_unavailable", str(error), headers=retry))

    @api.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, error: RequestValidationError) -> JSONResponse:
        return _response(ApiError("validation_error", _validation_message(error)))

    @api.exception_handler(HTTPException)
    async def _http(_request: Request, error: HTTPException) -> JSONResponse:
        code = {401: "unauthorized", 403: "forbidden", 404: "not_found", 413: "payload_too_large"}
        name = code.get(error.status_code, "validation_error")
        response = _response(ApiError(name, str(error.detail)))
        response.status_code = error.status_code
        return response

    @api.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> JSONResponse:
        logger.exception("API %s %s failed", request.method, request.url.path)
        return _response(ApiError("internal_error", "the server failed on this request"))


class _TooLarge(HTTPException):
    # An HTTPException: FastAPI re-raises those from body reading (others become a 400).
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the body is over {limit // 1024} KiB")


class BodySizeLimit:
    """Refuse request bodies over ``MAX_BODY_BYTES`` under ``/api/`` with 413 before parsing."""

    def __init__(self, app: ASGIApp, *, prefix: str = "/api/", limit: int = MAX_BODY_BYTES):
        self.app, self.prefix, self.limit = app, prefix, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await self._refuse(scope, receive, send)
            return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise _TooLarge(self.limit)
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except _TooLarge:
            if not started:
                await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        error = ApiError("payload_too_large", f"the body is over {self.limit // 1024} KiB")
        await _response(error)(scope, receive, send)
