"""Running a room's code: one run at a time per room, recorded, and shown to everyone.

Every run, on the server or in a participant's browser, takes the same path: ``crud.start_run``
(which refuses while another run of the room is going), ``EXECUTION_STARTED`` on the event bus,
the sandbox or the browser, ``crud.finish_run``, ``EXECUTION_COMPLETED``. The room's shared
state is rebuilt from the database on each of those events, so every participant sees the same
"Running…" line and the same output.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from functools import cache
from types import TracebackType
from typing import Any, Self

from rivendell import crud
from rivendell.collab import get_collab_server
from rivendell.db import session
from rivendell.events import EventType, RoomEvent, bus
from rivendell.executor import executor_from_settings
from rivendell.executor.base import (
    Executor,
    ExecutorUnavailable,
    Limits,
    RunRefused,
    RunRequest,
    RunResult,
    capped_text,
)
from rivendell.models import Run, Runner, RunStatus
from rivendell.ratelimit import check_run
from rivendell.settings import get_settings

__all__ = [
    "BROWSER_LANGUAGES",
    "BrowserOutcome",
    "CodeOf",
    "RoomRunner",
    "get_room_runner",
    "output_bytes",
    "run_receipt",
]

logger = logging.getLogger(__name__)

BROWSER_LANGUAGES = ("python", "javascript")
"""Languages a participant's browser can run (Pyodide, a Web Worker)."""

_BROWSER_END = frozenset(
    {RunStatus.OK, RunStatus.ERROR, RunStatus.TIMEOUT, RunStatus.STOPPED, RunStatus.OUTPUT_LIMIT}
)

CodeOf = Callable[[str], Awaitable[str | None]]
"""The room's code as its live shared document holds it now, or ``None`` if it is not open."""


@dataclasses.dataclass(frozen=True, slots=True)
class BrowserOutcome:
    """What a browser reports of its run; checked and capped again here (never trusted)."""

    status: str
    stdout: str
    stderr: str
    exit_code: int | None
    duration_ms: int
    runtime: str


def _ttl() -> timedelta:
    return timedelta(hours=get_settings().interview_ttl_hours)


