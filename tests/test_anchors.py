"""Note anchors stay on the same code when lines above them change, on every replica."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from pycrdt import Doc, Text

from rivendell.anchors import line_of, make_anchor, resolve_lines

YJS_FIXTURE = Path(__file__).parent / "node" / "anchors.json"

SEED = "def solve(xs):\n    seen = {}  # é → 😀\n    return seen\n\nprint(solve([1]))\n"


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def replica(state: bytes, client_id: int) -> tuple[Doc[Any], Text]:
    doc: Doc[Any] = Doc(client_id=client_id)
    doc.apply_update(state)
    return doc, doc.get("code", type=Text)


def byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def lines(text: str, first: int, last: int) -> str:
    return "\n".join(text.split("\n")[first - 1 : last])


def pin_lines_2_3(doc: Doc[Any]) -> tuple[bytes, bytes]:
    value = str(doc.get("code", type=Text))
    rows = value.split("\n")
    start = utf16(rows[0]) + 1
    end = start + utf16(rows[1]) + 1 + utf16(rows[2])
    return make_anchor(doc, start), make_anchor(doc, end, end=True)


def test_anchors_follow_concurrent_edits_above_them() -> None:
    origin: Doc[Any] = Doc(client_id=1)
    origin.get("code", type=Text).insert(0, SEED)
    state = origin.get_update()
    a, a_text = replica(state, 2)
    b, b_text = replica(state, 3)
    start, end = pin_lines_2_3(a)
    assert resolve_lines(a, start, end) == (2, 3)

    # Concurrently, above the pinned lines: A adds a line at the top; B deletes line 1 and
    # writes two lines in its place; both with text whose UTF-8 and UTF-16 lengths differ.
    a_text.insert(0, "# 👩‍💻 above\n")
    first_line = len("def solve(xs):\n")
    del b_text[0:first_line]
    b_text.insert(0, "import sys\n# ünïcode\ndef solve(xs):\n")
    a_update, b_update = a.get_update(b.get_state()), b.get_update(a.get_state())
    a.apply_update(b_update)
    b.apply_update(a_update)
    merged = str(a_text)
    assert merged == str(b_text)

    for doc in (a, b, a.get_update()):
        first, last = resolve_lines(doc, start, end) or (0, 0)
        assert (first, last) == (5, 6)
        assert lines(merged, first, last) == "    seen = {}  # é → 😀\n    return seen"


def test_an_edit_inside_the_range_keeps_it_and_text_typed_after_it_stays_out() -> None:
    doc: Doc[Any] = Doc(client_id=1)
    text = doc.get("code", type=Text)
    text.insert(0, SEED)
    start, end = pin_lines_2_3(doc)
    value = str(text)
    second_line_end = value.index("\n", value.index("\n") + 1)
    text.insert(byte_offset(value, second_line_end), "\n    seen[0] = 1")
    assert resolve_lines(doc, start, end) == (2, 4)
    value = str(text)
    after_range = value.index("return seen") + len("return seen")
    text.insert(byte_offset(value, after_range), "\n# typed after")
    assert resolve_lines(doc, start, end) == (2, 4)


def test_anchors_made_by_yjs_resolve_with_pycrdt() -> None:
    fixture = json.loads(YJS_FIXTURE.read_text())
    start = base64.b64decode(fixture["anchor_start"])
    end = base64.b64decode(fixture["anchor_end"])
    assert resolve_lines(base64.b64decode(fixture["initial"]), start, end) == (2, 3)
    merged = base64.b64decode(fixture["merged"])
    first, last = resolve_lines(merged, start, end) or (0, 0)
    assert [first, last] == fixture["lines"]
    assert lines(fixture["merged_text"], first, last) == fixture["pinned_code"]


def test_anchors_made_here_are_the_bytes_yjs_makes() -> None:
    fixture = json.loads(YJS_FIXTURE.read_text())
    doc, _ = replica(base64.b64decode(fixture["initial"]), 9)
    made = pin_lines_2_3(doc)
    assert made == (
        base64.b64decode(fixture["anchor_start"]),
        base64.b64decode(fixture["anchor_end"]),
    )


def test_unreadable_or_unknown_anchors_resolve_to_nothing() -> None:
    doc: Doc[Any] = Doc()
    doc.get("code", type=Text).insert(0, SEED)
    assert resolve_lines(doc, b"", b"") is None
    assert resolve_lines(doc, b"\xff\xff\xff", b"\x00") is None
    assert resolve_lines(doc, b"x" * 500, b"x" * 500) is None
    # An anchor on text this replica never received (another client's, clock far ahead).
    other: Doc[Any] = Doc(client_id=77)
    other_text = other.get("code", type=Text)
    other_text.insert(0, "unseen\n")
    anchor = make_anchor(other, 2)
    assert resolve_lines(doc, anchor, anchor) is None
    # A pinned line deleted altogether: the caller falls back to the lines it was written on.
    value = str(other_text)
    del other_text[0 : len(value.encode())]
    assert resolve_lines(other, anchor, anchor) is None


def test_line_of_counts_utf16_units() -> None:
    text = "😀\nx\ny"
    assert line_of(text, 0) == 1
    assert line_of(text, 2) == 1  # just after the surrogate pair, before the newline
    assert line_of(text, 3) == 2
    assert line_of(text, 5) == 3
    assert line_of(text, 99) == 3


def test_an_anchor_made_after_deletions_names_its_own_character() -> None:
    # A real room always has deletions (the starter code replaced, typos fixed): a diff update
    # then carries the whole delete set, and the anchor must not name an old deleted character.
    doc: Doc[Any] = Doc()
    text = doc.get("code", type=Text)
    text += "def solve():\n    pass\n"
    text.clear()
    text += "x = 1\ny = 2\nz = 3\n"
    del text[0:2]  # "= 1\ny = 2\nz = 3\n"
    start = make_anchor(doc, len("= 1\n"))
    end = make_anchor(doc, len("= 1\ny = 2"), end=True)
    assert resolve_lines(doc, start, end) == (2, 2)
    text.insert(0, "# one\n# two\n")
    assert resolve_lines(doc.get_update(), start, end) == (4, 4)
