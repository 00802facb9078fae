"""The interviewer's test cases: how a program's output is judged, and "Run tests".

A case passes when its run ends ``ok`` and its stdout matches the expected output under
:func:`outputs_match`: line endings are normalised (``\\r\\n`` and ``\\r`` count as ``\\n``),
whitespace at the end of each line is ignored, and so are blank lines at the very end. Anything
else counts: leading spaces, blank lines in the middle, letter case, and stderr is not looked at.

"Run tests" runs every case, in order, in the server's sandbox, each as a run of its own (a
``Run`` with ``test_case_id``) on the room's live code, as Run would. The batch holds the room's
one run slot from the first case to the last (``crud.start_tests``, ``crud.finish_test_run``),
counts as one press for the rate limits, and ends with one TESTS timeline entry. Each case's run
is announced like any run (``EXECUTION_STARTED`` / ``EXECUTION_COMPLETED`` with its
``test_case_id``), then ``TESTS_COMPLETED`` with the score. Event data never holds a case's
input or output: the API's event stream relays it to candidates too.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from rivendell import crud
from rivendell.db import session
from rivendell.events import EventType, RoomEvent, bus
from rivendell.executor.base import ExecutorUnavailable, RunRefused, RunRequest, RunResult
from rivendell.models import Run, RunStatus, TestCase
from rivendell.ratelimit import check_run
from rivendell.runs import RoomRunner, run_receipt
from rivendell.settings import get_settings

__all__ = [
    "HIDDEN_FIELDS",
    "TestBatch",
    "case_label",
    "for_candidate",
    "outputs_match",
    "run_tests",
]

logger = logging.getLogger(__name__)

HIDDEN_FIELDS = ("stdin", "expected_stdout", "stdout", "stderr")
"""What a candidate never gets of a hidden case's result (its name is replaced, too)."""


def _normalised(text: str) -> list[str]:
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def outputs_match(expected: str, actual: str) -> bool:
    """Whether ``actual`` stdout matches ``expected`` (trailing whitespace and blank lines at
    the end ignored, line endings normalised; everything else compared exactly)."""
    return _normalised(expected) == _normalised(actual)


def case_label(index: int, case_name: str, hidden: bool) -> str:
    """How a case is named to someone who may not see it: "Hidden case 2" (1-based index)."""
    return f"Hidden case {index + 1}" if hidden else case_name


def for_candidate(result: dict[str, Any], index: int) -> dict[str, Any]:
    """A case's result as a candidate may see it: a hidden case keeps only its outcome."""
    if not result.get("hidden"):
        return result
    stripped = {**result, **dict.fromkeys(HIDDEN_FIELDS, "")}
    stripped["name"] = case_label(index, "", True)
    return stripped


@dataclass(frozen=True, slots=True)
class TestBatch:
    """A finished "Run tests": its score and every case's result (full detail, hidden too)."""

    __test__ = False

    passed: int
    total: int
    results: list[dict[str, Any]]

    def as_data(self) -> dict[str, Any]:
        """The TESTS timeline entry's ``data``."""
        return {"passed": self.passed, "total": self.total, "results": self.results}


def _ttl() -> timedelta:
    return timedelta(hours=get_settings().interview_ttl_hours)


def _result(
    case: TestCase, run: Run | None, status: RunStatus, outcome: dict[str, Any]
) -> dict[str, Any]:
    stdout = str(outcome.get("stdout", ""))
    return {
        "test_case_id": case.id,
        "name": case.name,
        "hidden": case.hidden,
        "passed": status == RunStatus.OK and outputs_match(case.expected_stdout, stdout),
        "status": status.value,
        "stdin": case.stdin,
        "expected_stdout": case.expected_stdout,
        "stdout": stdout,
        "stderr": str(outcome.get("stderr", "")),
        "run_id": run.id if run is not None else None,
        "duration_ms": outcome.get("duration_ms"),
    }


def _outcome(result: RunResult) -> tuple[RunStatus, dict[str, Any]]:
    return RunStatus(result.status.value), {
        "stdout": result.stdout,
        "stderr": result.stderr,
        "exit_code": result.exit_code,
        "duration_ms": result.duration_ms,
        "details": run_receipt(result),
    }


