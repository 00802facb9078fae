"""The playback view's replay logic (``rivendell/components/playback_engine.mjs``) under Node.

The cases live in ``tests/node/playback.test.mjs`` (``node:test``, real Yjs from
``tests/node/node_modules``); this runs them as one pytest test so ``make test`` covers them.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

NODE_DIR = Path(__file__).resolve().parents[1] / "node"
NODE_TEST = NODE_DIR / "playback.test.mjs"
NODE_TIMEOUT = 60


def test_the_replay_module_under_node() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.fail("no `node` on PATH: the replay module's tests run on Node.js (20 or newer)")
    if not (NODE_DIR / "node_modules" / ".package-lock.json").is_file():
        pytest.fail(f"{NODE_DIR / 'node_modules'} is missing: run `npm ci --prefix tests/node`")
    result = subprocess.run(
        [node, "--test", "--test-reporter=spec", str(NODE_TEST)],
        cwd=NODE_DIR,
        capture_output=True,
        text=True,
        timeout=NODE_TIMEOUT,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"node --test failed (exit {result.returncode}):\n{output}"
