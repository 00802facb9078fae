"""One interview's shared document: a pycrdt-websocket ``YRoom`` with Rivendell's rules.

On top of the library's room it screens every message before the document sees it (document
size cap, read-only seats), tells a joiner who else is here (their cursors) at once, removes a
leaver's cursor for everyone, closes a client whose update the CRDT library rejects, hands each
update to every client's queue without a task per client, and saves the document at most
``save_delay`` seconds after a change. With a relay (several processes serving the room), every
local change and cursor goes out through it and the other processes' ones come in through it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from enum import Enum
from typing import Any, Literal

import anyio
from pycrdt import (
    Channel,
    Decoder,
    Doc,
    Text,
    TransactionEvent,
    YMessageType,
    YSyncMessageType,
    create_awareness_message,
    create_update_message,
)
from pycrdt.websocket import YRoom

from rivendell.collab.channel import CLOSE_INTERNAL, CLOSE_POLICY, ClientChannel
from rivendell.models import Edit

# An application code (4xxx): clients do not reconnect and resend the same change in a loop.
CLOSE_DOCUMENT_FULL = 4413

__all__ = ["CODE", "CollabRoom", "Kind", "Publish", "SaveDocument"]

logger = logging.getLogger(__name__)

CODE = "code"
"""The name of the shared ``Y.Text`` every client binds its editor to."""

SaveDocument = Callable[[str, bytes, str, Sequence[Edit]], Awaitable[None]]
"""Stores (interview id, encoded document state, text, the edits since the last save)."""

Publish = Callable[[str, "Kind", bytes], None]
"""Hands (interview id, kind, payload) to the relay; never waits."""


class Kind(bytes, Enum):
    """What a relayed payload is."""

    UPDATE = b"u"  # a Yjs document update
    AWARENESS = b"a"  # a Yjs awareness update (cursors, names)


def new_document(state: bytes | None, seed_text: str) -> Doc:
    """The room's document from its stored state, or seeded with ``seed_text`` by the server."""
    doc: Doc[Any] = Doc()
    if state:
        doc.apply_update(state)
    text = doc.get(CODE, type=Text)
    if not state and seed_text:
        # Appending (not inserting at an index) sidesteps pycrdt's UTF-8 byte offsets.
        text += seed_text
    return doc


def _awareness_client_ids(payload: bytes) -> list[int]:
    """The client ids an awareness update speaks for."""
    decoder = Decoder(payload)
    ids = []
    for _ in range(decoder.read_var_uint()):
        ids.append(decoder.read_var_uint())
        decoder.read_var_uint()  # clock
        decoder.read_var_string()  # state
    return ids


