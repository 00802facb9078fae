"""Interviewers' notes pinned to code, in the browser: Yjs anchors made and resolved live.

The React side lives in ``notes.jsx`` beside this file. ``pinned_notes`` marks each pinned
note's current lines in the room's editor; ``note_lines`` shows where a note's code is now
("lines 4-6"), following edits above it as they happen; ``SELECTION_PIN_SCRIPT`` (for
``rx.call_script``) reads the editor's selected lines as a note's pin: two base64 Yjs relative
positions and the line numbers. Both components find the room's live document through the
editor registry of ``editor.jsx``, so they work beside any ``code_editor`` in co-editing mode.
"""

from __future__ import annotations

import functools
from typing import Any, Self

import reflex as rx
from reflex.vars.base import Var

from rivendell.components.editor import COLLAB_DEPENDENCIES, publish_side_by_side

__all__ = ["SELECTION_PIN_SCRIPT", "note_lines", "pinned_notes"]

# Where rx.asset(shared=True) publishes notes.jsx (a folder named after this module).
_GLUE_DIR = f"$/public/external/{__name__.replace('.', '/')}"
_GLUE_IMPORT = f"{_GLUE_DIR}/notes.jsx"
# The same Yjs the editor's co-editing runs (one copy in the bundle, one document model).
_YJS = next(dep for dep in COLLAB_DEPENDENCIES if dep.startswith("yjs@"))

SELECTION_PIN_SCRIPT = "window.__rivendellNotes?.selectionPin() ?? {}"
"""A script whose value is the editor's selected lines as a pin (``{}`` before co-editing)."""


@functools.cache
def _publish_glue() -> None:
    publish_side_by_side(_GLUE_DIR, ("notes.jsx",))


class _NotesGlue(rx.NoSSRComponent):
    library = _GLUE_IMPORT
    lib_dependencies: list[str] = [_YJS]

    @classmethod
    def create(cls, *children: Any, **props: Any) -> Self:
        """Create the component (publishing ``notes.jsx`` first)."""
        _publish_glue()
        return super().create(*children, **props)


class PinnedNotes(_NotesGlue):
    """Marks pinned notes' lines in the room's editor (renders nothing itself)."""

    tag = "PinnedNotes"

    room: Var[str]
    """The interview id whose co-editing document the anchors belong to."""

    notes: Var[str]
    """JSON ``[{id, anchor_start, anchor_end, label}]``: the pinned notes (anchors base64)."""


class NoteLines(_NotesGlue):
    """Where a pinned note's code is now: "line 4" or "lines 4-6"."""

    tag = "NoteLines"

    room: Var[str]
    """The interview id whose co-editing document the anchors belong to."""

    anchor_start: Var[str]
    """Base64 Yjs relative position of the first pinned character."""

    anchor_end: Var[str]
    """Base64 Yjs relative position just after the last pinned character."""

    line_start: Var[int]
    """The first line when the note was written: shown until the document is live."""

    line_end: Var[int]
    """The last line when the note was written."""


pinned_notes = PinnedNotes.create
note_lines = NoteLines.create
