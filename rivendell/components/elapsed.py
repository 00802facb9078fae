"""A live "elapsed" clock: ``elapsed(since_ms=...)`` shows seconds since a server timestamp.

The count runs in the browser (ten redraws a second), so a run's elapsed time needs no state
update from the server while it goes on.
"""

from __future__ import annotations

import reflex as rx
from reflex.vars.base import Var

_GLUE = rx.asset("elapsed.jsx", shared=True)


class Elapsed(rx.Component):
    """Renders ``<span>N.N s</span>``, counting up from ``since_ms``."""

    library = _GLUE.importable_path
    tag = "Elapsed"

    since_ms: Var[int]
    """When the clock started, as a Unix time in milliseconds."""


elapsed = Elapsed.create
