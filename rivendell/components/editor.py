"""A Monaco code editor for Reflex, bundled from npm (no CDN at run time).

The React side lives in ``editor.jsx`` beside this file. It keeps the editor
uncontrolled: ``value`` seeds the document and replaces it at once when
``document_key`` changes; a new ``value`` for the same document is shown only after
the user has stopped typing for a moment, so state updates echoing ``on_change``
never clobber what is being typed.

Each live editor is reachable from JavaScript as
``window.__rivendellEditors[<id>].editor`` (and ``.monaco``), and ``editor.jsx``
exports ``onEditorMount(hook)`` / ``getEditor(id)``: the seam for a Yjs binding.
"""

from __future__ import annotations

import functools
from typing import Any, Self

import reflex as rx
from reflex.constants import ReactRouter
from reflex.event import EventHandler, passthrough_event_spec
from reflex.plugins import Plugin
from reflex.vars.base import Var

# 0.56+ has the tree-shakeable entry points editor.jsx relies on (0.55's grammar
# modules drag in every editor feature). Its exports map breaks y-monaco 0.1.6's
# `monaco-editor/esm/vs/...` import: MonacoVitePlugin (below) mends that.
MONACO_VERSION = "0.57.0"

# Where rx.asset(shared=True) publishes editor.jsx, as a build-time import path.
_GLUE_IMPORT = f"$/public/external/{__name__.replace('.', '/')}/editor.jsx"


@functools.cache
def _publish_glue() -> None:
    # Lazily, not at import: rxconfig.py imports this module for MonacoVitePlugin,
    # and rx.asset reads the config that is still loading at that moment.
    published = rx.asset("editor.jsx", shared=True).importable_path
    if published != _GLUE_IMPORT:
        msg = f"editor.jsx published at {published}, expected {_GLUE_IMPORT}"
        raise RuntimeError(msg)


class CodeEditor(rx.NoSSRComponent):
    """Monaco editor that fills its parent; client-only, loaded on demand."""

    library = _GLUE_IMPORT
    tag = "CodeEditor"
    lib_dependencies: list[str] = [f"monaco-editor@{MONACO_VERSION}"]

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

    # Reflex's trigger annotation; mypy cannot type the spec inside the subscript.
    on_change: EventHandler[passthrough_event_spec(str)]  # type: ignore[type-arg,valid-type]
    """Full text, debounced ~400 ms in the browser and flushed on blur."""

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
