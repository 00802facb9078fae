"""Runs in the browser: Python on Pyodide and JavaScript in a worker, Stop and the timeout.

Drives the room's controls by their accessible names: "Run in browser", "Stop", the "Program
input" box and the "Output" region (which shows stdout, stderr and the run's status word).
The app is its own production build (``own_build``), so the test sees exactly what
``make run`` serves, Pyodide's files included.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Page, Request, expect

from rivendell.components.browser_run import PYODIDE_FILES, PYODIDE_URL_PATH
from tests.e2e.server import Server, start_server, stop_server
from tests.e2e.test_room import create_interview, join

pytestmark = pytest.mark.browser

EDITOR = "Object.values(window.__rivendellEditors)[0].editor"
# The first Python run downloads and starts Pyodide: allow for a slow, shared machine.
FIRST_PYTHON_RUN_MS = 90_000
# The room's browser-run timeout (the server's wall limit, 10 s) plus slack.
TIMEOUT_SEEN_MS = 30_000


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("browser-run")
    running = start_server(tmp, {"REFLEX_DB_URL": f"sqlite:///{tmp / 'rivendell.db'}"})
    try:
        yield running
    finally:
        stop_server(running.process)


def set_code(page: Page, code: str) -> None:
    expect(page.get_by_role("status", name="Connection")).to_have_text("Synced", timeout=10_000)
    page.evaluate(f"code => {EDITOR}.setValue(code)", code)


def run(page: Page, stdin: str = "") -> None:
    page.get_by_role("textbox", name="Program input").fill(stdin)
    page.get_by_role("button", name="Run in browser").click()


def output(page: Page):
    return page.get_by_role("region", name="Output")


def choose_language(page: Page, name: str) -> None:
    page.get_by_role("combobox", name="Language").click()
    page.get_by_role("option", name=name).click()
    expect(page.get_by_role("combobox", name="Language")).to_have_text(name)


def test_python_runs_in_the_browser_from_the_app_alone(
    server: Server, page_of: Callable[..., Page]
) -> None:
    page = page_of()
    requests: list[Request] = []
    page.context.on("request", lambda request: requests.append(request))
    create_interview(page, server, title="Browser Python")
    set_code(page, 'name = input()\nprint("hello", name)\nprint(input().upper())\n')
    page.wait_for_timeout(500)
    assert not [r.url for r in requests if "pyodide" in r.url.lower()], "Pyodide before a run"

    run(page, "Ada\nlovelace\n")
    expect(output(page)).to_contain_text("hello Ada", timeout=FIRST_PYTHON_RUN_MS)
    expect(output(page)).to_contain_text("LOVELACE")

    # A traceback on stderr, exit code 1; SystemExit(3) is exit code 3.
    set_code(page, "def f():\n    return 1 / 0\n\nf()\n")
    run(page)
    expect(output(page)).to_contain_text("ZeroDivisionError: division by zero")
    expect(output(page)).to_contain_text('File "main.py", line 2, in f')

    hosts = {urlsplit(r.url).hostname for r in requests if r.url.startswith(("http", "ws"))}
    assert hosts == {"127.0.0.1"}, hosts
    pyodide = [urlsplit(r.url).path for r in requests if "/_pyodide/" in r.url]
    assert any(path.endswith("/pyodide.asm.wasm") for path in pyodide), pyodide


def test_javascript_runs_in_a_worker_with_stdin(
    server: Server, page_of: Callable[..., Page]
) -> None:
    page = page_of()
    requests: list[Request] = []
    page.context.on("request", lambda request: requests.append(request))
    create_interview(page, server, title="Browser JS")
    choose_language(page, "JavaScript (Node)")
    set_code(
        page,
        "const [a, b] = readStdin().trim().split(/\\s+/).map(Number);\n"
        'console.log("sum", a + b, typeof document);\n'
        'console.error("to stderr");\n'
        'const fs = require("fs");\n'
        'setTimeout(() => console.log("later", fs.readFileSync(0, "utf8").length), 50);\n',
    )
    guest = page_of()
    join(guest, page.url, "Sam")
    run(page, "2 40\n")
    expect(output(page)).to_contain_text("sum 42 undefined")
    expect(output(page)).to_contain_text("to stderr")
    expect(output(page)).to_contain_text("later 5")
    # The run is the room's: the other participant sees the same output and who ran it where.
    expect(output(guest).get_by_label("Standard output")).to_contain_text("later 5")
    status = output(guest).get_by_role("status", name="Run status")
    expect(status).to_contain_text("in the browser")
    expect(status).to_contain_text("Alex")

    set_code(page, "Promise.reject(new Error('nope'));\n")
    run(page)
    expect(output(page)).to_contain_text("Error: nope")
    expect(output(page).get_by_role("status", name="Run status")).to_contain_text("Error")
    # JavaScript never needs Pyodide.
    assert not [r.url for r in requests if "pyodide" in r.url.lower()]


def test_stop_ends_a_runaway_python_program_and_the_next_run_works(
    server: Server, page_of: Callable[..., Page]
) -> None:
    page = page_of()
    create_interview(page, server, title="Browser Stop")
    # Load Pyodide first, so that Stop surely lands in the loop (loading can be stopped too).
    set_code(page, 'print("warm")\n')
    run(page)
    expect(output(page)).to_contain_text("warm", timeout=FIRST_PYTHON_RUN_MS)
    set_code(page, 'print("spinning", flush=True)\nwhile True:\n    pass\n')
    run(page)
    page.wait_for_timeout(1500)
    page.get_by_role("button", name="Stop").click()
    # Well before the 10 s timeout; what it printed before is kept.
    expect(output(page)).to_contain_text("Stopped", timeout=5_000)
    expect(output(page)).to_contain_text("spinning")

    set_code(page, 'import sys\nprint("after stop", sys.version_info[0])\n')
    run(page)
    expect(output(page)).to_contain_text("after stop 3", timeout=FIRST_PYTHON_RUN_MS)


def test_a_javascript_infinite_loop_times_out(server: Server, page_of: Callable[..., Page]) -> None:
    page = page_of()
    create_interview(page, server, title="Browser timeout")
    choose_language(page, "JavaScript (Node)")
    set_code(page, 'console.log("before the loop");\nfor (;;) {}\n')
    run(page)
    expect(output(page)).to_contain_text("Time limit", timeout=TIMEOUT_SEEN_MS)
    expect(output(page)).to_contain_text("before the loop")

    set_code(page, 'console.log(JSON.stringify({ ok: [1, "two"] }), [1, "two"], { a: 1 });\n')
    run(page)
    expect(output(page)).to_contain_text(json.dumps({"ok": [1, "two"]}, separators=(",", ":")))
    expect(output(page)).to_contain_text("[ 1, 'two' ] { a: 1 }")


def test_pyodide_files_are_served_by_the_app(server: Server) -> None:
    for name in PYODIDE_FILES:
        response = httpx.head(f"{server.url}{PYODIDE_URL_PATH}{name}", timeout=10)
        assert response.status_code == 200, name
    wasm = httpx.head(
        f"{server.url}{PYODIDE_URL_PATH}pyodide.asm.wasm",
        headers={"Accept-Encoding": "gzip"},
        timeout=10,
    )
    assert wasm.headers["content-type"] == "application/wasm"
    assert wasm.headers.get("content-encoding") == "gzip"