class CollabRoom(YRoom):
    """The document, its connected clients and their cursors for one interview."""

    def __init__(
        self,
        *,
        interview_id: str,
        doc: Doc,
        save: SaveDocument,
        max_document_bytes: int,
        save_delay: float = 0.5,
    ) -> None:
        super().__init__(ready=True, ydoc=doc, log=logger, exception_handler=self._room_error)
        self.interview_id = interview_id
        self.text = doc.get(CODE, type=Text)
        self.max_document_bytes = max_document_bytes
        self.save_delay = save_delay
        self._save = save
        self._save_task: asyncio.Task[None] | None = None
        self._size = len(doc.get_update())
        self._cursors: dict[ClientChannel, set[int]] = {}
        # Set by the server when other processes serve this room too (rivendell.collab.relay).
        self.publish: Publish | None = None
        self._applying_remote = False
        # Candidates' changes are dropped while the interviewer has the editor locked; nobody's
        # are taken once the interview ended.
        self.locked = False
        self.ended = False
        # What local clients changed since the last save, with who and when: the update log.
        self._edits: list[Edit] = []
        self.on_message_error = self._message_error

    @property
    def text_value(self) -> str:
        """The shared code as it is now (read by Run, the API, the admin page)."""
        return str(self.text)

    def screen(
        self,
        channel: ClientChannel,
        message: bytes,
        *,
        read_only: bool,
        author: int | None = None,
        interviewer: bool = True,
    ) -> tuple[int, str] | Literal[False] | None:
        """Whether ``message`` from ``channel`` may reach the document.

        ``None``: it may (a change is logged as ``author``'s); ``False``: it is dropped (a
        candidate's change while the editor is locked); else why the socket closes (code, reason).
        """
        try:
            kind = message[0]
            if kind == YMessageType.AWARENESS:
                payload = Decoder(message[1:]).read_message() or b""
                self._cursors.setdefault(channel, set()).update(_awareness_client_ids(payload))
                if self.publish is not None:
                    self.publish(self.interview_id, Kind.AWARENESS, payload)
                return None
            if kind != YMessageType.SYNC:
                return None
            sync_kind = message[1]
            if sync_kind == YSyncMessageType.SYNC_STEP1:
                return None
            update = Decoder(message[2:]).read_message() or b""
        except (IndexError, ValueError, RuntimeError, UnicodeDecodeError):
            return CLOSE_POLICY, "malformed Yjs message"
        if len(update) <= 2:  # an empty update: nothing to change or log
            return None
        if read_only:
            return CLOSE_POLICY, "this interview is read-only"
        if self.locked and not interviewer:
            logger.info("collab %s: dropped a change from %s (locked)", self.interview_id, author)
            return False
        if self._size + len(update) > self.max_document_bytes:
            return CLOSE_DOCUMENT_FULL, (
                f"the document is full (limit {self.max_document_bytes // 1024} KiB): "
                "delete something first"
            )
        self._edits.append(Edit(author, update))
        return None

    async def serve_client(self, channel: ClientChannel) -> None:
        """Serve ``channel`` until it leaves; its cursor leaves with it."""
        peers = list(self.awareness.states)
        if peers:
            # pycrdt-websocket only relays cursors as they change: a joiner would see none.
            update = self.awareness.encode_awareness_update(peers)
            await channel.send(create_awareness_message(update))
        try:
            await self.serve(channel)
        except BaseException as error:  # pyo3 panics are BaseException
            if is_cancellation(error):
                raise
            logger.exception("collab %s: a client's message broke the room", self.interview_id)
            channel.close(CLOSE_INTERNAL, "the server could not apply your change")
        finally:
            self._drop_cursors(channel)

    async def _watch_ready(self) -> None:
        # Replaces the library's observer, which encodes each change for the broadcast: one
        # observer encodes it once for the broadcast, the relay, the size cap and the save.
        await self.ready_event.wait()
        self._subscription = self.ydoc.observe(self._changed)
        self.ydoc_observed.set()

    async def _broadcast_updates(self) -> None:
        # Replaces the library's loop, which starts one task per client per update to send it:
        # a ClientChannel queues without waiting, so handing it the message directly does the
        # same work without a task for every keystroke of every receiver.
        async with self._update_receive_stream:
            async for update in self._update_receive_stream:
                if self._task_group is None or self._task_group.cancel_scope.cancel_called:
                    return
                if not self.clients:
                    continue
                message = create_update_message(update)
                for client in list(self.clients):
                    if isinstance(client, ClientChannel):
                        client.deliver(message)
                    else:
                        self._task_group.start_soon(client.send, message)

    def _drop_cursors(self, channel: ClientChannel) -> None:
        ids = [i for i in self._cursors.pop(channel, set()) if i in self.awareness.states]
        if not ids:
            return
        self.awareness.remove_awareness_states(ids, origin="server")
        removal = self.awareness.encode_awareness_update(ids)
        self._deliver_to_clients(create_awareness_message(removal), but=channel)
        if self.publish is not None:
            self.publish(self.interview_id, Kind.AWARENESS, removal)

    def _deliver_to_clients(self, message: bytes, but: ClientChannel | None = None) -> None:
        for client in list(self.clients):
            if client is not but and isinstance(client, ClientChannel):
                client.deliver(message)

    def apply_remote_update(self, update: bytes) -> None:
        """Merge another process's change; it reaches this room's clients like a local one."""
        self._applying_remote = True
        try:
            self.ydoc.apply_update(update)
        except BaseException as error:  # pyo3 panics are BaseException
            if is_cancellation(error):
                raise
            logger.exception("collab %s: a relayed update did not apply", self.interview_id)
        finally:
            self._applying_remote = False

    def apply_remote_awareness(self, payload: bytes) -> None:
        """Show another process's clients' cursors to this room's clients."""
        try:
            self.awareness.apply_awareness_update(payload, "relay")
        except Exception:
            logger.exception("collab %s: a relayed cursor update did not apply", self.interview_id)
            return
        self._deliver_to_clients(create_awareness_message(payload))

    def full_state(self) -> bytes:
        """The whole document as one update (what a process re-sends after losing the relay)."""
        return self.ydoc.get_update()

    def set_degraded(self, degraded: bool) -> None:
        """Tell this room's clients whether edits still reach the other processes' clients.

        The server's own awareness state carries it: any Yjs client receives it, and the
        editor shows it on its connection badge.
        """
        self.awareness.set_local_state_field("rivendell", {"degraded": degraded})

    def _changed(self, event: TransactionEvent) -> None:
        update = event.update
        try:
            self._update_send_stream.send_nowait(update)
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            pass  # a stopped room broadcasts nothing more
        except anyio.WouldBlock:
            logger.error("collab %s: broadcast queue full, an update not sent", self.interview_id)
        self._size += len(update)
        if self.publish is not None and not self._applying_remote:
            self.publish(self.interview_id, Kind.UPDATE, update)
        if self._save_task is None or self._save_task.done():
            self._save_task = asyncio.get_running_loop().create_task(self._save_soon())

    async def _save_soon(self) -> None:
        await asyncio.sleep(self.save_delay)
        await self.save_now()

    async def save_now(self) -> None:
        """Store the document as it is now."""
        state = self.ydoc.get_update()
        self._size = len(state)
        edits, self._edits = self._edits, []
        try:
            await self._save(self.interview_id, state, self.text_value, edits)
        except Exception:
            # Kept for the next save: the state it stores holds these changes too.
            self._edits[:0] = edits
            logger.exception("collab %s: saving the document failed", self.interview_id)

    async def flush(self) -> None:
        """Save any pending change now (last client left, or shutdown)."""
        pending = self._save_task
        if pending is not None and not pending.done():
            pending.cancel()
            await self.save_now()

    def _message_error(self, error: Exception, _message: bytes, channel: Channel) -> bool:
        logger.warning("collab %s: refused a message (%r)", self.interview_id, error)
        if isinstance(channel, ClientChannel):
            channel.close(CLOSE_INTERNAL, "the server could not apply your change")
        return True

    @staticmethod
    def _room_error(error: Exception, log: logging.Logger) -> bool:
        log.error("collab room error: %r", error)
        return True


def is_cancellation(error: BaseException) -> bool:
    if isinstance(error, (asyncio.CancelledError, KeyboardInterrupt, SystemExit)):
        return True
    if isinstance(error, BaseExceptionGroup):
        return any(is_cancellation(inner) for inner in error.exceptions)
    return False
