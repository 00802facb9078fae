"""Where a note pinned to code sits now: Yjs relative positions resolved to line numbers.

A note pinned to lines keeps two anchors, made in the interviewer's browser with
``Y.createRelativePositionFromTypeIndex`` on the document's ``code`` text and encoded with
``Y.encodeRelativePosition``. An anchor names a character (its author's client id and clock),
not an offset, so it stays on the same code however the lines above it change, on every replica.

pycrdt 0.14's ``StickyIndex`` mixes UTF-8 and UTF-16 offsets (wrong lines, or a Rust panic, as
soon as the text holds non-ASCII characters), so this module reads the anchor bytes itself and
finds its character by deleting exactly that character, by id, from a throwaway copy of the
document: where the copy's text first differs is the character's offset. The same trick, the
other way round, makes anchors on the server side (tests, tools). Offsets here are UTF-16 code
units, as Yjs and Monaco count them.

Pure functions over an encoded document state: no database, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pycrdt import Doc, Encoder, Text

__all__ = ["MAX_ANCHOR_BYTES", "Anchor", "decode_anchor", "line_of", "make_anchor", "resolve_lines"]

CODE = "code"  # the shared text every editor binds to (rivendell.collab.room.CODE)

MAX_ANCHOR_BYTES = 64
"""An encoded relative position is a few varints (about 5 to 20 bytes); anything longer is junk."""


@dataclass(frozen=True, slots=True)
class Anchor:
    """A decoded Yjs relative position: a character's id, or the text's start or end."""

    client: int | None  # None: no character (the start of the text, or its end)
    clock: int
    assoc: int  # >= 0: the position before the character; < 0: the position after it


def _read_var_uint(data: bytes, pos: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        if pos >= len(data) or shift > 63:
            raise ValueError("truncated varuint")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, pos


def _read_var_int(data: bytes, pos: int) -> tuple[int, int]:
    # lib0's signed varint: the first byte carries the sign in bit 6 and 6 bits of value.
    if pos >= len(data):
        raise ValueError("truncated varint")
    byte = data[pos]
    pos += 1
    value, negative, shift = byte & 0x3F, bool(byte & 0x40), 6
    while byte & 0x80:
        if pos >= len(data) or shift > 63:
            raise ValueError("truncated varint")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
    return (-value if negative else value), pos


def _write_var_uint(value: int) -> bytes:
    encoder = Encoder()
    encoder.write_var_uint(value)
    return encoder.to_bytes()


def decode_anchor(data: bytes) -> Anchor:
    """Read what ``Y.encodeRelativePosition`` wrote; ``ValueError`` for anything else."""
    if not data or len(data) > MAX_ANCHOR_BYTES:
        raise ValueError("not an anchor")
    tag, pos = _read_var_uint(data, 0)
    client: int | None = None
    clock = 0
    if tag == 0:  # a character's id
        client, pos = _read_var_uint(data, pos)
        clock, pos = _read_var_uint(data, pos)
    elif tag == 1:  # a root type by name, with no character: the type's start or end
        length, pos = _read_var_uint(data, pos)
        name = data[pos : pos + length]
        if len(name) != length:
            raise ValueError("truncated type name")
        pos += length
    else:
        raise ValueError("not an anchor in a root text")
    assoc = 0
    if pos < len(data):
        assoc, pos = _read_var_int(data, pos)
    if pos != len(data):
        raise ValueError("trailing bytes after an anchor")
    return Anchor(client, clock, assoc)


def _encode_anchor(client: int, clock: int, assoc: int) -> bytes:
    assoc_byte = bytes([0x41]) if assoc < 0 else bytes([0])
    return bytes([0]) + _write_var_uint(client) + _write_var_uint(clock) + assoc_byte


def _delete_update(client: int, clock: int) -> bytes:
    # A v1 update with no new structs and one delete range: (client, clock, length 1).
    return b"\x00\x01" + _write_var_uint(client) + b"\x01" + _write_var_uint(clock) + b"\x01"


def _units(text: str) -> bytes:
    return text.encode("utf-16-le", "surrogatepass")


def _first_difference(before: bytes, after: bytes) -> int:
    for i in range(0, min(len(before), len(after)), 2):
        if before[i : i + 2] != after[i : i + 2]:
            return i // 2
    return min(len(before), len(after)) // 2


def _copy(state: bytes) -> tuple[Doc[Any], Text]:
    doc: Doc[Any] = Doc()
    if state:
        doc.apply_update(state)
    return doc, doc.get(CODE, type=Text)


def _offset(state: bytes, text: str, anchor: Anchor) -> int | None:
    """The UTF-16 offset ``anchor`` stands for in the document, ``None`` if it cannot tell."""
    if anchor.client is None:
        return 0 if anchor.assoc < 0 else len(_units(text)) // 2
    doc, copy = _copy(state)
    try:
        doc.apply_update(_delete_update(anchor.client, anchor.clock))
        after = str(copy)
    except BaseException as error:  # pyo3 panics are BaseException
        if isinstance(error, KeyboardInterrupt | SystemExit | GeneratorExit):
            raise
        return None
    before_units, after_units = _units(text), _units(after)
    if len(after_units) >= len(before_units):
        return None  # that character is deleted already, or this replica never saw it
    index = _first_difference(before_units, after_units)
    return index + 1 if anchor.assoc < 0 else index


def line_of(text: str, index: int) -> int:
    """The 1-based line holding UTF-16 offset ``index`` of ``text`` (clamped to the text)."""
    before = _units(text)[: max(0, index) * 2]
    return before.decode("utf-16-le", errors="ignore").count("\n") + 1


def _state(document: Doc[Any] | bytes) -> bytes:
    return document.get_update() if isinstance(document, Doc) else document


def resolve_lines(
    document: Doc[Any] | bytes, anchor_start: bytes, anchor_end: bytes
) -> tuple[int, int] | None:
    """The 1-based first and last line the two anchors cover in ``document`` now.

    ``document`` is a pycrdt ``Doc`` or its encoded state (``Doc.get_update()``, or Yjs's
    ``encodeStateAsUpdate``). ``None`` when an anchor cannot be read, or its character is
    deleted or unknown to this replica (the caller then shows the lines the note was written on).
    """
    try:
        start, end = decode_anchor(anchor_start), decode_anchor(anchor_end)
    except ValueError:
        return None
    state = _state(document)
    _, text = _copy(state)
    value = str(text)
    first_index, last_index = _offset(state, value, start), _offset(state, value, end)
    if first_index is None or last_index is None:
        return None
    first = line_of(value, first_index)
    # An end anchor sits just after the range's last character: that character's line.
    last = line_of(value, max(first_index, last_index - 1))
    return first, max(first, last)


def make_anchor(document: Doc[Any] | bytes, index: int, *, end: bool = False) -> bytes:
    """An anchor at UTF-16 offset ``index`` of the document's text, encoded as Yjs encodes one.

    A range's start (``end=False``) names the character after ``index``; its end names the
    character before it, as ``Y.createRelativePositionFromTypeIndex(text, index, -1)`` does,
    so text typed just outside the range never joins it. Raises ``ValueError`` past the text.
    """
    state = _state(document)
    doc, text = _copy(state)
    value = str(text)
    units = _units(value)
    target = index - 1 if end else index
    if not 0 <= target < len(units) // 2:
        raise ValueError("no character there")
    # The character holding that code unit, as a Python index and UTF-8 byte range.
    consumed, char = 0, 0
    for char, ch in enumerate(value):  # noqa: B007 - char is used after the loop
        width = 2 if ord(ch) > 0xFFFF else 1
        if consumed + width > target:
            break
        consumed += width
    before = doc.get_state()
    deleted_before = doc.get_update(before)
    start_byte = len(value[:char].encode("utf-8"))
    del text[start_byte : start_byte + len(value[char].encode("utf-8"))]
    client, clock = _deleted_id(deleted_before, doc.get_update(before))
    return _encode_anchor(client, clock + (target - consumed), -1 if end else 0)


def _delete_set(update: bytes) -> dict[int, list[tuple[int, int]]]:
    """The delete set of an update holding no structs: {client: [(clock, length), ...]}."""
    groups, pos = _read_var_uint(update, 0)
    if groups:
        raise ValueError("expected a deletion only")
    deleted: dict[int, list[tuple[int, int]]] = {}
    clients, pos = _read_var_uint(update, pos)
    for _ in range(clients):
        client, pos = _read_var_uint(update, pos)
        ranges, pos = _read_var_uint(update, pos)
        for _ in range(ranges):
            clock, pos = _read_var_uint(update, pos)
            length, pos = _read_var_uint(update, pos)
            deleted.setdefault(client, []).append((clock, length))
    return deleted


def _deleted_id(before: bytes, after: bytes) -> tuple[int, int]:
    # A diff update carries the document's whole delete set, not only what is new in it (and
    # the new deletion may merge into a neighbouring range): the id is the clock ``after``
    # deletes that ``before`` did not.
    old = _delete_set(before)
    for client, ranges in _delete_set(after).items():
        for clock, length in ranges:
            for candidate in range(clock, clock + length):
                if not any(c <= candidate < c + n for c, n in old.get(client, ())):
                    return client, candidate
    raise ValueError("nothing was deleted")
