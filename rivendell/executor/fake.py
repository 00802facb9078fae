"""A fake executor for unit tests of the code around the real one (room state, API).

It refuses what the real one refuses (empty code, oversized input, unknown or editor-only
languages) and answers everything else with a configured, deterministic result.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from types import TracebackType
from typing import Self

from rivendell.executor.base import ExecutorUnavailable, RunRequest, RunResult, Status
from rivendell.executor.languages import runnable_language

__all__ = ["FakeExecutor"]


class FakeExecutor:
    """Answers ``run`` with ``respond(request)``, or by default echoes the program's stdin.

    ``available=False`` makes it behave like a server with Docker down. ``delay_seconds`` holds
    each run that long, for code that must show a run in progress. Every request is recorded
    in ``requests``.
    """

    def __init__(
        self,
        *,
        respond: Callable[[RunRequest], RunResult] | None = None,
        available: bool = True,
        delay_seconds: float = 0.0,
    ) -> None:
        self.respond = respond or self.echo
        self.is_available = available
        self.delay_seconds = delay_seconds
        self.requests: list[RunRequest] = []
        self.started = False

    async def __aenter__(self) -> Self:
        self.started = True
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.started = False

    async def available(self) -> bool:
        """What the fake was told."""
        return self.is_available

    async def run(self, request: RunRequest) -> RunResult:
        """The configured answer, after the same refusals as the real executor."""
        runnable_language(request.language)
        if not self.is_available:
            raise ExecutorUnavailable("the fake executor is set to unavailable")
        self.requests.append(request)
        if self.delay_seconds:
            await asyncio.sleep(self.delay_seconds)
        return self.respond(request)

    @staticmethod
    def echo(request: RunRequest) -> RunResult:
        """An ``ok`` run whose stdout is the request's stdin."""
        return result(request, stdout=request.stdin)


def result(
    request: RunRequest,
    *,
    status: Status = Status.OK,
    stdout: str = "",
    stderr: str = "",
    exit_code: int | None = 0,
    duration_ms: int = 1,
) -> RunResult:
    """A result for ``request`` as the real executor would shape it."""
    language = runnable_language(request.language)
    return RunResult(
        status=status,
        stdout=stdout,
        stderr=stderr,
        exit_code=exit_code,
        signal=None,
        duration_ms=duration_ms,
        language=language.id,
        language_version=language.version,
        image=language.image_tag,
        limits=language.limits,
    )
