"""The languages a room can use, discovered from one folder each.

Adding a language is adding a folder here holding a ``manifest.toml`` (and, for a language the
server runs, a smoke program that prints ``OK``); nothing else registers it. A manifest without
``run`` is an editor-only language (SQL today): rooms can pick it, the server will not run it.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from rivendell.executor.base import Limits, RunRefused
from rivendell.executor.images import image_tag

__all__ = ["DEFAULT_LANGUAGE", "Language", "get_language", "languages", "runnable_language"]

DEFAULT_LANGUAGE = "python"
_HERE = Path(__file__).resolve().parent


@dataclass(frozen=True, slots=True)
class Language:
    """One language as a room and the sandbox see it."""

    id: str
    name: str
    monaco: str
    file_name: str
    starter: str
    version: str = ""
    image: str | None = None
    compile: tuple[str, ...] | None = None
    run: tuple[str, ...] | None = None
    smoke_file: str | None = None
    limits: Limits = field(default_factory=Limits)

    @property
    def runnable(self) -> bool:
        """Whether the server can run this language (it has an image and a run command)."""
        return self.image is not None and self.run is not None

    @property
    def image_tag(self) -> str:
        """The runner image this language runs in."""
        if self.image is None:
            raise RunRefused(f"{self.name} cannot be run on the server.")
        return image_tag(self.image)

    @property
    def smoke_program(self) -> str:
        """The program that prints ``OK`` in this language."""
        if self.smoke_file is None:
            raise LookupError(f"{self.id} has no smoke program")
        return (_HERE / self.id / self.smoke_file).read_text(encoding="utf-8")


def _commands(value: object) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ValueError(f"a command must be a non-empty list of strings, not {value!r}")
    if not value[0].startswith("/"):
        raise ValueError(f"commands run with an empty PATH: {value[0]!r} must be absolute")
    return tuple(value)


def _load(folder: Path) -> Language:
    manifest = tomllib.loads((folder / "manifest.toml").read_text(encoding="utf-8"))
    return Language(
        id=folder.name,
        name=manifest["name"],
        monaco=manifest["monaco"],
        file_name=manifest["file"],
        starter=manifest["starter"],
        version=manifest.get("version", ""),
        image=manifest.get("image"),
        compile=_commands(manifest.get("compile")),
        run=_commands(manifest.get("run")),
        smoke_file=manifest.get("smoke"),
        limits=Limits().with_overrides(manifest.get("limits", {})),
    )


@cache
def languages() -> dict[str, Language]:
    """Every language, by id, sorted by display name."""
    found = [_load(p.parent) for p in _HERE.glob("*/manifest.toml")]
    return {lang.id: lang for lang in sorted(found, key=lambda lang: lang.name.lower())}


def get_language(language_id: str) -> Language:
    """The language with this id; ``KeyError`` for an unknown one."""
    return languages()[language_id]


def runnable_language(language_id: str) -> Language:
    """The language a run asks for; ``RunRefused`` if it is unknown or editor-only."""
    language = languages().get(language_id)
    if language is None:
        known = ", ".join(sorted(lang.id for lang in languages().values() if lang.runnable))
        raise RunRefused(f"Unknown language {language_id!r}; the server runs {known}.")
    if not language.runnable:
        raise RunRefused(f"{language.name} cannot be run on the server.")
    return language
