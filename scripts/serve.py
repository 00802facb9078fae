"""Serve an already built Rivendell on one port: ``python -m scripts.serve`` (the image's command).

``reflex run --env prod --single-port`` compiles the app and rebuilds the frontend at every
start (bun, a writable ``.web``, 10-16 s of CPU here), and its compile checks the database
schema, so it exits when the database is not up yet instead of waiting for it (the app's
lifespan does: ``database_ready``); ``--backend-only`` serves no frontend at all.

The image builds the frontend once (``reflex export --frontend-only --no-zip``); this starts
Reflex's own production server on that build, the same call ``reflex run --env prod
--single-port`` makes once its build is done, so the pages, ``/_event``, the API and the
collaboration sockets share the one port. Granian starts ``GRANIAN_WORKERS`` worker processes
(the image sets 1: one server process per container, scaled by running more containers).

``HOST`` and ``PORT`` (default ``127.0.0.1:8000``, the image sets ``0.0.0.0``) say where to
listen. ``python -m scripts.serve --check`` is the image's health check: ``GET /health`` there.
"""

from __future__ import annotations

import argparse
import os
import sys
import urllib.request

# A health probe must answer well within Docker's health-check timeout.
CHECK_TIMEOUT_SECONDS = 3


def check(port: int) -> int:
    """0 when ``GET /health`` on this port answers 200, else 1 (Docker's health-check codes)."""
    url = f"http://127.0.0.1:{port}/health"
    try:
        with urllib.request.urlopen(url, timeout=CHECK_TIMEOUT_SECONDS) as response:
            return 0 if response.status == 200 else 1
    except OSError as error:
        print(f"{url}: {error}", file=sys.stderr)
        return 1


def serve(host: str, port: int) -> None:
    """Run the production backend with the built frontend mounted; returns when it stops."""
    # Imported here: the health check runs every few seconds and needs none of this.
    from reflex.constants import Dirs, Env
    from reflex.istate.manager import reset_disk_state_manager
    from reflex.utils import exec as reflex_exec
    from reflex.utils import prerequisites
    from reflex_base.config import get_config
    from reflex_base.environment import environment

    static = prerequisites.get_web_dir() / Dirs.STATIC
    if not (static / "index.html").is_file():
        sys.exit(f"no frontend build in {static}: run `reflex export --frontend-only --no-zip`")
    environment.REFLEX_ENV_MODE.set(Env.PROD)
    # No compile and no asset links at start: the build already holds both.
    environment.REFLEX_SKIP_COMPILE.set(True)
    environment.REFLEX_BACKEND_ONLY.set(True)
    reset_disk_state_manager()
    loglevel = get_config().loglevel.subprocess_level()
    reflex_exec.run_backend_prod(host, port, loglevel, mount_frontend_compiled_app=True)


def main() -> None:
    """Serve, or with ``--check`` probe the server that serves on ``PORT``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--check", action="store_true", help="probe GET /health and exit")
    args = parser.parse_args()
    if args.check:
        sys.exit(check(args.port))
    serve(args.host, args.port)


if __name__ == "__main__":
    main()
