"""A Monaco code editor for Reflex, bundled from npm (no CDN at run time).

The React side lives in ``editor.jsx`` beside this file. It keeps the editor
uncontrolled: ``value`` seeds the document and replaces it at once when
``document_key`` changes; a new ``value`` for the same document is shown only after
the user has stopped typing for a moment, so state updates echoing ``on_change``
never clobber what is being typed.

With ``collab_room`` and ``collab_token`` set, the editor co-edits the interview's
shared Yjs text over ``/ws/collab/<room>`` on the Reflex backend (``collab.jsx``, loaded
lazily and only in that mode): remote cursors carry their user's name and colour, undo
only reverts the local user's edits, and a badge shows the connection.

Each live editor is reachable from JavaScript as
``window.__rivendellEditors[<id>].editor`` (and ``.monaco``; in collaboration mode also
``.ydoc``, ``.provider``, ``.awareness``, ``.undoManager``), and ``editor.jsx`` exports
``onEditorMount(hook)`` / ``getEditor(id)``.
"""

from __future__ import annotations

import functools
from typing import Any, Self, TypedDict

import reflex as rx
from reflex.constants import ReactRouter
from reflex.event import EventHandler, passthrough_event_spec
from reflex.plugins import Plugin
from reflex.vars.base import Var

# 0.56+ has the tree-shakeable entry points editor.jsx relies on (0.55's grammar
# modules drag in every editor feature). Its exports map breaks y-monaco 0.1.6's
# `monaco-editor/esm/vs/...` import: MonacoVitePlugin (below) mends that.
MONACO_VERSION = "0.57.0"
# Live co-editing (collab.jsx). y-monaco 0.1.6 imports `monaco-editor/esm/vs/...`: see
# MonacoVitePlugin. Pinned exactly: the wire protocol must match the server's.
COLLAB_DEPENDENCIES = ("yjs@13.6.33", "y-monaco@0.1.6", "y-websocket@3.1.0", "y-protocols@1.0.7")

# Where rx.asset(shared=True) publishes editor.jsx, as a build-time import path.
_GLUE_DIR = f"$/public/external/{__name__.replace('.', '/')}"
_GLUE_IMPORT = f"{_GLUE_DIR}/editor.jsx"
# editor.jsx imports collab.jsx as "./collab.jsx": both must be published side by side.
_GLUE_FILES = ("editor.jsx", "collab.jsx")


def publish_side_by_side(glue_dir: str, names: tuple[str, ...]) -> None:
    """Publish the calling module's JS files (``rx.asset(shared=True)``) into ``glue_dir``,
    where they import each other by relative path; fails loudly if Reflex puts them elsewhere."""
    for name in names:
        published = rx.asset(name, shared=True, _stack_level=2).importable_path
        if published != f"{glue_dir}/{name}":
            msg = f"{name} published at {published}, expected {glue_dir}/{name}"
            raise RuntimeError(msg)


@functools.cache
def _publish_glue() -> None:
    # Lazily, not at import: rxconfig.py imports this module for MonacoVitePlugin,
    # and rx.asset reads the config that is still loading at that moment.
    publish_side_by_side(_GLUE_DIR, _GLUE_FILES)


class PasteInfo(TypedDict):
    """A paste that did not come from a copy or cut in the same editor."""

    lines: int
    """Lines pasted (a trailing line break starts no new line)."""
    chars: int
    """Characters pasted (Unicode code points)."""


