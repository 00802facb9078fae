"""Helpers for tests against the real Docker engine: reach it, run, and check nothing is left."""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path

import docker
import pytest

from rivendell.executor.base import RunRequest, RunResult, Status
from rivendell.executor.docker import INSTANCE_LABEL, LABEL, DockerExecutor

SANDBOX_UID = 65534


def docker_client_or_skip() -> docker.DockerClient:
    """A client for the engine; in CI an unreachable engine fails the test instead of skipping."""
    try:
        client = docker.from_env(timeout=10)
        client.ping()
    except Exception as error:
        message = f"the Docker engine is not reachable: {error}"
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(message + " (CI must run the docker tests: start it with .ci/run)")
        pytest.skip(message)
    return client


def labelled_containers(client: docker.DockerClient, instance: str) -> list[str]:
    """Ids of every container (any state) this test instance's executor created."""
    found = client.api.containers(
        all=True, filters={"label": [LABEL, f"{INSTANCE_LABEL}={instance}"]}, quiet=True
    )
    return [c["Id"] for c in found]


def sandbox_processes(container_ids: set[str] | None = None) -> list[int]:
    """Host pids running as the sandbox user inside a Docker cgroup (of these containers)."""
    pids = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
            cgroups = (status.parent / "cgroup").read_text()
        except OSError:
            continue
        uid = re.search(r"^Uid:\s+(\d+)", text, re.M)
        owner = re.search(r"docker[-/]([0-9a-f]{64})", cgroups)
        wanted = owner and (container_ids is None or owner.group(1) in container_ids)
        if uid and int(uid.group(1)) == SANDBOX_UID and wanted:
            pids.append(int(status.parent.name))
    return pids


async def assert_nothing_left(
    client: docker.DockerClient, executor: DockerExecutor, result: RunResult
) -> None:
    """No sandbox process outlives the run, and its container is removed (in the background,
    right after the result: a few seconds at most)."""
    assert sandbox_processes({result.sandbox_id}) == []
    for _ in range(100):
        remaining = labelled_containers(client, executor.instance)
        if result.sandbox_id not in remaining:
            break
        await asyncio.sleep(0.1)
    assert result.sandbox_id not in remaining
    assert sandbox_processes({result.sandbox_id}) == []


async def run_contained(
    client: docker.DockerClient, executor: DockerExecutor, language: str, code: str, stdin=""
) -> RunResult:
    """Run hostile code, check it left nothing behind and that a normal run still works."""
    result = await executor.run(RunRequest(language=language, code=code, stdin=stdin))
    assert result.status in set(Status)
    await assert_nothing_left(client, executor, result)
    follow_up = await executor.run(RunRequest(language="python", code='print("OK")'))
    assert (follow_up.status, follow_up.stdout) == (Status.OK, "OK\n"), follow_up
    await assert_nothing_left(client, executor, follow_up)
    return result
