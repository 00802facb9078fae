"""Group commit: saves arriving together share a batch, and every waiter learns its outcome."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import pytest

from rivendell.collab.saver import GroupSaver, Pending
from rivendell.models import Edit


class Recorder:
    """A batch writer that records each batch; the first one waits for ``release``."""

    def __init__(self, fail_first: bool = False) -> None:
        self.batches: list[dict[str, Pending]] = []
        self.saved: list[tuple[str, str]] = []
        self.release = asyncio.Event()
        self.fail_first = fail_first

    async def write(self, batch: Mapping[str, Pending]) -> None:
        self.batches.append(dict(batch))
        if len(self.batches) == 1:
            await self.release.wait()
            if self.fail_first:
                raise OSError("disk full")
        self.saved.extend((interview_id, pending.code) for interview_id, pending in batch.items())


async def test_saves_during_a_write_share_the_next_batch_and_the_newest_wins() -> None:
    recorder = Recorder()
    saver = GroupSaver(recorder.write)
    first = asyncio.create_task(saver.save("a", b"1", "a1"))
    await asyncio.sleep(0)
    later = [
        asyncio.create_task(saver.save("b", b"1", "b1")),
        asyncio.create_task(saver.save("c", b"1", "c1")),
        asyncio.create_task(saver.save("b", b"2", "b2")),
    ]
    await asyncio.sleep(0)
    assert not first.done()
    recorder.release.set()
    await asyncio.gather(first, *later)
    assert recorder.batches == [
        {"a": Pending(b"1", "a1")},
        {"b": Pending(b"2", "b2"), "c": Pending(b"1", "c1")},
    ]
    assert recorder.saved == [("a", "a1"), ("b", "b2"), ("c", "c1")]


async def test_a_failed_batch_fails_its_waiters_and_the_next_batch_still_runs() -> None:
    recorder = Recorder(fail_first=True)
    saver = GroupSaver(recorder.write)
    doomed = asyncio.create_task(saver.save("a", b"1", "a1"))
    await asyncio.sleep(0)
    after = asyncio.create_task(saver.save("b", b"1", "b1"))
    await asyncio.sleep(0)
    recorder.release.set()
    with pytest.raises(OSError, match="disk full"):
        await doomed
    await after
    assert recorder.saved == [("b", "b1")]


async def test_a_cancelled_waiter_does_not_cancel_the_batch() -> None:
    recorder = Recorder()
    saver = GroupSaver(recorder.write)
    impatient = asyncio.create_task(saver.save("a", b"1", "a1"))
    await asyncio.sleep(0)
    impatient.cancel()
    await asyncio.sleep(0)
    patient = asyncio.create_task(saver.save("b", b"1", "b1"))
    recorder.release.set()
    await patient
    assert recorder.saved == [("a", "a1"), ("b", "b1")]


async def test_a_newer_save_replaces_the_state_and_keeps_every_edit() -> None:
    recorder = Recorder()
    saver = GroupSaver(recorder.write)
    first = asyncio.create_task(saver.save("a", b"1", "a1", [Edit(1, b"x")]))
    await asyncio.sleep(0)
    second = asyncio.create_task(saver.save("b", b"1", "b1", [Edit(2, b"y")]))
    third = asyncio.create_task(saver.save("b", b"2", "b2", [Edit(3, b"z")]))
    await asyncio.sleep(0)
    recorder.release.set()
    await asyncio.gather(first, second, third)
    pending = recorder.batches[1]["b"]
    assert (pending.state, pending.code) == (b"2", "b2")
    assert [(e.participant_id, e.update) for e in pending.edits] == [(2, b"y"), (3, b"z")]
