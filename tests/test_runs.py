"""Running a room's code: one run at a time, every outcome recorded and announced."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlmodel import Session

from rivendell import crud
from rivendell.events import EventType, RoomEvent, bus
from rivendell.executor.base import Limits
from rivendell.executor.fake import FakeExecutor
from rivendell.models import InterviewCreate, ParticipantCreate, Run, Runner, RunStatus, utcnow
from rivendell.ratelimit import RateLimited
from rivendell.runs import BrowserOutcome, CodeOf, RoomRunner
from rivendell.settings import get_settings


def new_room(db: Session, language: str = "python") -> tuple[str, str, str]:
    interview, _, host = crud.create_interview(
        db=db, data=InterviewCreate(title="Runs", language=language, creator_name="Alex")
    )
    _, guest = crud.join_interview(db=db, interview=interview, data=ParticipantCreate(name="Sam"))
    return interview.id, host, guest


def _code_from(live: dict[str, str]) -> CodeOf:
    """The live code of the rooms in ``live``; any other room is not open here."""

    async def code_of(interview_id: str) -> str | None:
        return live.get(interview_id)

    return code_of


@pytest.fixture
def announced() -> list[RoomEvent]:
    events: list[RoomEvent] = []

    async def record(event: RoomEvent) -> None:
        events.append(event)

    bus.subscribe(record)
    yield events
    bus.unsubscribe(record)


async def test_a_server_run_is_recorded_and_announced_with_the_live_code(
    db: Session, announced: list[RoomEvent]
) -> None:
    room, _, guest = new_room(db)
    live = {room: "print(input())"}
    runner = RoomRunner(FakeExecutor(), _code_from(live))
    run = await runner.run_on_server(interview_id=room, token=guest, stdin="hello ✓")
    await bus.drain()
    assert run.status == RunStatus.OK
    assert run.code == "print(input())"
    assert run.stdout == "hello ✓"
    [(stored, by)] = crud.list_runs(db=db, interview_id=room)
    assert (stored.id, by, stored.stdin) == (run.id, "Sam", "hello ✓")
    assert stored.details["limits"]["memory_bytes"] == Limits().memory_bytes
    assert [e.type for e in announced] == [
        EventType.EXECUTION_STARTED,
        EventType.EXECUTION_COMPLETED,
    ]


async def test_a_closed_room_runs_its_stored_code(db: Session) -> None:
    room, host, _ = new_room(db)
    executor = FakeExecutor()
    await RoomRunner(executor, _code_from({})).run_on_server(
        interview_id=room, token=host, stdin=""
    )
    assert executor.requests[0].code == crud.load_document(db=db, interview_id=room)[1]


async def test_one_run_at_a_time_per_room(db: Session) -> None:
    room, host, guest = new_room(db)
    other_room, other_host, _ = new_room(db)
    runner = RoomRunner(FakeExecutor(delay_seconds=0.5), _code_from({}))
    first = asyncio.create_task(runner.run_on_server(interview_id=room, token=host, stdin=""))
    await asyncio.sleep(0.2)
    with pytest.raises(crud.Busy, match="Alex is already running"):
        await runner.run_on_server(interview_id=room, token=guest, stdin="")
    # Another room is not held up.
    await runner.run_on_server(interview_id=other_room, token=other_host, stdin="")
    assert (await first).status == RunStatus.OK
    again = await runner.run_on_server(interview_id=room, token=guest, stdin="")
    assert again.status == RunStatus.OK


async def test_docker_down_is_a_recorded_unavailable_run_that_offers_the_browser(
    db: Session,
) -> None:
    room, host, _ = new_room(db)
    runner = RoomRunner(FakeExecutor(available=False), _code_from({}))
    run = await runner.run_on_server(interview_id=room, token=host, stdin="")
    assert run.status == RunStatus.UNAVAILABLE
    assert "server-side execution unavailable" in run.stderr
    assert "Run in browser" in run.stderr


async def test_bad_input_is_refused_before_anything_is_recorded(db: Session) -> None:
    room, host, _ = new_room(db)
    for code, stdin, message in [
        ("   \n", "", "no code"),
        ("print(1)", "x" * (1024 * 1024 + 1), "1 MiB"),
    ]:
        runner = RoomRunner(FakeExecutor(), _code_from({room: code}))
        with pytest.raises(crud.Invalid, match=message):
            await runner.run_on_server(interview_id=room, token=host, stdin=stdin)
    assert crud.list_runs(db=db, interview_id=room) == []
    with pytest.raises(crud.Forbidden):
        await runner.run_on_server(interview_id=room, token="forged", stdin="")


async def test_a_browser_run_is_reported_by_its_own_browser_only_and_capped(
    db: Session,
) -> None:
    room, host, guest = new_room(db, "javascript")
    runner = RoomRunner(FakeExecutor(), _code_from({}))
    run = await runner.start_in_browser(interview_id=room, token=guest, stdin="")
    flood = "y" * (Limits().output_bytes * 3)
    outcome = BrowserOutcome("ok", flood, "", 0, 12, "JavaScript (Web Worker)")
    with pytest.raises(crud.Forbidden):
        await runner.finish_in_browser(
            interview_id=room, token=host, run_id=run.id or 0, outcome=outcome
        )
    done = await runner.finish_in_browser(
        interview_id=room, token=guest, run_id=run.id or 0, outcome=outcome
    )
    assert done.status == RunStatus.OK
    assert len(done.stdout.encode()) < Limits().output_bytes + 100
    assert "output truncated" in done.stdout
    with pytest.raises(crud.Busy):
        await runner.finish_in_browser(
            interview_id=room, token=guest, run_id=run.id or 0, outcome=outcome
        )


async def test_a_browser_cannot_claim_a_status_it_has_no_business_reporting(
    db: Session,
) -> None:
    room, host, _ = new_room(db, "python")
    runner = RoomRunner(FakeExecutor(), _code_from({}))
    run = await runner.start_in_browser(interview_id=room, token=host, stdin="")
    claimed = BrowserOutcome("running", "", "", None, 5, "Pyodide")
    done = await runner.finish_in_browser(
        interview_id=room, token=host, run_id=run.id or 0, outcome=claimed
    )
    assert done.status == RunStatus.ERROR


async def test_only_python_and_javascript_run_in_the_browser(db: Session) -> None:
    room, host, _ = new_room(db, "rust")
    runner = RoomRunner(FakeExecutor(), _code_from({}))
    with pytest.raises(crud.Invalid, match="python and javascript"):
        await runner.start_in_browser(interview_id=room, token=host, stdin="")
    [(run, _)] = crud.list_runs(db=db, interview_id=room)
    assert run.status == RunStatus.ERROR


async def test_a_run_cut_off_by_a_stopped_server_no_longer_blocks_the_room(
    db: Session,
) -> None:
    room, host, _ = new_room(db)
    stuck, _ = crud.start_run(
        db=db,
        interview_id=room,
        token=host,
        ttl=timedelta(hours=1),
        runner=Runner.SERVER,
        code="print(1)",
        stdin="",
    )
    stuck.started_at = utcnow() - crud.STALE_RUN[Runner.SERVER] - timedelta(seconds=1)
    db.add(stuck)
    db.commit()
    run = await RoomRunner(FakeExecutor(), _code_from({})).run_on_server(
        interview_id=room, token=host, stdin=""
    )
    assert run.status == RunStatus.OK
    db.expire_all()
    assert db.get(Run, stuck.id).status == RunStatus.INTERRUPTED


async def test_browser_runs_count_against_the_rooms_rate_limit(
    db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    room, host, _ = new_room(db, "javascript")
    monkeypatch.setattr(get_settings(), "rate_runs_per_room_per_minute", 2)
    runner = RoomRunner(FakeExecutor(), _code_from({}))
    outcome = BrowserOutcome("ok", "", "", 0, 1, "JavaScript (Web Worker)")
    for _ in range(2):
        run = await runner.start_in_browser(interview_id=room, token=host, stdin="")
        await runner.finish_in_browser(
            interview_id=room, token=host, run_id=run.id or 0, outcome=outcome
        )
    with pytest.raises(RateLimited) as limited:
        await runner.start_in_browser(interview_id=room, token=host, stdin="")
    assert limited.value.retry_after > 0
