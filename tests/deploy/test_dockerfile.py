"""The Dockerfile and its build context: the base argument, the user, the one server process."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def final_stage() -> str:
    return DOCKERFILE[DOCKERFILE.rindex("\nFROM ") :]


def test_every_stage_builds_on_the_base_argument() -> None:
    assert "ARG BASE=debian:bookworm-slim" in DOCKERFILE
    froms = re.findall(r"^FROM (\S+)", DOCKERFILE, re.M)
    assert froms == ["${BASE}", "${BASE}"]


def test_it_uses_the_makefiles_uv() -> None:
    makefile = (ROOT / "Makefile").read_text()
    wanted = re.search(r"^UV_VERSION := (\S+)", makefile, re.M)
    assert wanted is not None
    assert f"ARG UV_VERSION={wanted.group(1)}" in DOCKERFILE
    assert "uv sync --locked --no-dev" in DOCKERFILE


def test_the_final_stage_runs_one_server_process_as_a_user_with_a_health_check() -> None:
    stage = final_stage()
    user = re.findall(r"^USER (\S+)", stage, re.M)
    assert user == ["rivendell"]
    assert "GRANIAN_WORKERS=1" in stage
    assert "HOST=0.0.0.0" in stage
    assert "PORT=8000" in stage
    check = r'^HEALTHCHECK .*\n\s+CMD \["python", "-m", "scripts.serve", "--check"\]'
    assert re.search(check, stage, re.M)
    assert 'CMD ["python", "-m", "scripts.serve"]' in stage
    # Nothing of the build toolchain reaches the image that runs.
    assert "npm" not in stage
    assert "tools/node_modules/.bin" not in stage


def test_the_build_context_leaves_out_local_and_built_files() -> None:
    ignored = set((ROOT / ".dockerignore").read_text().split())
    for path in (".git", ".venv", ".web", "data", "tools/node_modules", "**/node_modules", "tests"):
        assert path in ignored, path
