"""Group commit for room documents: every room saving at about the same time shares one transaction.

Each typing room saves twice a second. One transaction (and one worker-thread hand-off) per save
made the database the collaboration server's bottleneck at a few hundred rooms; a save now joins
the next batch. A lone save is written at once; after a batch the next one starts no sooner than
``min_interval`` later, so a busy server writes many rooms per commit (at most ten commits a
second by default) and a save waits at most that long for its batch.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from rivendell.models import Edit

__all__ = ["GroupSaver", "Pending", "WriteBatch"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Pending:
    """A room's document waiting for its batch, and the edits it holds since the last save."""

    state: bytes
    code: str
    edits: tuple[Edit, ...] = ()


WriteBatch = Callable[[Mapping[str, Pending]], Awaitable[None]]
"""Stores {interview id: pending save} in one transaction."""


class GroupSaver:
    """Collects saves and writes them in batches, one batch at a time."""

    def __init__(self, write: WriteBatch, min_interval: float = 0.1) -> None:
        self._write = write
        self.min_interval = min_interval
        self._pending: dict[str, Pending] = {}
        self._waiters: dict[str, list[asyncio.Future[None]]] = {}
        self._worker: asyncio.Task[None] | None = None

    async def save(
        self, interview_id: str, state: bytes, code: str, edits: Sequence[Edit] = ()
    ) -> None:
        """Store a room's document; returns once the batch holding it is committed.

        A newer save of the same room replaces the state of one still waiting for its batch;
        their edits are all kept.
        """
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        # Marks a failure as seen even when the room stopped waiting for it.
        waiter.add_done_callback(lambda done: done.cancelled() or done.exception())
        earlier = self._pending.get(interview_id)
        kept = earlier.edits if earlier is not None else ()
        self._pending[interview_id] = Pending(state, code, (*kept, *edits))
        self._waiters.setdefault(interview_id, []).append(waiter)
        if self._worker is None or self._worker.done():
            self._worker = asyncio.get_running_loop().create_task(self._write_batches())
        # Shielded: a room cancelling its wait (it is closing and saves again) must not lose the
        # batch's outcome for the other rooms' waiters.
        await asyncio.shield(waiter)

    async def _write_batches(self) -> None:
        loop = asyncio.get_running_loop()
        while self._pending:
            started = loop.time()
            batch, self._pending = self._pending, {}
            waiters, self._waiters = self._waiters, {}
            try:
                await self._write(batch)
            except Exception as error:
                logger.exception("saving %d documents failed", len(batch))
                for futures in waiters.values():
                    _settle(futures, error)
            else:
                for interview_id in batch:
                    _settle(waiters.get(interview_id, []), None)
            # A commit costs about the same for one room as for fifty: let the next batch fill.
            await asyncio.sleep(max(0.0, started + self.min_interval - loop.time()))


def _settle(futures: list[asyncio.Future[None]], error: Exception | None) -> None:
    for future in futures:
        if future.done():
            continue
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)
