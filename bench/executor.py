"""Sandbox benchmark: a trivial program through the executor, next to the other ways to run it.

``python -m bench.executor`` (``make bench-executor``) prints a Markdown report: for Python, Node
and C, the end-to-end time of hello world through ``DockerExecutor`` (warm pool), a bare
``docker run``, a ``docker exec`` into a running container of the same image, and the bare
toolchain on the host; then runs per second with 4 rooms running at once, and the memory the
idle warm pool holds. Takes about three minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import platform
import re
import shutil
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import docker

from rivendell.executor.base import RunRequest, Status
from rivendell.executor.docker import INSTANCE_LABEL, DockerExecutor, remove_orphans
from rivendell.executor.languages import languages

PROGRAMS = {
    "python": 'print("OK")\n',
    "javascript": 'console.log("OK");\n',
    "c": '#include <stdio.h>\nint main(void) { puts("OK"); return 0; }\n',
}
# The same work outside the executor: (shell command inside the image, command on the host).
SHELL = {
    "python": ("python3 -c 'print(\"OK\")'", ["/usr/bin/python3", "-I", "-c", 'print("OK")']),
    "javascript": ("node -e 'console.log(\"OK\")'", ["/usr/bin/node", "-e", 'console.log("OK")']),
    "c": (
        "cd /tmp && printf '#include <stdio.h>\\nint main(void){puts(\"OK\");return 0;}' > m.c"
        " && gcc -O2 -pipe -o m m.c && ./m",
        None,
    ),
}
HARDENING = [
    "--network", "none", "--read-only", "--cap-drop", "ALL",
    "--security-opt", "no-new-privileges", "--pids-limit", "64", "--memory", "256m",
    "--memory-swap", "256m", "--cpus", "1", "--user", "65534:65534",
    "--tmpfs", "/tmp:rw,exec,size=64m",
]  # fmt: skip


def percentiles(samples: list[float]) -> tuple[float, float]:
    """p50 and p99 in milliseconds."""
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p99 * 1000


def timed(function: Callable[[], object], runs: int) -> list[float]:
    """Wall times of ``runs`` calls."""
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        samples.append(time.perf_counter() - started)
    return samples


def check_ok(command: list[str]) -> None:
    """Run and insist the output is OK (so that no path is timed doing nothing)."""
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    if output.strip() != "OK":
        raise RuntimeError(f"{command[:3]}... printed {output!r}")


async def through_executor(executor: DockerExecutor, language: str, runs: int) -> list[float]:
    """End to end through the executor; the pool is refilled (untimed) between runs, as when
    runs are seconds apart in an interview."""
    samples = []
    for _ in range(runs):
        await executor.wait_until_warm()
        started = time.perf_counter()
        result = await executor.run(RunRequest(language=language, code=PROGRAMS[language]))
        samples.append(time.perf_counter() - started)
        if (result.status, result.stdout) != (Status.OK, "OK\n"):
            raise RuntimeError(f"{language}: {result}")
    return samples


async def rooms_at_once(executor: DockerExecutor, rooms: int, seconds: float) -> float:
    """Runs per second with ``rooms`` callers each running Python hello world back to back."""
    deadline = time.perf_counter() + seconds
    done = 0

    async def room() -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            result = await executor.run(RunRequest(language="python", code=PROGRAMS["python"]))
            if result.status is not Status.OK:
                raise RuntimeError(result)
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(room() for _ in range(rooms)))
    return done / (time.perf_counter() - started)


def pool_memory(client: docker.DockerClient, instance: str) -> tuple[int, int, int]:
    """(containers, bytes charged to their cgroups, RSS of their containerd shims)."""
    ids = [
        c["Id"] for c in client.api.containers(filters={"label": f"{INSTANCE_LABEL}={instance}"})
    ]
    cgroup_bytes = 0
    for container_id in ids:
        usage = Path(f"/sys/fs/cgroup/memory/docker/{container_id}/memory.usage_in_bytes")
        if usage.exists():
            cgroup_bytes += int(usage.read_text())
    shim_rss = 0
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = cmdline.read_bytes().split(b"\0")
            if b"containerd-shim" in argv[0] and any(i.encode() in argv for i in ids):
                status = (cmdline.parent / "status").read_text()
                shim_rss += int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) * 1024
        except (OSError, AttributeError):
            continue
    return len(ids), cgroup_bytes, shim_rss


async def through_the_executor(
    client: docker.DockerClient, runs: int, rooms_seconds: float
) -> tuple[list[tuple[str, str, tuple[float, float]]], float, tuple[int, int, int]]:
    """Latency per language, throughput with 4 rooms, and the idle pool's memory."""
    rows = []
    instance = f"bench-{uuid.uuid4().hex[:8]}"
    try:
        async with DockerExecutor(pool_size=2, instance=instance) as executor:
            await executor.wait_until_warm()
            await asyncio.sleep(2)  # let the pool's creation settle before measuring memory
            idle = pool_memory(client, instance)
            for language in PROGRAMS:
                samples = await through_executor(executor, language, runs)
                rows.append((language, "Rivendell executor (warm pool)", percentiles(samples)))
        async with DockerExecutor(pool_size=4, instance=instance) as executor:
            await executor.wait_until_warm()
            throughput = await rooms_at_once(executor, 4, rooms_seconds)
    finally:
        remove_orphans(instance=instance)
    return rows, throughput, idle