class RoomRunner:
    """Starts runs for rooms and records their outcome. Use as ``async with``."""

    def __init__(self, executor: Executor, code_of: CodeOf) -> None:
        self.executor = executor
        self._code_of = code_of
        self._limits = Limits()

    async def __aenter__(self) -> Self:
        await self.executor.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.executor.__aexit__(exc_type, exc, traceback)

    async def live_code(self, interview_id: str) -> str | None:
        """The room's code as its open shared document holds it (``None``: not open here)."""
        return await self._code_of(interview_id)

    async def run_on_server(
        self,
        *,
        interview_id: str,
        token: str,
        stdin: str,
        code: str | None = None,
        language: str | None = None,
        client: str | None = None,
    ) -> Run:
        """Run the room's code in a sandbox as the participant holding ``token``.

        ``code`` and ``language`` default to the room's (the API may send its own); ``client``
        identifies the caller for the per-client rate limit (the room's limit always applies).
        Raises ``crud.Busy`` while another run goes on, ``crud.Invalid`` for code or input
        the sandbox refuses, ``crud.Forbidden`` / ``crud.NotFound`` for a bad seat,
        ``RateLimited`` when the room or the client ran too often.
        """
        await check_run(interview_id=interview_id, client=client)
        run = await self._start(interview_id, token, Runner.SERVER, stdin, code, language)
        try:
            result = await self.executor.run(RunRequest(run.language, run.code, stdin))
        except ExecutorUnavailable as error:
            message = f"{error}. Use “Run in browser” for Python and JavaScript."
            return await self._finish(run, RunStatus.UNAVAILABLE, stderr=message[:1000])
        except RunRefused as error:
            return await self._finish(run, RunStatus.ERROR, stderr=str(error))
        except BaseException:
            logger.exception("room %s: run %s failed in the executor", interview_id, run.id)
            await asyncio.shield(
                self._finish(run, RunStatus.ERROR, stderr="The server could not run this.")
            )
            raise
        return await self._finish(
            run,
            RunStatus(result.status.value),
            stdout=result.stdout,
            stderr=result.stderr,
            exit_code=result.exit_code,
            duration_ms=result.duration_ms,
            details=run_receipt(result),
        )

    async def start_in_browser(
        self, *, interview_id: str, token: str, stdin: str, client: str | None = None
    ) -> Run:
        """Record a run the participant's browser is about to make (same rules as the server)."""
        await check_run(interview_id=interview_id, client=client)
        run = await self._start(interview_id, token, Runner.BROWSER, stdin)
        if run.language not in BROWSER_LANGUAGES:
            names = " and ".join(BROWSER_LANGUAGES)
            await self._finish(run, RunStatus.ERROR, stderr=f"Browsers run only {names}.")
            raise crud.Invalid(f"Only {names} can run in the browser.")
        return run

    async def finish_in_browser(
        self, *, interview_id: str, token: str, run_id: int, outcome: BrowserOutcome
    ) -> Run:
        """Record what the browser that started ``run_id`` reports, capped like a server run."""

        def check() -> Run:
            with session() as db:
                _, participant = crud.get_member(
                    db=db, interview_id=interview_id, token=token, ttl=_ttl()
                )
                run = db.get(Run, run_id)
                if run is None or run.interview_id != interview_id:
                    raise crud.NotFound("run not found")
                if run.participant_id != participant.id or run.runner != Runner.BROWSER:
                    raise crud.Forbidden("only the browser that started a run may report it")
                return run

        run = await asyncio.to_thread(check)
        try:
            status = RunStatus(outcome.status)
        except ValueError:
            status = RunStatus.ERROR
        if status not in _BROWSER_END:
            status = RunStatus.ERROR
        limit = self._limits.output_bytes
        stdout, out_cut = capped_text(outcome.stdout.encode("utf-8", "replace"), limit=limit)
        stderr, err_cut = capped_text(outcome.stderr.encode("utf-8", "replace"), limit=limit)
        return await self._finish(
            run,
            status,
            stdout=stdout,
            stderr=stderr,
            exit_code=outcome.exit_code,
            duration_ms=max(0, outcome.duration_ms),
            # What a browser can know: its runtime, the limits it was given, the wall time
            # (performance.now) and the output size; no CPU, memory or image.
            details={
                "runtime": outcome.runtime[:120],
                "limits": {
                    "wall_seconds": self._limits.wall_seconds,
                    "output_bytes": self._limits.output_bytes,
                },
                "wall_ms": max(0, outcome.duration_ms),
                "output_bytes": output_bytes(stdout, stderr),
                "stdout_truncated": out_cut,
                "stderr_truncated": err_cut,
            },
        )

    async def _start(
        self,
        interview_id: str,
        token: str,
        runner: Runner,
        stdin: str,
        given_code: str | None = None,
        language: str | None = None,
    ) -> Run:
        live_code = await self._code_of(interview_id) if given_code is None else given_code

        def start() -> Run:
            with session() as db:
                code = live_code
                if code is None:
                    code = crud.load_document(db=db, interview_id=interview_id)[1]
                try:  # refused before it is recorded: the sizes do not depend on the language
                    RunRequest("", code, stdin)
                except RunRefused as error:
                    raise crud.Invalid(str(error)) from None
                run, _ = crud.start_run(
                    db=db,
                    interview_id=interview_id,
                    token=token,
                    ttl=_ttl(),
                    runner=runner,
                    code=code,
                    stdin=stdin,
                    language=language,
                )
                return run

        run = await asyncio.to_thread(start)
        bus.publish(RoomEvent(interview_id, EventType.EXECUTION_STARTED, {"run_id": run.id}))
        return run

    async def _finish(self, run: Run, status: RunStatus, **outcome: Any) -> Run:
        def finish() -> Run:
            with session() as db:
                return crud.finish_run(db=db, run_id=run.id or 0, status=status, **outcome)

        finished = await asyncio.to_thread(finish)
        bus.publish(
            RoomEvent(
                run.interview_id,
                EventType.EXECUTION_COMPLETED,
                {"run_id": run.id, "status": status.value},
            )
        )
        return finished


def output_bytes(stdout: str, stderr: str) -> int:
    """The size of what a run printed as recorded (UTF-8 bytes of stdout plus stderr)."""
    return len(stdout.encode("utf-8", "replace")) + len(stderr.encode("utf-8", "replace"))


def run_receipt(result: RunResult) -> dict[str, Any]:
    """How a server run ran: kept with it (the output panel shows it on demand).

    ``image`` is the runner image's tag (a digest of its recipe), ``image_id`` the exact build
    (Docker's ``sha256:`` id); ``cpu_ms`` and ``memory_peak_bytes`` are the program's own, the
    ``sandbox_`` ones the whole container's (with the launcher and any compiler).
    """
    return {
        "language_version": result.language_version,
        "image": result.image,
        "image_id": result.image_id,
        "limits": dataclasses.asdict(result.limits),
        "wall_ms": result.duration_ms,
        "cpu_ms": result.cpu_ms,
        "memory_peak_bytes": result.memory_peak_bytes,
        "sandbox_cpu_ms": result.sandbox_cpu_ms,
        "sandbox_memory_peak_bytes": result.sandbox_memory_peak_bytes,
        "output_bytes": output_bytes(result.stdout, result.stderr),
        "compile_ms": result.compile_ms,
        "signal": result.signal,
        "stdout_truncated": result.stdout_truncated,
        "stderr_truncated": result.stderr_truncated,
        "message": result.message,
    }


@cache
def get_room_runner() -> RoomRunner:
    """This instance's runner: the executor the settings ask for, reading the live documents."""
    return RoomRunner(executor_from_settings(), get_collab_server().current_text)
