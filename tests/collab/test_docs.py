"""docs/collaboration.md states the limits the code enforces (one table, checked here)."""

from __future__ import annotations

from pathlib import Path

from rivendell.collab import MAX_DOCUMENT_BYTES
from rivendell.collab.channel import Limits

DOC = (Path(__file__).resolve().parents[2] / "docs" / "collaboration.md").read_text()
MIB = 1024 * 1024


def row(label: str) -> str:
    return next(line for line in DOC.splitlines() if line.startswith(f"| {label}"))


def test_the_limits_table_matches_the_code() -> None:
    limits = Limits()
    assert f"| {limits.max_frame_bytes // MIB} MiB |" in row("one incoming frame")
    messages = row("messages from one client")
    assert f"{limits.max_messages_per_second:.0f}/s" in messages
    assert f"bursts of {limits.burst_seconds:.0f} s" in messages
    assert f"{limits.max_bytes_per_second / MIB:.0f} MiB/s" in row("bytes from one client")
    queued = row("messages queued")
    assert f"{limits.max_queued_messages:,} or {limits.max_queued_bytes // MIB} MiB" in queued
    assert f"{MAX_DOCUMENT_BYTES // 1024} KiB" in row("document size")