def outside_the_executor(runs: int) -> list[tuple[str, str, tuple[float, float]]]:
    """The same programs through docker run, docker exec and the host's own toolchain."""
    rows = []
    for language, (inside, host) in SHELL.items():
        image = languages()[language].image_tag
        run = ["docker", "run", "--rm", *HARDENING, image, "sh", "-c", inside]
        check_ok(run)
        samples = timed(lambda run=run: check_ok(run), runs)
        rows.append((language, "bare `docker run --rm` (same limits)", percentiles(samples)))
        name = f"bench-exec-{uuid.uuid4().hex[:8]}"
        detached = ["docker", "run", "-d", "--name", name, *HARDENING, image, "sleep", "3600"]
        subprocess.run(detached, check=True, capture_output=True)
        try:
            execute = ["docker", "exec", name, "sh", "-c", inside]
            check_ok(execute)
            samples = timed(lambda execute=execute: check_ok(execute), runs)
            rows.append((language, "`docker exec` into a running container", percentiles(samples)))
        finally:
            subprocess.run(["docker", "rm", "-f", name], check=True, capture_output=True)
        if host is None and shutil.which("gcc"):
            folder = Path(tempfile.mkdtemp())
            (folder / "m.c").write_text(PROGRAMS["c"])
            host_c = ["sh", "-c", f"gcc -O2 -pipe -o {folder}/m {folder}/m.c && {folder}/m"]
            samples = timed(lambda host_c=host_c: check_ok(host_c), runs)
            rows.append((language, "bare gcc + binary on the host", percentiles(samples)))
        elif host is not None and Path(host[0]).exists():
            samples = timed(lambda host=host: check_ok(host), runs)
            rows.append((language, f"bare `{host[0]}` on the host", percentiles(samples)))
    return rows


def main() -> None:
    """Measure everything and print the report."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--rooms-seconds", type=float, default=20.0)
    args = parser.parse_args()
    client = docker.from_env()
    rows, throughput, idle = asyncio.run(
        through_the_executor(client, args.runs, args.rooms_seconds)
    )
    rows += outside_the_executor(args.runs)
    rows.sort(key=lambda row: list(PROGRAMS).index(row[0]))
    info = client.info()
    print(f"# Executor benchmark, {datetime.date.today().isoformat()}\n")
    print(
        f"`python -m bench.executor --runs {args.runs}` on {platform.node()}: "
        f"{os.cpu_count()} CPUs, {platform.platform()}, Docker {client.version()['Version']} "
        f"(storage {info['Driver']}, cgroup v{info.get('CgroupVersion', '?')}).\n"
    )
    print("| language | path | p50 (ms) | p99 (ms) |\n| --- | --- | --- | --- |")
    for language, path, (p50, p99) in rows:
        print(f"| {language} | {path} | {p50:.0f} | {p99:.0f} |")
    containers, cgroup_bytes, shim_rss = idle
    print(
        f"\nRuns per second, 4 rooms running Python hello world back to back for "
        f"{args.rooms_seconds:g} s (pool of 4 per image): **{throughput:.1f}**\n"
    )
    print(
        f"Idle warm pool (2 per image, {containers} containers): {cgroup_bytes / 2**20:.0f} MiB "
        f"charged to their cgroups + {shim_rss / 2**20:.0f} MiB of containerd-shim RSS."
    )


if __name__ == "__main__":
    main()
