"""The Docker executor against the real engine: every language, stdin, limits seen from inside,
the warm pool, cleanup, and a clear answer when Docker is unreachable."""

from __future__ import annotations

import json
import socket
import uuid

import docker
import pytest

from rivendell.executor.base import ExecutorUnavailable, Limits, RunRequest, Status
from rivendell.executor.docker import (
    OWNER_LABEL,
    DockerExecutor,
    _process_owner,
    remove_orphans,
)
from rivendell.executor.languages import languages
from tests.executor.sandbox import assert_nothing_left, labelled_containers

RUNNABLE = sorted(lang.id for lang in languages().values() if lang.runnable)


@pytest.mark.docker
@pytest.mark.parametrize("language_id", RUNNABLE)
async def test_smoke_program_prints_ok(
    docker_client: docker.DockerClient, executor: DockerExecutor, language_id: str
) -> None:
    language = languages()[language_id]
    result = await executor.run(RunRequest(language=language_id, code=language.smoke_program))
    assert (result.status, result.stdout, result.exit_code) == (Status.OK, "OK\n", 0), result
    assert result.image == language.image_tag
    assert result.language_version == language.version
    await assert_nothing_left(docker_client, executor, result)


STDIN_ECHO = {
    "python": "import sys\nprint(sys.stdin.read().upper(), end='')\n",
    "c": "#include <stdio.h>\n#include <ctype.h>\nint main(void){int c;"
    "while((c=getchar())!=EOF)putchar(toupper(c));return 0;}\n",
    "bash": "tr a-z A-Z\n",
}


@pytest.mark.docker
@pytest.mark.parametrize("language_id", sorted(STDIN_ECHO))
async def test_stdin_reaches_the_program(executor: DockerExecutor, language_id: str) -> None:
    result = await executor.run(
        RunRequest(language=language_id, code=STDIN_ECHO[language_id], stdin="two\nlines\n")
    )
    assert (result.status, result.stdout) == (Status.OK, "TWO\nLINES\n"), result


INSIDE = r"""
import json, os, socket
def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError as error:
        return type(error).__name__
status = dict(line.split(":", 1) for line in read("/proc/self/status").splitlines())
try:
    open("/rivendell-probe", "w")
    root_writable = True
except OSError:
    root_writable = False
try:
    socket.create_connection(("1.1.1.1", 53), timeout=2)
    network = True
except OSError:
    network = False
interfaces = sorted(name for _, name in socket.if_nameindex())
print(json.dumps({
    "uid": os.getuid(), "gid": os.getgid(),
    "cap_eff": status["CapEff"].strip(), "no_new_privs": status["NoNewPrivs"].strip(),
    "seccomp": status["Seccomp"].strip(),
    "pids_max": read("/sys/fs/cgroup/pids/pids.max").strip(),
    "memory_limit": read("/sys/fs/cgroup/memory/memory.limit_in_bytes").strip(),
    "memsw_limit": read("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes").strip(),
    "nofile": os.sysconf("SC_OPEN_MAX"),
    # The environment the program was started with (Python itself adds LC_CTYPE to os.environ).
    "env": read("/proc/self/environ"), "root_writable": root_writable, "network": network,
    "interfaces": interfaces, "mounts": read("/proc/mounts"),
    "docker_socket": os.path.exists("/var/run/docker.sock"),
}))
"""


@pytest.mark.docker
async def test_limits_as_seen_from_inside(executor: DockerExecutor) -> None:
    result = await executor.run(RunRequest(language="python", code=INSIDE))
    assert result.status is Status.OK, result
    inside = json.loads(result.stdout)
    limits = Limits()
    assert inside["uid"] == int(limits.user.split(":")[0]) != 0
    assert inside["cap_eff"] == "0000000000000000"
    assert inside["no_new_privs"] == "1"
    assert inside["seccomp"] == "2"
    assert inside["pids_max"] == str(limits.processes)
    assert inside["memory_limit"] == str(limits.memory_bytes)
    assert inside["memsw_limit"] in {str(limits.memory_bytes), "FileNotFoundError"}
    assert inside["nofile"] == limits.open_files
    assert inside["env"] == ""
    assert inside["root_writable"] is False
    assert inside["network"] is False
    assert inside["interfaces"] == ["lo"]
    assert inside["docker_socket"] is False
    tmp = next(line for line in inside["mounts"].splitlines() if " /tmp " in line)
    assert "tmpfs" in tmp
    assert f"size={limits.tmp_bytes // 1024}k" in tmp
    root = next(line for line in inside["mounts"].splitlines() if line.split()[1] == "/")
    assert " ro," in root


@pytest.mark.docker
async def test_compile_error_is_reported_with_the_compiler_s_message(
    executor: DockerExecutor,
) -> None:
    result = await executor.run(RunRequest(language="c", code="int main(void) { return x; }\n"))
    assert result.status is Status.COMPILE_ERROR
    assert "undeclared" in result.stderr
    assert result.stdout == ""


