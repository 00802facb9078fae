"""The documents' writer: a process of its own that stores the rooms' group commits.

In a worker thread a batch's SQL work (SQLAlchemy building statements for hundreds of rows, and
the garbage collections its allocations set off) held the GIL for 5-35 ms at a time, and every
room's keystrokes waited for it: most of Rivendell's tail latency at 200 typing rooms. In a
child process the batch competes only for a CPU, where the kernel puts the event loop first
(the child is in its idle scheduling class). The child runs ``main`` below: it imports
the data layer and nothing of the web app.

Parent and child speak length-prefixed pickles over the child's stdin and stdout, one batch at a
time: the batch goes in, nothing (stored) or the error's text comes back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import pickle
import struct
import sys
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import IO

from rivendell.collab.saver import Pending
from rivendell.models import Edit

__all__ = ["DocumentWriter", "WriteFailed", "write_batch"]

logger = logging.getLogger(__name__)

_LENGTH = struct.Struct("!I")
# Where the kernel has no idle scheduling class (not Linux): a lower priority at least.
NICENESS = 10
# The app runs from its folder (it is not installed): the child imports from the same place.
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])


class WriteFailed(Exception):
    """The writer could not store a batch (the reason is the child's error, or its exit)."""


def write_batch(documents: Mapping[str, Pending]) -> None:
    """Store a batch of documents, and the edits they hold, in one transaction."""
    from rivendell import crud
    from rivendell.db import session

    with session() as db:
        crud.save_documents(
            db=db,
            documents={i: (pending.state, pending.code) for i, pending in documents.items()},
            edits={i: pending.edits for i, pending in documents.items() if pending.edits},
        )


class DocumentWriter:
    """Hands batches to the writer process; starts it (again) when needed.

    An async context manager: entering starts the process, so that its imports are done before
    the first room saves; leaving lets it finish and exit.
    """

    def __init__(self) -> None:
        self._process: asyncio.subprocess.Process | None = None
        self._lock = asyncio.Lock()

    async def __aenter__(self) -> DocumentWriter:
        await self._start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        async with self._lock:
            await self._stop()

    @property
    def pid(self) -> int | None:
        """The writer process's id, while it runs."""
        return self._process.pid if self._process is not None else None

    async def write(self, documents: Mapping[str, Pending]) -> None:
        """Store ``documents`` in one transaction; raises ``WriteFailed`` if it did not."""
        frame = pickle.dumps(_encode(documents), protocol=pickle.HIGHEST_PROTOCOL)
        async with self._lock:
            process = self._process
            if process is None or process.returncode is not None:
                process = await self._start()
            assert process.stdin is not None
            assert process.stdout is not None
            try:
                process.stdin.write(_LENGTH.pack(len(frame)) + frame)
                await process.stdin.drain()
                (length,) = _LENGTH.unpack(await process.stdout.readexactly(_LENGTH.size))
                error = (await process.stdout.readexactly(length)).decode()
            except (OSError, asyncio.IncompleteReadError) as lost:
                # The next batch starts a new process; the rooms keep this batch's changes.
                await self._stop()
                raise WriteFailed(f"the writer process exited ({lost!r})") from None
        if error:
            raise WriteFailed(error)

    async def _start(self) -> asyncio.subprocess.Process:
        await self._stop()
        path = os.pathsep.join(filter(None, [_PACKAGE_ROOT, os.environ.get("PYTHONPATH")]))
        self._process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            f"from {__name__} import main; main()",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": path},
            # Out of the server's process group: Ctrl-C and a group's SIGTERM stop the server,
            # whose shutdown saves every room through this process and then ends it.
            start_new_session=True,
            # One pipe buffer holds 64 KiB; a batch of 200 rooms is several hundred.
            limit=16 * 1024 * 1024,
        )
        return self._process

    async def _stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.stdin is not None and not process.stdin.is_closing():
            process.stdin.close()
        try:
            async with asyncio.timeout(10):
                await process.wait()
        except TimeoutError:
            logger.warning("the writer process did not exit; killing it")
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()


_Frame = dict[str, tuple[bytes, str, list[tuple[int | None, bytes, datetime]]]]


def _encode(documents: Mapping[str, Pending]) -> _Frame:
    # Plain tuples: pickle handles them in C, where the dataclasses take a Python call each, on
    # the event loop, for every edit (two thousand a second at 200 typing rooms).
    return {
        interview_id: (
            pending.state,
            pending.code,
            [(edit.participant_id, edit.update, edit.at) for edit in pending.edits],
        )
        for interview_id, pending in documents.items()
    }


def _decode(frame: _Frame) -> dict[str, Pending]:
    return {
        interview_id: Pending(state, code, tuple(Edit(*edit) for edit in edits))
        for interview_id, (state, code, edits) in frame.items()
    }


def _read(stream: IO[bytes]) -> dict[str, Pending] | None:
    header = stream.read(_LENGTH.size)
    if len(header) < _LENGTH.size:
        return None
    (length,) = _LENGTH.unpack(header)
    # The parent process's own batch, over this process's private pipe.
    return _decode(pickle.loads(stream.read(length)))  # noqa: S301


def _reply(stream: IO[bytes], error: str = "") -> None:
    frame = error.encode()
    stream.write(_LENGTH.pack(len(frame)) + frame)
    stream.flush()


def _yield_the_cpu() -> None:
    """Let every other task have the CPU first.

    At nice 10 the kernel still let this process's bursts (a batch every tenth of a second)
    delay the event loop on the same core: the room's p99 doubled next to the bare server's.
    Under SCHED_IDLE the kernel prefers any other task, though on a core it shares with the
    event loop it still ran 10-13 ms inside some of the loop's 30-40 ms stalls. It still gets a
    sliver of a saturated core, so saves slow down there but go on; their rooms keep every
    change meanwhile.
    """
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):
        os.nice(NICENESS)


def main() -> None:
    """Store batches from stdin until it closes (the server stopped, or died)."""
    _yield_the_cpu()
    logging.basicConfig(level=logging.WARNING, format="rivendell writer: %(message)s")
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    # Nothing else may write to the reply stream.
    sys.stdout = sys.stderr
    while (documents := _read(stdin)) is not None:
        try:
            write_batch(documents)
        except Exception as error:
            _reply(stdout, f"{type(error).__name__}: {error}")
        else:
            _reply(stdout)
