"""The languages a room can use, discovered from one folder each.

Adding a language is adding a folder here holding a ``manifest.toml``; nothing else registers it.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

__all__ = ["DEFAULT_LANGUAGE", "Language", "get_language", "languages"]

DEFAULT_LANGUAGE = "python"
_HERE = Path(__file__).resolve().parent


@dataclass(frozen=True, slots=True)
class Language:
    """One language as a room sees it."""

    id: str
    name: str
    monaco: str
    file_name: str
    starter: str


def _load(folder: Path) -> Language:
    manifest = tomllib.loads((folder / "manifest.toml").read_text(encoding="utf-8"))
    return Language(
        id=folder.name,
        name=manifest["name"],
        monaco=manifest["monaco"],
        file_name=manifest["file"],
        starter=manifest["starter"],
    )


@cache
def languages() -> dict[str, Language]:
    """Every language, by id, sorted by display name."""
    found = [_load(p.parent) for p in _HERE.glob("*/manifest.toml")]
    return {lang.id: lang for lang in sorted(found, key=lambda lang: lang.name.lower())}


def get_language(language_id: str) -> Language:
    """The language with this id; ``KeyError`` for an unknown one."""
    return languages()[language_id]
