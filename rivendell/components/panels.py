"""Resizable split panes for Reflex, wrapping ``react-resizable-panels`` v4.

v4 renamed the components (``PanelGroup`` -> ``Group``, ``PanelResizeHandle`` ->
``Separator``) and the group's ``direction`` became ``orientation``; this module keeps
the friendlier ``panel_group(direction=...)`` spelling.

Sizes: a Python number is a **percentage** of the group (``default_size=30``), as in
react-resizable-panels < 4; a string carries its unit (``"30%"``, ``"240px"``, ``"20rem"``).
v4 itself reads a bare number as pixels, so the wrappers turn numbers into ``"N%"``.

Panels and handles must be direct children of their group.
"""

from __future__ import annotations

from typing import Any, Literal, Self

import reflex as rx
from reflex.event import EventHandler, passthrough_event_spec
from reflex.vars.base import Var

LIBRARY = "react-resizable-panels@4.24.0"

Orientation = Literal["horizontal", "vertical"]

# The group calls onLayoutChanged(layout, meta); Reflex forwards the layout only.
_LAYOUT_SPEC = passthrough_event_spec(dict[str, float])


class _ResizablePanels(rx.Component):
    """Shared library pin for the react-resizable-panels wrappers."""

    library = LIBRARY


class PanelGroup(_ResizablePanels):
    """A row (horizontal) or column (vertical) of resizable panels; fills its parent."""

    tag = "Group"

    orientation: Var[Orientation]
    """Axis along which the panels are laid out and resized."""

    disabled: Var[bool]
    """Freeze the layout (no pointer or keyboard resizing)."""

    # Reflex's trigger annotation; mypy cannot type the spec call inside the subscript.
    on_layout_changed: EventHandler[_LAYOUT_SPEC]  # type: ignore[type-arg,valid-type]
    """After a resize ends: ``{panel_id: percent}`` (give panels ids to make it useful)."""

    @classmethod
    def create(cls, *children: Any, **props: Any) -> Self:
        """Create a panel group.

        Args:
            *children: ``panel(...)`` and ``resize_handle()`` components, alternating.
            **props: Component props; ``direction`` is accepted as an alias of
                ``orientation`` (the pre-v4 name).

        Returns:
            The panel group.
        """
        if "direction" in props:
            props.setdefault("orientation", props.pop("direction"))
        return super().create(*children, **props)


class Panel(_ResizablePanels):
    """One pane of a panel group. Its content div scrolls when it overflows."""

    tag = "Panel"

    default_size: Var[str]
    """Initial size: a number is a percentage, a string has a unit ("30%", "240px")."""

    min_size: Var[str]
    """Smallest size the user can drag it to (same units as ``default_size``)."""

    max_size: Var[str]
    """Largest size (same units as ``default_size``); defaults to 100%."""

    collapsible: Var[bool]
    """Collapse to ``collapsed_size`` when dragged below ``min_size``."""

    collapsed_size: Var[str]
    """Size when collapsed (same units as ``default_size``); defaults to 0%."""

    @classmethod
    def create(cls, *children: Any, **props: Any) -> Self:
        """Create a panel.

        Args:
            *children: The panel's content.
            **props: Component props; numeric sizes are percentages.

        Returns:
            The panel.
        """
        for name in ("default_size", "min_size", "max_size", "collapsed_size"):
            value = props.get(name)
            # bool is an int subclass; never a size.
            if isinstance(value, int | float) and not isinstance(value, bool):
                props[name] = f"{value:g}%"
        return super().create(*children, **props)


class ResizeHandle(_ResizablePanels):
    """Draggable, keyboard-focusable bar between two panels (arrow keys resize)."""

    tag = "Separator"

    disabled: Var[bool]
    """Disable resizing through this handle."""

    disable_double_click: Var[bool]
    """Do not reset the neighbouring panel to its default size on double click."""

    @classmethod
    def create(cls, *children: Any, **props: Any) -> Self:
        """Create a resize handle.

        Args:
            *children: Optional grip content (usually none).
            **props: Component props; ``aria_label`` defaults to "Resize panels".

        Returns:
            The resize handle.
        """
        props.setdefault("aria_label", "Resize panels")
        style = {**_HANDLE_STYLE, **props.pop("style", {})}
        return super().create(*children, style=style, **props)


# The library renders role="separator" with aria-orientation: "vertical" is the bar
# between side-by-side panels. Radix alpha colours keep it right in light and dark.
_ACTIVE = {"background_color": "var(--accent-9)"}
_HANDLE_STYLE: dict[str, Any] = {
    "flex": "0 0 auto",
    "background_color": "var(--gray-a5)",
    "outline": "none",
    "transition": "background-color 120ms ease",
    "&[aria-orientation='vertical']": {"width": "3px"},
    "&[aria-orientation='horizontal']": {"height": "3px"},
    "&:hover": _ACTIVE,
    "&[data-separator='hover']": _ACTIVE,
    "&[data-separator='active']": _ACTIVE,
    "&[data-separator='focus']": _ACTIVE,
    "&:focus-visible": {
        **_ACTIVE,
        "box_shadow": "0 0 0 2px var(--accent-a8)",
    },
}

panel_group = PanelGroup.create
panel = Panel.create
resize_handle = ResizeHandle.create
