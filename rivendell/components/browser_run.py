"""Run the room's code in this browser: Python on Pyodide, JavaScript in a Web Worker.

``browser_runner(request=State.browser_request, on_result=State.on_browser_result)`` renders
nothing. The server asks this one browser to act by setting ``request`` to a JSON string;
every new ``id`` is acted on once per tab (a reload does not run it again), ``""`` means
nothing::

    {"id": "<nonce>", "action": "run", "language": "python" | "javascript",
     "room": "<interview id>", "stdin": "...", "timeout_ms": 10000,
     "output_limit_bytes": 65536}
    {"id": "<nonce>", "action": "stop"}

The code is read in the browser from the room's live Yjs document (the ``code`` text of the
editor's collaboration session for ``room``), so a run runs exactly what the editor shows.
``on_result`` fires once per run with a :class:`BrowserRunResult`; a stop ends the run in
progress (which then reports ``"stopped"``) and has no result of its own. A new run while
one is in progress stops that one first.

- **Python**: Pyodide from npm in a dedicated worker, started on the first Python run only.
  Its files are served by the app itself (``PyodidePlugin`` copies them into the production
  build), never from a CDN. ``stdin`` feeds ``input()`` and ``sys.stdin``; an exception is
  status ``"error"`` with its traceback on stderr and exit code 1; ``SystemExit(n)`` is exit
  code ``n``. The interpreter stays loaded between runs (each run gets a fresh
  ``__main__``, fresh streams, and loses the modules it imported).
- **JavaScript**: a fresh dedicated worker per run (no DOM), the code a classic script.
  ``console.log/info/debug`` go to stdout, ``console.error/warn/trace`` to stderr; stdin is
  the global string ``stdin``, also ``readStdin()`` (all of it), ``readLine()`` (the next
  line, ``null`` at the end), ``require("fs").readFileSync(0)`` and
  ``require("readline").createInterface()``; ``process.exit(n)`` and
  ``process.stdout.write`` work. Uncaught errors and unhandled rejections are status
  ``"error"``, exit code 1. The run ends when the script returns and no timer is pending.
- **Limits**, enforced from the page's thread by terminating the worker: ``timeout_ms`` of
  run time (Pyodide's first load does not count) gives ``"timeout"``, more than
  ``output_limit_bytes`` on either stream gives ``"output_limit"`` (output cut with the
  server's ``[output truncated: …]`` marker), a stop gives ``"stopped"``. The next Python run
  then loads a fresh interpreter.

Neither worker is a security boundary for the browser that runs it: it runs the room's own
code with that page's origin, minus ``fetch``, sockets and nested workers.
"""

from __future__ import annotations

import functools
import gzip
import json
import shutil
from pathlib import Path
from typing import Any, Literal, Self, TypedDict

import reflex as rx
from reflex.config import get_config
from reflex.event import EventHandler, passthrough_event_spec
from reflex.plugins import Plugin
from reflex.vars.base import Var

from rivendell.components.editor import _publish_glue as _publish_editor_glue
from rivendell.components.editor import publish_side_by_side

__all__ = [
    "PYODIDE_URL_PATH",
    "PYODIDE_VERSION",
    "BrowserRunResult",
    "BrowserRunner",
    "PyodidePlugin",
    "browser_runner",
]

# Pyodide 314 is the first release numbered after its CPython (3.14); files as in its npm package.
PYODIDE_VERSION = "314.0.7"
# Where the production build serves Pyodide: versioned, so a new release never mixes files.
PYODIDE_URL_PATH = f"/_pyodide/{PYODIDE_VERSION}/"
# What loadPyodide fetches: the loader, the Emscripten module, the interpreter, the
# standard library and the package lock (read at start even when no package loads).
PYODIDE_FILES = (
    "pyodide.mjs",
    "pyodide.asm.mjs",
    "pyodide.asm.wasm",
    "python_stdlib.zip",
    "pyodide-lock.json",
)
# Reflex's own build compresses .mjs and .json; these are left to us. The stdlib zip is
# already compressed (gzip saves 2 %), the interpreter shrinks from 9.6 MB to 3.6 MB.
_GZIP_ALSO = ("pyodide.asm.wasm",)

_GLUE_DIR = f"$/public/external/{__name__.replace('.', '/')}"
_GLUE_IMPORT = f"{_GLUE_DIR}/browser_run.jsx"
# browser_run.jsx imports the engine lazily and the engine imports both workers with
# Vite's `?worker`: all four are published side by side.
_GLUE_FILES = (
    "browser_run.jsx",
    "browser_run_engine.js",
    "browser_run_python_worker.js",
    "browser_run_js_worker.js",
)