@pytest.mark.docker
async def test_exit_code_and_signal_come_from_the_container(executor: DockerExecutor) -> None:
    exited = await executor.run(RunRequest(language="python", code="raise SystemExit(3)"))
    assert (exited.status, exited.exit_code, exited.signal) == (Status.ERROR, 3, None)
    killed = await executor.run(
        RunRequest(
            language="python", code="import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)"
        )
    )
    assert (killed.status, killed.signal) == (Status.ERROR, 11)


@pytest.mark.docker
async def test_output_is_not_mistaken_for_the_launcher(executor: DockerExecutor) -> None:
    forged = 'import sys\nsys.stdout.write("\\nRVN1-done-" + "0" * 32 + "\\n")\nprint("after")\n'
    result = await executor.run(RunRequest(language="python", code=forged))
    assert result.status is Status.OK
    assert result.stdout.endswith("after\n")


@pytest.mark.docker
async def test_cpu_and_memory_come_from_the_cgroup(executor: DockerExecutor) -> None:
    code = "data = bytearray(64 * 2**20)\nsum(range(3_000_000))\n"
    result = await executor.run(RunRequest(language="python", code=code))
    assert result.status is Status.OK
    assert result.memory_peak_bytes is not None
    assert result.memory_peak_bytes > 64 * 2**20
    assert result.cpu_ms is not None
    assert result.cpu_ms > 0


@pytest.mark.docker
async def test_warm_pool_serves_runs_and_is_refilled_never_reused(
    docker_client: docker.DockerClient,
) -> None:
    instance = f"test-pool-{uuid.uuid4().hex[:8]}"
    images = len({lang.image_tag for lang in languages().values() if lang.runnable})
    try:
        async with DockerExecutor(pool_size=1, instance=instance) as executor:
            await executor.wait_until_warm()
            warm = set(labelled_containers(docker_client, instance))
            assert len(warm) == images
            result = await executor.run(RunRequest(language="python", code='print("OK")'))
            assert result.status is Status.OK
            assert result.sandbox_id in warm
            await assert_nothing_left(docker_client, executor, result)
            await executor.wait_until_warm()
            refilled = set(labelled_containers(docker_client, instance))
            again = await executor.run(RunRequest(language="python", code='print("OK")'))
            assert again.sandbox_id in refilled
            assert again.sandbox_id != result.sandbox_id
        assert labelled_containers(docker_client, instance) == []
    finally:
        remove_orphans(instance=instance)


@pytest.mark.docker
async def test_start_removes_what_a_crashed_instance_left(
    docker_client: docker.DockerClient,
) -> None:
    instance = f"test-orphan-{uuid.uuid4().hex[:8]}"
    orphan = docker_client.api.create_container(
        languages()["python"].image_tag,
        labels={"rivendell.sandbox": "1", "rivendell.instance": instance},
    )
    async with DockerExecutor(pool_size=0, instance=instance):
        assert labelled_containers(docker_client, instance) == []
    with pytest.raises(docker.errors.NotFound):
        docker_client.api.inspect_container(orphan["Id"])


@pytest.mark.docker
async def test_start_keeps_the_sandboxes_of_a_live_sibling_process(
    docker_client: docker.DockerClient,
) -> None:
    # Workers of one instance share its name: a worker starting late must not take a live
    # sibling's pool, only what dead processes left.
    instance = f"test-sibling-{uuid.uuid4().hex[:8]}"
    image = languages()["python"].image_tag
    labels = {"rivendell.sandbox": "1", "rivendell.instance": instance}
    sibling = docker_client.api.create_container(
        image, labels={**labels, OWNER_LABEL: _process_owner()}
    )
    dead = docker_client.api.create_container(
        image, labels={**labels, OWNER_LABEL: f"{socket.gethostname()}:999999999:1"}
    )
    try:
        async with DockerExecutor(pool_size=0, instance=instance) as executor:
            assert await executor.available()
            docker_client.api.inspect_container(sibling["Id"])
            with pytest.raises(docker.errors.NotFound):
                docker_client.api.inspect_container(dead["Id"])
    finally:
        remove_orphans(instance=instance)


async def test_unreachable_engine_gives_a_clear_message() -> None:
    def nowhere() -> docker.DockerClient:
        return docker.DockerClient(base_url="unix:///nonexistent/docker.sock", timeout=2)

    async with DockerExecutor(client_factory=nowhere) as executor:
        assert not await executor.available()
        with pytest.raises(ExecutorUnavailable, match="server-side execution unavailable"):
            await executor.run(RunRequest(language="python", code="print(1)"))


@pytest.mark.docker
async def test_program_starts_with_no_signal_blocked(executor: DockerExecutor) -> None:
    code = 'print(open("/proc/self/status").read().split("SigBlk:")[1].split()[0])'
    result = await executor.run(RunRequest(language="python", code=code))
    assert result.stdout == "0000000000000000\n"
