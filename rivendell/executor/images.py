"""Runner images: where their Dockerfiles live and the tag each one is built under.

A tag is a digest of the image's Dockerfile and of the launcher it copies in, so the server and
``scripts/runner_images.py`` agree on which build is current without any registry, and changing
either file means a new image rather than a stale one.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

__all__ = ["BUILD_CONTEXT", "dockerfile", "image_names", "image_tag"]

BUILD_CONTEXT = Path(__file__).resolve().parent
_IMAGES = BUILD_CONTEXT / "images"
_LAUNCHER = BUILD_CONTEXT / "launcher.py"
REPOSITORY_PREFIX = "rivendell-runner-"


def image_names() -> list[str]:
    """Every image that has a Dockerfile, sorted."""
    return sorted(p.parent.name for p in _IMAGES.glob("*/Dockerfile"))


def dockerfile(name: str) -> Path:
    """The Dockerfile of one image."""
    return _IMAGES / name / "Dockerfile"


@cache
def image_tag(name: str) -> str:
    """``rivendell-runner-<name>:<digest of its Dockerfile and the launcher>``."""
    digest = hashlib.sha256()
    for part in (dockerfile(name), _LAUNCHER):
        digest.update(part.read_bytes())
    return f"{REPOSITORY_PREFIX}{name}:{digest.hexdigest()[:12]}"