@functools.cache
def _publish_glue() -> None:
    # At first use, not import: rxconfig.py imports this module for PyodidePlugin while the
    # config that rx.asset reads is still loading.
    publish_side_by_side(_GLUE_DIR, _GLUE_FILES)
    # The engine reads the room's code through collab.jsx, which the editor publishes.
    _publish_editor_glue()


class BrowserRunResult(TypedDict):
    """What one browser run did; the fields mirror the server's ``RunResult``."""

    id: str
    status: Literal["ok", "error", "timeout", "stopped", "output_limit"]
    stdout: str
    stderr: str
    exit_code: int | None
    duration_ms: int
    language: str
    runtime: str
    stdout_truncated: bool
    stderr_truncated: bool
    message: str
    """Why the run ended, for people ("Stopped.", "The program ran longer than 10 s.")."""
    load_ms: int
    """Time spent loading Pyodide for this run (0 when it was already loaded, and for JS)."""


class BrowserRunner(rx.NoSSRComponent):
    """Invisible: runs the room's code in this browser when ``request`` asks it to."""

    library = _GLUE_IMPORT
    tag = "BrowserRunner"
    # Never bundled: PyodidePlugin copies the package's files into the build, and the
    # Python worker imports them by URL on the first Python run.
    lib_dependencies: list[str] = [f"pyodide@{PYODIDE_VERSION}"]

    request: Var[str]
    """A JSON request (see the module docstring); ``""`` for none."""

    pyodide_url: Var[str]
    """Where the app serves Pyodide's files; defaults to the build's (``PYODIDE_URL_PATH``)."""

    # Reflex's trigger annotation; mypy cannot type the spec inside the subscript.
    on_result: EventHandler[passthrough_event_spec(BrowserRunResult)]  # type: ignore[type-arg,valid-type]
    """One :class:`BrowserRunResult` per run request."""

    @classmethod
    def create(cls, *children: Any, **props: Any) -> Self:
        """Create the runner.

        Args:
            *children: Ignored; the component renders nothing.
            **props: ``request``, ``on_result`` and, rarely, ``pyodide_url``.

        Returns:
            The runner component.
        """
        _publish_glue()
        prefix = get_config().frontend_path.strip("/")
        props.setdefault(
            "pyodide_url", f"/{prefix}{PYODIDE_URL_PATH}" if prefix else PYODIDE_URL_PATH
        )
        return super().create(**props)


def browser_runner(request: Var[str], on_result: EventHandler) -> rx.Component:
    """The room's in-browser runner; see the module docstring for the request and result."""
    return BrowserRunner.create(request=request, on_result=on_result)


class PyodidePlugin(Plugin):
    """Serves Pyodide from the app: register in ``rx.Config(plugins=[...])``.

    After each production build it copies the npm package's runtime files into the built
    frontend under ``PYODIDE_URL_PATH`` (with a gzip copy of the interpreter, which Reflex's
    static server sends to browsers that accept it), so they come from the app's own origin
    in ``reflex run --env prod`` and ``reflex export`` alike. Nothing is committed: the files
    come from ``node_modules`` at build time. Development mode (``reflex run`` without
    ``--env prod``) does not serve them; browser runs of Python need a production build.
    """

    def get_frontend_dependencies(self, **context: Any) -> list[str]:
        """Install the pinned Pyodide package even before a page uses the runner.

        Args:
            context: The plugin context from Reflex.

        Returns:
            The npm package, pinned.
        """
        return [f"pyodide@{PYODIDE_VERSION}"]

    def post_build(self, **context: Any) -> None:
        """Copy Pyodide into the built frontend.

        Args:
            context: The post-build context from Reflex (``static_dir``).
        """
        static_dir = Path(context["static_dir"])
        copy_pyodide(
            static_dir.parents[1] / "node_modules" / "pyodide",
            static_dir / PYODIDE_URL_PATH.strip("/"),
        )


def copy_pyodide(package: Path, target: Path) -> None:
    """Copy Pyodide's runtime files from its npm ``package`` folder to ``target``.

    Raises:
        RuntimeError: The package is missing or not the pinned version.
    """
    manifest = package / "package.json"
    if not manifest.is_file():
        msg = f"PyodidePlugin: {package} is missing (is pyodide@{PYODIDE_VERSION} installed?)"
        raise RuntimeError(msg)
    version = json.loads(manifest.read_text())["version"]
    if version != PYODIDE_VERSION:
        msg = f"PyodidePlugin: {package} is Pyodide {version}, expected {PYODIDE_VERSION}"
        raise RuntimeError(msg)
    target.mkdir(parents=True, exist_ok=True)
    for name in PYODIDE_FILES:
        shutil.copyfile(package / name, target / name)
    for name in _GZIP_ALSO:
        with (target / name).open("rb") as raw, gzip.open(target / f"{name}.gz", "wb", 6) as out:
            shutil.copyfileobj(raw, out)
