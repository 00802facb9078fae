"""Build every sandbox runner image that is not built yet: ``python -m scripts.runner_images``.

Idempotent: an image whose tag (a digest of its Dockerfile and the launcher) already exists is
skipped. With no registry in reach the base is made locally, once, with debootstrap; elsewhere set
``RUNNER_BASE=debian:bookworm-slim`` and Docker pulls it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

from rivendell.executor.images import BUILD_CONTEXT, dockerfile, image_names, image_tag

LOCAL_BASE = "rivendell-base:bookworm"


def image_exists(tag: str) -> bool:
    """Whether the engine already has this tag."""
    found = subprocess.run(["docker", "image", "inspect", tag], capture_output=True, check=False)
    return found.returncode == 0


def make_local_base() -> None:
    """A minimal Debian bookworm imported as ``LOCAL_BASE``, from Debian's mirror."""
    if shutil.which("debootstrap") is None:
        sys.exit("debootstrap is not installed (apt-get install debootstrap), or set RUNNER_BASE")
    with tempfile.TemporaryDirectory(prefix="rivendell-base-") as root:
        subprocess.run(["debootstrap", "--variant=minbase", "bookworm", root], check=True)
        tar = subprocess.Popen(["tar", "-C", root, "-c", "."], stdout=subprocess.PIPE)
        subprocess.run(["docker", "import", "-", LOCAL_BASE], stdin=tar.stdout, check=True)
        if tar.wait() != 0:
            sys.exit("tar of the debootstrap tree failed")


def ensure_local_base() -> None:
    """Make ``LOCAL_BASE`` unless the engine has it (the app image builds on it too)."""
    if image_exists(LOCAL_BASE):
        return
    started = time.monotonic()
    make_local_base()
    print(f"{LOCAL_BASE}: made in {time.monotonic() - started:.0f} s")


def build(name: str, base: str) -> None:
    """One ``docker build`` with the classic builder (no BuildKit images are needed)."""
    command = [
        "docker", "build", "--network", "host", "--build-arg", f"BASE={base}",
        "-t", image_tag(name), "-f", str(dockerfile(name)), str(BUILD_CONTEXT),
    ]  # fmt: skip
    subprocess.run(command, check=True, env={**os.environ, "DOCKER_BUILDKIT": "0"})


def remove_stale(name: str) -> None:
    """Untag older builds of this image (their layers shared with the current one stay)."""
    repository = image_tag(name).split(":")[0]
    listed = subprocess.run(
        ["docker", "image", "ls", repository, "--format", "{{.Repository}}:{{.Tag}}"],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    for tag in listed:
        if tag != image_tag(name):
            subprocess.run(["docker", "image", "rm", tag], capture_output=True, check=False)


def main() -> None:
    """Build what is missing, report what was skipped."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("images", nargs="*", help="only these images (default: all)")
    parser.add_argument("--base", default=os.environ.get("RUNNER_BASE", LOCAL_BASE))
    parser.add_argument(
        "--base-only", action="store_true", help=f"only make {LOCAL_BASE} if it is missing"
    )
    args = parser.parse_args()
    if args.base_only:
        ensure_local_base()
        return
    names = args.images or image_names()
    missing = [name for name in names if not image_exists(image_tag(name))]
    for name in sorted(set(names) - set(missing)):
        print(f"{image_tag(name)}: up to date")
    if missing and args.base == LOCAL_BASE:
        ensure_local_base()
    for name in missing:
        started = time.monotonic()
        build(name, args.base)
        print(f"{image_tag(name)}: built in {time.monotonic() - started:.0f} s")
    for name in names:
        remove_stale(name)


if __name__ == "__main__":
    main()