class CodeEditor(rx.NoSSRComponent):
    """Monaco editor that fills its parent; client-only, loaded on demand."""

    library = _GLUE_IMPORT
    tag = "CodeEditor"
    lib_dependencies: list[str] = [f"monaco-editor@{MONACO_VERSION}", *COLLAB_DEPENDENCIES]

    value: Var[str]
    """The text: applied at once on a new ``document_key``, else once the user is idle."""

    document_key: Var[str]
    """Identity of the document; changing it replaces the text with ``value``."""

    language: Var[str]
    """Monaco language id (a language manifest's ``monaco``; unknown ids show plain text).

    Changing it re-highlights the same editor in place."""

    theme: Var[str]
    """``"light"`` (Monaco ``vs``) or ``"dark"`` (``vs-dark``). Page-wide in Monaco."""

    read_only: Var[bool]
    """Refuse edits (the text stays selectable and copyable)."""

    aria_label: Var[str]
    """Accessible name of Monaco's input (the wrapper region is "Code editor")."""

    collab_room: Var[str]
    """Interview id to co-edit live; empty (the default) keeps the uncontrolled editor.

    Collaboration starts once ``collab_token`` is set too. The text is then the room's
    shared Yjs ``code``: ``value`` is only shown, read-only, until the first sync (or
    after the server refused the connection), and ``on_change`` never fires."""

    collab_token: Var[str]
    """The participant's token, sent as ``?token=`` to ``/ws/collab/<collab_room>``."""

    user_name: Var[str]
    """Name on this user's cursor as the others see it (at most 32 characters shown)."""

    user_color: Var[str]
    """Colour of this user's cursor and selection for the others, ``"#rrggbb"``."""

    # Reflex's trigger annotation; mypy cannot type the spec inside the subscript.
    on_change: EventHandler[passthrough_event_spec(str)]  # type: ignore[type-arg,valid-type]
    """Full text, debounced ~400 ms in the browser and flushed on blur (not when co-editing)."""

    on_paste: EventHandler[passthrough_event_spec(PasteInfo)]  # type: ignore[type-arg,valid-type]
    """Each paste from outside this editor (one it did not copy or cut itself), any size."""

    @classmethod
    def create(cls, *children: Any, **props: Any) -> Self:
        """Create the editor.

        Args:
            *children: Unused; Monaco renders its own DOM.
            **props: Component props. ``theme`` defaults to following Reflex's
                color mode; ``aria_label`` defaults to ``"Code"``.

        Returns:
            The editor component.
        """
        _publish_glue()
        props.setdefault("theme", rx.color_mode_cond(light="light", dark="dark"))
        props.setdefault("aria_label", "Code")
        return super().create(*children, **props)


code_editor = CodeEditor.create


# Both patches are idempotent: Reflex re-runs modify tasks on every compile.
_ESM_ALIAS = '{ find: /^monaco-editor\\/esm\\/vs\\/(.*)$/, replacement: "monaco-editor/$1" },'
# Rolldown also moves a group's dependencies into it; Monaco's lazy grammar imports
# depend on Vite's preload helper, and with the helper inside the monaco chunk every
# page (editor or not) downloaded all of Monaco. A higher-priority group keeps it out.
_MONACO_CHUNK = (
    '{ test: /preload-helper/, name: "preload-helper", priority: 20 },'
    ' { test: /node_modules[\\\\/]monaco-editor[\\\\/]/, name: "monaco", priority: 10 },'
)


def _patch_vite_config(vite_config: str) -> str:
    if _ESM_ALIAS not in vite_config:
        anchor = "alias: ["
        if anchor not in vite_config:
            msg = "MonacoVitePlugin: no `alias: [` in vite.config.js (Reflex template changed?)"
            raise RuntimeError(msg)
        vite_config = vite_config.replace(anchor, f"{anchor}\n      {_ESM_ALIAS}", 1)
    # Only an optimisation: without the anchor the build still works, in ~80 small chunks.
    if _MONACO_CHUNK not in vite_config:
        vite_config = vite_config.replace("groups: [", f"groups: [\n            {_MONACO_CHUNK}", 1)
    return vite_config


class MonacoVitePlugin(Plugin):
    """Vite tweaks for the bundled Monaco; register in ``rx.Config(plugins=[...])``.

    1. One ``monaco`` chunk: editor.jsx imports each feature and grammar separately,
       which Rolldown otherwise splits into ~80 requests. Grouped, a fresh load makes
       ~75 fewer requests and downloads ~28 KB less gzip (all grammars ride along).
    2. An alias from ``monaco-editor/esm/vs/<path>`` to ``monaco-editor/<path>``:
       y-monaco 0.1.6 imports ``monaco-editor/esm/vs/editor/editor.api.js``, which
       monaco 0.56+'s exports map turns into a missing file. Aliased, it resolves to
       the very module editor.jsx uses, so y-monaco and the editor share one ``monaco``.

    The editor works without the plugin; y-monaco does not build without it.
    """

    def pre_compile(self, **context: Any) -> None:
        """Patch the generated vite.config.js.

        Args:
            context: The pre-compile context from Reflex.
        """
        context["add_modify_task"](ReactRouter.VITE_CONFIG_FILE, _patch_vite_config)
