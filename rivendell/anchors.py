"""Where a note pinned to code sits now: Yjs relative positions resolved to line numbers.

A note pinned to lines keeps two anchors, made in the interviewer's browser with
``Y.createRelativePositionFromTypeIndex`` on the document's ``code`` text and encoded with
``Y.encodeRelativePosition``. An anchor names a character (its author and clock), not an
offset, so it stays on the same code however the lines above it change, on every replica.
pycrdt's ``StickyIndex.decode`` reads those bytes as they are (tests/test_anchors.py holds bytes
made by Yjs itself), and ``get_index`` answers in UTF-16 code units, as Yjs and Monaco count.

Pure functions over a document or its encoded state: no database, no I/O.
"""

from __future__ import annotations

from typing import Any

from pycrdt import Assoc, Doc, StickyIndex, Text

__all__ = ["MAX_ANCHOR_BYTES", "line_of", "make_anchor", "resolve_lines"]

CODE = "code"  # the shared text every editor binds to (rivendell.collab.room.CODE)

MAX_ANCHOR_BYTES = 64
"""An encoded relative position is a few varints (about 5 to 20 bytes); anything longer is junk."""


def _text(document: Doc | bytes) -> Text:
    if isinstance(document, Doc):
        return document.get(CODE, type=Text)
    doc: Doc[Any] = Doc()
    if document:
        doc.apply_update(document)
    return doc.get(CODE, type=Text)


def line_of(text: str, index: int) -> int:
    """The 1-based line holding UTF-16 offset ``index`` of ``text`` (clamped to the text)."""
    units = text.encode("utf-16-le")
    before = units[: max(0, index) * 2]
    return before.decode("utf-16-le", errors="ignore").count("\n") + 1


def _index(text: Text, anchor: bytes) -> int | None:
    try:
        return StickyIndex.decode(anchor, text).get_index()
    except BaseException as error:  # pyo3 panics are BaseException; junk bytes must not kill us
        if isinstance(error, KeyboardInterrupt | SystemExit | GeneratorExit):
            raise
        return None


def resolve_lines(
    document: Doc | bytes, anchor_start: bytes, anchor_end: bytes
) -> tuple[int, int] | None:
    """The 1-based first and last line the two anchors cover in ``document`` now.

    ``document`` is a pycrdt ``Doc`` or its encoded state (``Doc.get_update()``, or what Yjs's
    ``encodeStateAsUpdate`` sends). ``None`` when an anchor cannot be read or points at text
    this document has never seen (a replica behind the one the note was made on).
    """
    if not anchor_start or not anchor_end:
        return None
    if max(len(anchor_start), len(anchor_end)) > MAX_ANCHOR_BYTES:
        return None
    text = _text(document)
    start, end = _index(text, anchor_start), _index(text, anchor_end)
    if start is None or end is None:
        return None
    value = str(text)
    first, last = line_of(value, start), line_of(value, end)
    return first, max(first, last)


def make_anchor(text: Text, index: int, *, end: bool = False) -> bytes:
    """An anchor at UTF-16 offset ``index`` of ``text``, encoded as Yjs encodes one.

    A range's start sticks to the character after it, its end to the character before it (as
    the browser makes them), so text typed just outside the range never joins it.
    """
    return text.sticky_index(index, Assoc.BEFORE if end else Assoc.AFTER).encode()
