"""The comparison rule and "Run tests" on the fake executor: outcomes, the slot, the timeline."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlmodel import Session

from rivendell import crud
from rivendell.events import EventType, RoomEvent, bus
from rivendell.executor.base import RunRequest, RunResult, Status
from rivendell.executor.docker import DockerExecutor, remove_orphans
from rivendell.executor.fake import FakeExecutor, result
from rivendell.models import Run, TestCaseCreate, TimelineKind
from rivendell.runs import RoomRunner
from rivendell.testcases import HIDDEN_FIELDS, for_candidate, outputs_match, run_tests
from tests.executor.sandbox import docker_client_or_skip
from tests.test_runs import _code_from, announced, new_room

__all__ = ["announced"]  # the fixture, shared with tests/test_runs.py

TTL = timedelta(hours=24)


@pytest.mark.parametrize(
    ("expected", "actual"),
    [
        ("3\n", "3"),
        ("3", "3\n\n\n"),
        ("a b\nc\n", "a b   \nc\t\n"),
        ("x\ny\n", "x\r\ny\r\n"),
        ("", "\n  \n"),
    ],
)
def test_trailing_whitespace_and_final_blank_lines_do_not_count(expected: str, actual: str) -> None:
    assert outputs_match(expected, actual)


@pytest.mark.parametrize(
    ("expected", "actual"),
    [
        ("3", "4"),
        ("a b", "a  b"),
        (" 3", "3"),
        ("a\n\nb", "a\nb"),
        ("Yes", "yes"),
        ("1\n2", "1"),
        ("", "0"),
    ],
)
def test_everything_else_counts(expected: str, actual: str) -> None:
    assert not outputs_match(expected, actual)


def add(db: Session, interview_id: str, host: str, name: str, **fields: object) -> int:
    created = crud.create_test_case(
        db=db,
        interview_id=interview_id,
        token=host,
        ttl=TTL,
        data=TestCaseCreate(name=name, **fields),
    )
    return created.id or 0


def judge(request: RunRequest) -> RunResult:
    """Doubles its input; "sleep" times out, "boom" fails."""
    if request.stdin == "sleep":
        return result(request, status=Status.TIMEOUT, exit_code=None, duration_ms=10_000)
    if request.stdin == "boom":
        return result(request, status=Status.ERROR, stderr="Traceback: boom", exit_code=1)
    return result(request, stdout=f"{int(request.stdin) * 2}\n", duration_ms=7)


async def test_a_batch_runs_every_case_and_goes_on_the_timeline_as_one_entry(
    db: Session, announced: list[RoomEvent]
) -> None:
    room, host, guest = new_room(db)
    add(db, room, host, "doubles", stdin="2", expected_stdout="4")
    wrong = add(db, room, host, "wrong answer", stdin="3", expected_stdout="7")
    add(db, room, host, "secret", stdin="10", expected_stdout="20\n", hidden=True)
    add(db, room, host, "slow", stdin="sleep", expected_stdout="")
    add(db, room, host, "crashes", stdin="boom", expected_stdout="")
    executor = FakeExecutor(respond=judge)
    runner = RoomRunner(executor, _code_from({room: "print(int(input()) * 2)"}))
    batch = await run_tests(runner, interview_id=room, token=guest)
    await bus.drain()

    assert (batch.passed, batch.total) == (2, 5)
    assert [(r["name"], r["passed"], r["status"]) for r in batch.results] == [
        ("doubles", True, "ok"),
        ("wrong answer", False, "ok"),
        ("secret", True, "ok"),
        ("slow", False, "timeout"),
        ("crashes", False, "error"),
    ]
    assert [r.code for r in executor.requests] == ["print(int(input()) * 2)"] * 5
    assert [r.stdin for r in executor.requests] == ["2", "3", "10", "sleep", "boom"]
    assert batch.results[1]["test_case_id"] == wrong
    assert batch.results[1]["stdout"] == "6\n"
    assert batch.results[4]["stderr"] == "Traceback: boom"

    # One TESTS entry holding every result (hidden ones in full: the timeline is the
    # interviewer's), no RUN entry, and no test run in the room's run history.
    entries = crud.list_timeline(db=db, interview_id=room)
    [tests] = [e for e in entries if e.kind == TimelineKind.TESTS]
    assert TimelineKind.RUN not in {e.kind for e in entries}
    assert (tests.data["passed"], tests.data["total"]) == (2, 5)
    assert tests.data["results"] == batch.results
    assert set(tests.data["results"][0]) == {
        "test_case_id", "name", "hidden", "passed", "status", "stdin", "expected_stdout",
        "stdout", "stderr", "run_id", "duration_ms",
    }  # fmt: skip
    assert crud.list_runs(db=db, interview_id=room) == []
    assert crud.running_tests(db=db, interview_id=room) == []
    # Each case is a run of its own, with its receipt.
    run = db.get(Run, batch.results[0]["run_id"])
    assert run is not None
    assert run.test_case_id is not None
    assert run.details["limits"]["memory_bytes"] > 0
    assert run.details["output_bytes"] == 2

    types = [e.type for e in announced]
    assert types.count(EventType.EXECUTION_STARTED) == 5
    assert types.count(EventType.EXECUTION_COMPLETED) == 5
    assert types[-1] == EventType.TESTS_COMPLETED
    assert announced[-1].data["passed"] == 2
    # Nothing a hidden case holds travels on the bus (the API stream relays it to candidates).
    assert "10" not in str([e.data for e in announced if "stdin" in e.data or "stdout" in e.data])
    assert all(
        set(e.data) <= {"run_id", "test_case_id", "status", "passed", "total"} for e in announced
    )


async def test_a_candidate_sees_only_a_hidden_cases_outcome() -> None:
    hidden = {
        "test_case_id": 3, "name": "edge: empty", "hidden": True, "passed": False,
        "status": "ok", "stdin": "secret in", "expected_stdout": "secret out",
        "stdout": "mine", "stderr": "warn", "run_id": 9, "duration_ms": 4,
    }  # fmt: skip
    shown = for_candidate(hidden, 1)
    assert shown["name"] == "Hidden case 2"
    assert all(shown[field] == "" for field in HIDDEN_FIELDS)
    assert (shown["passed"], shown["status"], shown["run_id"]) == (False, "ok", 9)
    visible = {**hidden, "hidden": False}
    assert for_candidate(visible, 1) == visible


async def test_while_a_batch_runs_nobody_starts_another_run(db: Session) -> None:
    room, host, guest = new_room(db)
    for index in range(3):
        add(db, room, host, f"c{index}", stdin="1", expected_stdout="1")
    runner = RoomRunner(FakeExecutor(delay_seconds=0.3), _code_from({}))
    batch = asyncio.create_task(run_tests(runner, interview_id=room, token=host))
    for _ in range(3):
        await asyncio.sleep(0.25)
        with pytest.raises(crud.Busy, match="Alex is already running"):
            await runner.run_on_server(interview_id=room, token=guest, stdin="")
        with pytest.raises(crud.Busy):
            await run_tests(runner, interview_id=room, token=guest)
    done = await batch
    assert (done.passed, done.total) == (3, 3)
    assert (await runner.run_on_server(interview_id=room, token=guest, stdin="")).status == "ok"


async def test_docker_down_ends_the_batch_recorded_with_every_case_failed(db: Session) -> None:
    room, host, _ = new_room(db)
    for index in range(3):
        add(db, room, host, f"c{index}", stdin="1", expected_stdout="1")
    executor = FakeExecutor(available=False)
    batch = await run_tests(RoomRunner(executor, _code_from({})), interview_id=room, token=host)
    assert (batch.passed, batch.total) == (0, 3)
    assert [r["status"] for r in batch.results] == ["unavailable"] * 3
    assert [r["run_id"] is not None for r in batch.results] == [True, False, False]
    assert crud.running_tests(db=db, interview_id=room) == []
    assert crud.last_tests(db=db, interview_id=room) is not None


async def test_an_executor_crash_still_ends_the_batch_recorded_and_announced(
    db: Session, announced: list[RoomEvent]
) -> None:
    room, host, _ = new_room(db)
    for index in range(2):
        add(db, room, host, f"c{index}", stdin="1", expected_stdout="1")

    def crash(request: RunRequest) -> RunResult:
        raise RuntimeError("the engine fell over")

    runner = RoomRunner(FakeExecutor(respond=crash), _code_from({}))
    with pytest.raises(RuntimeError):
        await run_tests(runner, interview_id=room, token=host)
    await bus.drain()
    assert crud.running_tests(db=db, interview_id=room) == []
    entry = crud.last_tests(db=db, interview_id=room)
    assert entry is not None
    assert (entry.data["passed"], entry.data["total"]) == (0, 2)
    assert announced[-1].type == EventType.TESTS_COMPLETED
    # The room is free again.
    assert (
        await RoomRunner(FakeExecutor(), _code_from({})).run_on_server(
            interview_id=room, token=host, stdin=""
        )
    ).status == "ok"


async def test_no_cases_or_no_seat_is_refused_before_anything_runs(db: Session) -> None:
    room, host, _ = new_room(db)
    executor = FakeExecutor()
    runner = RoomRunner(executor, _code_from({}))
    with pytest.raises(crud.Invalid, match="no test cases"):
        await run_tests(runner, interview_id=room, token=host)
    add(db, room, host, "one", stdin="1", expected_stdout="1")
    with pytest.raises(crud.Unauthorized):
        await run_tests(runner, interview_id=room, token="forged")
    with pytest.raises(crud.Invalid, match="no code"):
        await run_tests(
            RoomRunner(executor, _code_from({room: "  "})), interview_id=room, token=host
        )
    assert executor.requests == []
    assert crud.last_tests(db=db, interview_id=room) is None


async def test_a_case_cannot_be_deleted_while_the_tests_run(db: Session) -> None:
    room, host, _ = new_room(db)
    ids = [add(db, room, host, f"c{i}", stdin="1", expected_stdout="1") for i in range(3)]
    refused: list[Exception] = []

    def respond(request: RunRequest) -> RunResult:
        try:
            crud.delete_test_case(db=db, interview_id=room, token=host, ttl=TTL, case_id=ids[2])
        except crud.Busy as error:
            refused.append(error)
        return result(request, stdout=request.stdin)

    executor = FakeExecutor(respond=respond)
    batch = await run_tests(RoomRunner(executor, _code_from({})), interview_id=room, token=host)
    assert len(refused) == 3
    assert [r["test_case_id"] for r in batch.results] == ids
    # Afterwards it goes, with its runs (cleared, they would look like the room's own runs).
    crud.delete_test_case(db=db, interview_id=room, token=host, ttl=TTL, case_id=ids[2])
    assert crud.list_runs(db=db, interview_id=room) == []
    assert db.get(Run, batch.results[2]["run_id"]) is None


@pytest.fixture
async def sandbox() -> AsyncIterator[DockerExecutor]:
    """The real executor on the real engine, with its own label and no warm pool."""
    docker_client_or_skip()
    instance = f"test-{uuid.uuid4().hex[:12]}"
    try:
        async with DockerExecutor(pool_size=0, instance=instance) as started:
            yield started
    finally:
        remove_orphans(instance=instance)


@pytest.mark.docker
async def test_real_cases_in_the_real_sandbox_with_full_receipts(
    db: Session, sandbox: DockerExecutor
) -> None:
    room, host, guest = new_room(db)
    add(db, room, host, "sum", stdin="2 3\n", expected_stdout="5\n")
    add(db, room, host, "negative", stdin="-4 1", expected_stdout="-3", hidden=True)
    add(db, room, host, "wrong on purpose", stdin="1 1", expected_stdout="3")
    add(db, room, host, "bad input", stdin="x", expected_stdout="")
    code = (
        "a, b = map(int, input().split())\n"
        "block = bytearray(40 * 1024 * 1024)  # resident: every page is zeroed\n"
        "print(a + b)\n"
    )
    batch = await run_tests(
        RoomRunner(sandbox, _code_from({room: code})), interview_id=room, token=guest
    )
    assert [(r["passed"], r["status"]) for r in batch.results] == [
        (True, "ok"),
        (True, "ok"),
        (False, "ok"),
        (False, "error"),
    ]
    assert "ValueError" in batch.results[3]["stderr"]
    assert (batch.passed, batch.total) == (2, 4)
    receipt = db.get(Run, batch.results[0]["run_id"]).details  # type: ignore[union-attr]
    assert receipt["image"].startswith("rivendell-runner-core:")
    assert receipt["image_id"].startswith("sha256:")
    assert receipt["language_version"] == "3.11"
    assert receipt["output_bytes"] == 2  # "5\n"
    # The program's own numbers, from the launcher's wait4: the 40 MiB block is in its peak,
    # and its CPU time is its own, less than the whole sandbox's (which counts the launcher).
    assert receipt["memory_peak_bytes"] >= 40 * 1024 * 1024
    assert receipt["cpu_ms"] is not None
    if receipt["sandbox_cpu_ms"] is not None:  # the cgroup is readable when on the Docker host
        assert receipt["cpu_ms"] <= receipt["sandbox_cpu_ms"]
    assert receipt["limits"]["memory_bytes"] == 256 * 1024 * 1024
