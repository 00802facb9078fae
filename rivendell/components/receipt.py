"""A run's receipt as people read it: what ran it, under which limits, and what it used.

The receipt is the ``details`` a run keeps (``rivendell.runs.run_receipt`` for the server,
``finish_in_browser`` for a browser); this turns it into labelled lines with units, for the
"How it ran" disclosure under an output. Keys a run does not have are left out, so a browser
run shows only what a browser can know.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["format_bytes", "format_receipt"]

_KIB = 1024


def format_bytes(value: int) -> str:
    """``532 B``, ``1.5 KiB``, ``256 MiB``."""
    if value < _KIB:
        return f"{value} B"
    if value < _KIB * _KIB:
        return f"{_one_decimal(value / _KIB)} KiB"
    return f"{_one_decimal(value / _KIB / _KIB)} MiB"


def _one_decimal(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def _number(details: Mapping[str, Any], key: str) -> int | None:
    value = details.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _limits(limits: Mapping[str, Any]) -> str:
    parts = []
    if isinstance(memory := limits.get("memory_bytes"), int):
        parts.append(f"{format_bytes(memory)} memory")
    if isinstance(cpu := limits.get("cpu_seconds"), int | float):
        parts.append(f"{cpu:g} s CPU")
    if isinstance(wall := limits.get("wall_seconds"), int | float):
        parts.append(f"{wall:g} s wall")
    if isinstance(output := limits.get("output_bytes"), int):
        parts.append(f"{format_bytes(output)} per output stream")
    if isinstance(processes := limits.get("processes"), int):
        parts.append(f"{processes} processes")
    if limits.get("network") is False:
        parts.append("no network")
    return " · ".join(parts)


def format_receipt(details: Mapping[str, Any]) -> str:
    """One ``label: value`` line per fact the run recorded (empty when it recorded none)."""
    lines: list[tuple[str, str]] = []
    if runtime := details.get("runtime"):
        lines.append(("Runtime", str(runtime)))
    if version := details.get("language_version"):
        lines.append(("Version", str(version)))
    if image := details.get("image"):
        lines.append(("Image", str(image)))
    if image_id := details.get("image_id"):
        lines.append(("Digest", str(image_id)))
    if (wall := _number(details, "wall_ms")) is not None:
        lines.append(("Wall time", f"{wall:,} ms"))
    if (compile_ms := _number(details, "compile_ms")) is not None:
        lines.append(("Compiling", f"{compile_ms:,} ms"))
    if (cpu := _number(details, "cpu_ms")) is not None:
        sandbox = _number(details, "sandbox_cpu_ms")
        whole = f" (sandbox {sandbox:,} ms, with the launcher)" if sandbox is not None else ""
        lines.append(("CPU time", f"{cpu:,} ms{whole}"))
    if (memory := _number(details, "memory_peak_bytes")) is not None:
        sandbox = _number(details, "sandbox_memory_peak_bytes")
        whole = f" (sandbox cgroup {format_bytes(sandbox)})" if sandbox is not None else ""
        lines.append(("Peak memory", f"{format_bytes(memory)} resident{whole}"))
    if (output := _number(details, "output_bytes")) is not None:
        cut = details.get("stdout_truncated") or details.get("stderr_truncated")
        lines.append(
            ("Output", f"{format_bytes(output)} (stdout + stderr)" + (", cut" * bool(cut)))
        )
    if (signal := _number(details, "signal")) is not None:
        lines.append(("Signal", str(signal)))
    if isinstance(limits := details.get("limits"), Mapping) and (text := _limits(limits)):
        lines.append(("Limits", text))
    if message := details.get("message"):
        lines.append(("Note", str(message)))
    width = max((len(label) for label, _ in lines), default=0)
    return "\n".join(f"{label + ':':<{width + 1}} {value}" for label, value in lines)