async def run_tests(
    runner: RoomRunner, *, interview_id: str, token: str, client: str | None = None
) -> TestBatch:
    """Run every test case of the room as the participant holding ``token``.

    Raises what Run raises before anything runs (``crud.Busy``, ``crud.Forbidden``,
    ``crud.NotFound``, ``crud.Invalid`` (also: no cases), ``RateLimited``). Once started, the
    batch always ends recorded: when the sandbox is unavailable or refuses the program, the
    cases after that one are not run and count as failed.
    """
    await check_run(interview_id=interview_id, client=client)
    live_code = await runner.live_code(interview_id)

    def start() -> tuple[list[TestCase], Run]:
        with session() as db:
            code = live_code
            if code is None:
                code = crud.load_document(db=db, interview_id=interview_id)[1]
            try:  # refused before it is recorded, as Run does
                RunRequest("", code, "")
            except RunRefused as error:
                raise crud.Invalid(str(error)) from None
            cases, run, _ = crud.start_tests(
                db=db, interview_id=interview_id, token=token, ttl=_ttl(), code=code
            )
            return cases, run

    cases, current = await asyncio.to_thread(start)
    position = {case.id: index for index, case in enumerate(cases)}
    results: list[dict[str, Any]] = []
    while True:
        index = position[current.test_case_id]
        case = cases[index]
        announced = {"run_id": current.id, "test_case_id": case.id}
        bus.publish(RoomEvent(interview_id, EventType.EXECUTION_STARTED, announced))
        remaining = cases[index + 1 :]
        try:
            request = RunRequest(current.language, current.code, case.stdin)
            status, outcome = _outcome(await runner.executor.run(request))
        except (ExecutorUnavailable, RunRefused) as error:
            # The next cases would meet the same answer: the batch ends here.
            unavailable = isinstance(error, ExecutorUnavailable)
            status = RunStatus.UNAVAILABLE if unavailable else RunStatus.ERROR
            outcome = {"stderr": str(error)[:1000]}
            results.append(_result(case, current, status, outcome))
            results += [_result(c, None, status, {"stderr": "Not run."}) for c in remaining]
            remaining = []
        except BaseException:
            logger.exception("room %s: test run %s failed", interview_id, current.id)
            status, outcome = RunStatus.ERROR, {"stderr": "The server could not run this."}
            results.append(_result(case, current, status, outcome))
            results += [_result(c, None, status, {"stderr": "Not run."}) for c in remaining]
            await asyncio.shield(_finish(current, status, outcome, [], results))
            _announce_end(interview_id, announced, status, results)
            raise
        else:
            results.append(_result(case, current, status, outcome))
        _, following = await _finish(current, status, outcome, remaining, results)
        if following is None:
            return _announce_end(interview_id, announced, status, results)
        done = {**announced, "status": status.value}
        bus.publish(RoomEvent(interview_id, EventType.EXECUTION_COMPLETED, done))
        current = following


def _announce_end(
    interview_id: str, last: dict[str, Any], status: RunStatus, results: list[dict[str, Any]]
) -> TestBatch:
    """Announce the last case's run and the batch's score; the batch as it was recorded."""
    batch = TestBatch(
        passed=sum(1 for r in results if r["passed"]), total=len(results), results=results
    )
    done = {**last, "status": status.value}
    bus.publish(RoomEvent(interview_id, EventType.EXECUTION_COMPLETED, done))
    score = {"passed": batch.passed, "total": batch.total, "run_id": last["run_id"]}
    bus.publish(RoomEvent(interview_id, EventType.TESTS_COMPLETED, score))
    return batch


async def _finish(
    run: Run,
    status: RunStatus,
    outcome: dict[str, Any],
    remaining: list[TestCase],
    results: list[dict[str, Any]],
) -> tuple[Run, Run | None]:
    def finish() -> tuple[Run, Run | None]:
        with session() as db:
            return crud.finish_test_run(
                db=db,
                run_id=run.id or 0,
                status=status,
                next_cases=remaining,
                results=results,
                **outcome,
            )

    return await asyncio.to_thread(finish)
