"""A run's receipt as the output panel shows it: labelled lines with units, only what was known."""

from __future__ import annotations

import dataclasses

from rivendell.components.receipt import format_bytes, format_receipt
from rivendell.executor.base import Limits


def test_sizes_read_in_binary_units() -> None:
    assert [format_bytes(n) for n in (0, 1023, 1536, 256 * 1024 * 1024, 9_542_041)] == [
        "0 B",
        "1023 B",
        "1.5 KiB",
        "256 MiB",
        "9.1 MiB",
    ]


def test_a_server_receipt_names_the_image_and_what_the_program_used() -> None:
    text = format_receipt(
        {
            "language_version": "3.11",
            "image": "rivendell-runner-core:7de47b8fb1aa",
            "image_id": "sha256:" + "0d3a" * 16,
            "wall_ms": 1234,
            "cpu_ms": 11,
            "sandbox_cpu_ms": 53,
            "memory_peak_bytes": 107 * 1024 * 1024,
            "sandbox_memory_peak_bytes": 108 * 1024 * 1024,
            "output_bytes": 2,
            "limits": dataclasses.asdict(Limits()),
            "signal": None,
            "message": "",
        }
    )
    lines = dict(line.split(":", 1) for line in text.splitlines())
    assert lines["Digest"].strip() == "sha256:" + "0d3a" * 16
    assert lines["Wall time"].strip() == "1,234 ms"
    assert lines["CPU time"].strip() == "11 ms (sandbox 53 ms, with the launcher)"
    assert lines["Peak memory"].strip() == "107 MiB resident (sandbox cgroup 108 MiB)"
    assert lines["Output"].strip() == "2 B (stdout + stderr)"
    assert "256 MiB memory · 5 s CPU · 10 s wall" in lines["Limits"]
    assert "Signal" not in lines


def test_a_browser_receipt_shows_only_what_a_browser_knows() -> None:
    text = format_receipt(
        {
            "runtime": "Pyodide 0.29",
            "limits": {"wall_seconds": 10.0, "output_bytes": 65536},
            "wall_ms": 40,
            "output_bytes": 70000,
            "stdout_truncated": True,
        }
    )
    assert text.splitlines()[0] == "Runtime:   Pyodide 0.29"
    assert "CPU" not in text.replace("s CPU", "")
    assert "Peak memory" not in text
    assert "68.4 KiB (stdout + stderr), cut" in text
    assert format_receipt({}) == ""
