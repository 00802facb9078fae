"""The attached stream's demultiplexing, on frames built the way Docker sends them."""

from __future__ import annotations

import json

from rivendell.executor.docker import _Streams
from rivendell.executor.launcher import MAGIC

MARKER = b"--done-7f3a--"


def frame(kind: int, payload: bytes) -> bytes:
    """One frame of Docker's attach stream: kind, three zero bytes, big-endian size, payload."""
    return bytes([kind, 0, 0, 0]) + len(payload).to_bytes(4, "big") + payload


def launcher_frame(fields: dict[str, object]) -> bytes:
    data = json.dumps(fields).encode()
    return MAGIC + len(data).to_bytes(4, "big") + data


def test_stderr_arriving_after_the_done_marker_is_kept() -> None:
    streams = _Streams(cap=1024, done_marker=MARKER)
    streams.feed(frame(1, launcher_frame({"compiled": None})))
    streams.feed(frame(1, b"to stdout\n" + MARKER))
    assert streams.done
    # Docker reads the program's stderr pipe on its own: its frame may come after stdout's end.
    streams.feed(frame(2, b"to stderr\n"))
    streams.feed(frame(1, launcher_frame({"cpu_ms": 3, "max_rss_bytes": 9 << 20})))
    assert bytes(streams.stdout) == b"to stdout\n"
    assert bytes(streams.stderr) == b"to stderr\n"
    assert streams.program_usage == {"cpu_ms": 3, "max_rss_bytes": 9 << 20}
