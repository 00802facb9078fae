"""The writer process: batches stored by a child process, on the real database (SQLite and
PostgreSQL); its failures reach the rooms as errors, and a writer that died is started again."""

from __future__ import annotations

import contextlib
import os
import signal

import pytest
from sqlmodel import Session, select

from rivendell import crud
from rivendell.collab.saver import Pending
from rivendell.collab.writer import DocumentWriter, WriteFailed
from rivendell.models import Document, Edit, Interview, InterviewCreate, TimelineEvent, TimelineKind


def new_interview(db: Session) -> tuple[str, int]:
    interview, host, _token = crud.create_interview(
        db=db, data=InterviewCreate(title="Writer", language="python", creator_name="Alex")
    )
    assert host.id is not None
    return interview.id, host.id


async def test_a_batch_is_stored_by_another_process_with_its_edits(db: Session) -> None:
    first, host = new_interview(db)
    second, _ = new_interview(db)
    edits = (Edit(host, b"\x01u1"), Edit(host, b"\x01u2"))
    batch = {
        first: Pending(b"\x01state-1", "print(1)\n", edits),
        second: Pending(b"\x01state-2", "print('é 😀')\n"),
    }
    async with DocumentWriter() as writer:
        assert writer.pid not in (None, os.getpid())
        await writer.write(batch)
    db.expire_all()
    assert db.get(Interview, first).code == "print(1)\n"  # type: ignore[union-attr]
    assert db.get(Interview, second).code == "print('é 😀')\n"  # type: ignore[union-attr]
    assert db.get(Document, first).state == b"\x01state-1"  # type: ignore[union-attr]
    logged = db.exec(
        select(TimelineEvent)
        .where(TimelineEvent.interview_id == first, TimelineEvent.kind == TimelineKind.EDIT)
        .order_by(TimelineEvent.id)  # type: ignore[arg-type]
    ).all()
    assert [(entry.participant_id, entry.update, entry.at) for entry in logged] == [
        (host, b"\x01u1", edits[0].at),
        (host, b"\x01u2", edits[1].at),
    ]


async def test_the_writer_runs_in_the_kernels_idle_class(db: Session) -> None:
    interview_id, _ = new_interview(db)
    async with DocumentWriter() as writer:
        await writer.write({interview_id: Pending(b"\x01s", "stored")})
        assert writer.pid is not None
        # The kernel's idle class: every other task comes first (a nice value only shares the
        # CPU, and its bursts delayed every room's keystrokes).
        assert os.sched_getscheduler(writer.pid) == os.SCHED_IDLE


async def test_a_failed_batch_raises_and_the_next_one_is_stored(db: Session) -> None:
    interview_id, host = new_interview(db)
    async with DocumentWriter() as writer:
        # An edit by a participant who does not exist breaks the foreign key: the whole batch
        # is refused (one transaction), and the error comes back with its reason.
        with pytest.raises(WriteFailed, match=r"(?i)foreign key"):
            await writer.write({interview_id: Pending(b"\x01x", "lost", (Edit(999_999, b"u"),))})
        await writer.write({interview_id: Pending(b"\x01y", "kept", (Edit(host, b"u"),))})
    db.expire_all()
    assert db.get(Interview, interview_id).code == "kept"  # type: ignore[union-attr]


async def test_a_writer_that_died_fails_its_batch_and_is_started_again(db: Session) -> None:
    interview_id, _ = new_interview(db)
    async with DocumentWriter() as writer:
        await writer.write({interview_id: Pending(b"\x01a", "one")})
        dead = writer.pid
        assert dead is not None
        os.kill(dead, signal.SIGKILL)
        # Seen dead before the batch goes out, the writer is replaced and stores it; dying with
        # the batch in flight, the batch fails (its rooms keep their changes for the next save).
        with contextlib.suppress(WriteFailed):
            await writer.write({interview_id: Pending(b"\x01b", "two")})
        await writer.write({interview_id: Pending(b"\x01c", "three")})
        assert writer.pid not in (None, dead)
    db.expire_all()
    assert db.get(Interview, interview_id).code == "three"  # type: ignore[union-attr]


async def test_leaving_stops_the_process_and_ctrl_c_does_not_reach_it(db: Session) -> None:
    interview_id, _ = new_interview(db)
    writer = DocumentWriter()
    async with writer:
        child = writer.pid
        assert child is not None
        # Ctrl-C goes to the terminal's process group: the server's, not the writer's, so the
        # server's shutdown can still save every room through it.
        assert os.getpgid(child) != os.getpgid(0)
        await writer.write({interview_id: Pending(b"\x01z", "saved on the way down")})
    assert writer.pid is None
    with pytest.raises(ProcessLookupError):
        os.kill(child, 0)
    db.expire_all()
    assert db.get(Interview, interview_id).code == "saved on the way down"  # type: ignore[union-attr]
