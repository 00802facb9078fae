"""Blocks that a document holds as generated text, between two markers, for tests to compare."""

from __future__ import annotations

from pathlib import Path


def generated_block(document: Path, begin: str, end: str) -> str:
    """The block from ``begin`` to ``end`` (markers included); fails when a marker is missing."""
    text = document.read_text(encoding="utf-8")
    assert begin in text, f"{document.name} has no generated block ({begin})"
    assert end in text, f"{document.name} has no end marker ({end})"
    return text[text.index(begin) : text.index(end) + len(end)]
