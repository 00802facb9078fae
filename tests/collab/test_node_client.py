"""The collaboration endpoint against the reference Yjs client: yjs + y-websocket in Node.

The Node side is tests/node/collab.test.mjs (``node:test``); this test creates its interview on
the running app and runs it. Its packages are locked in tests/node/package-lock.json.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest
from sqlmodel import Session

from rivendell import crud
from rivendell.models import InterviewCreate, ParticipantCreate
from tests.e2e.server import Server

pytestmark = pytest.mark.browser  # needs the built app, like the browser tests

NODE_DIR = Path(__file__).resolve().parents[1] / "node"
NODE_TEST = NODE_DIR / "collab.test.mjs"
NODE_TIMEOUT = 120
PARTICIPANTS = 5


@pytest.fixture(scope="session")
def node_command() -> list[str]:
    """``node --test`` on the test file; checked before the (slow) server fixture builds the app."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("no `node` on PATH: the reference Yjs client runs on Node.js (20 or newer)")
    installed = NODE_DIR / "node_modules" / ".package-lock.json"
    if not installed.is_file():
        pytest.fail(f"{NODE_DIR / 'node_modules'} is missing: run `npm ci --prefix tests/node`")
    # --test-force-exit: a client that fails to close its socket cannot hang the run.
    return [node, "--test", "--test-reporter=spec", "--test-force-exit", str(NODE_TEST)]


def run_node(command: list[str], env: dict[str, str]) -> tuple[int, str]:
    """Run ``command`` in its own process group; kill the whole group if it overruns."""
    process = subprocess.Popen(
        command,
        cwd=NODE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=NODE_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        pytest.fail(f"node did not finish within {NODE_TIMEOUT} s:\n{output}")
    return process.returncode, output


def test_the_reference_yjs_client_in_node(
    node_command: list[str], server: Server, server_db: Session
) -> None:
    # Go's starter code is indented with tabs: the seed itself exercises more than ASCII spaces.
    interview, _, creator = crud.create_interview(
        db=server_db, data=InterviewCreate(title="Node", language="go", creator_name="Alex")
    )
    guests = [
        crud.join_interview(
            db=server_db, interview=interview, data=ParticipantCreate(name=f"G{i}")
        )[1]
        for i in range(PARTICIPANTS - 1)
    ]
    env = {
        **os.environ,
        "SERVER_URL": server.url,
        "INTERVIEW_ID": interview.id,
        "TOKENS": json.dumps([creator, *guests]),
        "SEED": interview.code,
        "NO_COLOR": "1",
    }
    code, output = run_node(node_command, env)
    assert code == 0, f"node --test failed (exit {code}):\n{output}"
    print(output)  # node's report with its timings: shown by pytest -rP (or -s)
