"""An invisible periodic trigger for Reflex event handlers (presence, keep-alive).

``heartbeat(interval_ms=4000, on_beat=State.handler)`` calls the handler once on
mount, then every ``interval_ms`` while mounted, and again whenever the page becomes
visible (``visibilitychange``). It stops on unmount. The timer runs in the browser,
so a beat also proves the client is alive and connected, unlike a server-side loop.
"""

from __future__ import annotations

from typing import Any, Self

import reflex as rx
from reflex.event import EventHandler, no_args_event_spec
from reflex.vars.base import Var

_GLUE = rx.asset("heartbeat.jsx", shared=True)


class Heartbeat(rx.Component):
    """Renders nothing; fires ``on_beat`` on mount, on an interval and on re-visibility."""

    library = _GLUE.importable_path
    tag = "Heartbeat"

    interval_ms: Var[int]
    """Milliseconds between beats (minimum 250). Changing it restarts the timer."""

    # Reflex's trigger annotation; mypy cannot type the spec inside the subscript.
    on_beat: EventHandler[no_args_event_spec]  # type: ignore[type-arg,valid-type]
    """Handler called on each beat, with no arguments."""

    @classmethod
    def create(cls, *children: Any, **props: Any) -> Self:
        """Create a heartbeat.

        Args:
            *children: Ignored; the component renders nothing.
            **props: ``interval_ms`` (default 4000) and ``on_beat``.

        Returns:
            The heartbeat component.
        """
        props.setdefault("interval_ms", 4000)
        return super().create(**props)


heartbeat = Heartbeat.create
