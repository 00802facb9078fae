"""The interview's playback view for Reflex: scrub through the timeline, see the code as it was.

The React side is ``playback.jsx`` beside this file, and its replay logic the plain module
``playback_engine.mjs`` (unit-tested under Node in ``tests/node/playback.test.mjs``). The
component fetches ``GET /api/v1/sessions/<session_id>/timeline`` itself with ``token`` as its
bearer token (the timeline can be large and never passes through Reflex state), then shows:

- a read-only Monaco editor (the room's bundled one, through ``editor.jsx``) with the code at
  the scrubber's moment, each author's text tinted in their participant colour (Yjs
  attribution: each Yjs client id belongs to the participant whose edits carried it; the
  starter code has no author);
- a bar with the edit activity, the runs, tests, pastes, notes, hints, language changes,
  joins and leaves and the end as markers (a note or hint at the moment it is about; a
  toolbar: one tab stop, arrow keys between markers), a range input to scrub (arrows: 1 s,
  Shift: 10 s, Page Up/Down: 30 s, Home/End, Space: play/pause), play/pause and speeds 1x
  to 32x; a stretch of more than 10 s without an event lasts 1 s on the bar and on playback;
- beside it, the authors' colours and the picked marker's details (a run's code, input,
  output and status).

A 401 or 403 from the timeline shows "Only the interview's interviewers can watch its
playback."; the page checks first and normally never mounts the component for anyone else.
"""

from __future__ import annotations

import functools
from typing import Any, Self

import reflex as rx
from reflex.vars.base import Var

from rivendell.components.editor import COLLAB_DEPENDENCIES, MONACO_VERSION, publish_side_by_side
from rivendell.components.editor import _publish_glue as _publish_editor_glue

__all__ = ["Playback", "playback"]

_GLUE_DIR = f"$/public/external/{__name__.replace('.', '/')}"
_GLUE_IMPORT = f"{_GLUE_DIR}/playback.jsx"
# playback.jsx imports the engine as "./playback_engine.mjs": published side by side.
_GLUE_FILES = ("playback.jsx", "playback_engine.mjs")


@functools.cache
def _publish_glue() -> None:
    # At first use, like the editor's: rx.asset reads the config, which may still be loading.
    publish_side_by_side(_GLUE_DIR, _GLUE_FILES)
    # playback.jsx shows the code in editor.jsx's CodeEditor.
    _publish_editor_glue()


class Playback(rx.NoSSRComponent):
    """The playback view of one interview; client-only, fills its parent."""

    library = _GLUE_IMPORT
    tag = "Playback"
    # Yjs replays the updates; Monaco comes through editor.jsx. The same pins as the room, so
    # the page shares the room's chunks.
    lib_dependencies: list[str] = [f"monaco-editor@{MONACO_VERSION}", *COLLAB_DEPENDENCIES]

    session_id: Var[str]
    """The interview whose timeline to play."""

    token: Var[str]
    """The viewer's bearer token (an interviewer's seat token, or the admin token)."""

    languages: Var[dict[str, str]]
    """Room language id -> Monaco language id, for the highlighting at each moment."""

    theme: Var[str]
    """``"light"`` or ``"dark"`` (follows Reflex's colour mode by default)."""

    @classmethod
    def create(cls, *children: Any, **props: Any) -> Self:
        """Create the playback view.

        Args:
            *children: Unused.
            **props: ``session_id``, ``token``, ``languages`` and optionally ``theme``.

        Returns:
            The component.
        """
        _publish_glue()
        props.setdefault("theme", rx.color_mode_cond(light="light", dark="dark"))
        return super().create(**props)


playback = Playback.create
