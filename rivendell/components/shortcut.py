"""A page-wide Ctrl/Cmd+Enter trigger: ``run_shortcut(on_press=State.handler)``.

It works while the code editor has focus too (Monaco would otherwise insert a line).
"""

from __future__ import annotations

from typing import Any, Self

import reflex as rx
from reflex.event import EventHandler, no_args_event_spec
from reflex.vars.base import Var

_GLUE = rx.asset("shortcut.jsx", shared=True)


class Shortcut(rx.Component):
    """Renders nothing; fires ``on_press`` on Ctrl+Enter or Cmd+Enter."""

    library = _GLUE.importable_path
    tag = "Shortcut"

    enabled: Var[bool]
    """Listen only while true."""

    # Reflex's trigger annotation; mypy cannot type the spec inside the subscript.
    on_press: EventHandler[no_args_event_spec]  # type: ignore[type-arg,valid-type]
    """Handler called on each press, with no arguments."""

    @classmethod
    def create(cls, *children: Any, **props: Any) -> Self:
        """Create the shortcut listener (``enabled`` defaults to true)."""
        props.setdefault("enabled", True)
        return super().create(**props)


run_shortcut = Shortcut.create
