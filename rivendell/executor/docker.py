"""The real executor: single-use Docker containers, pre-started in a pool, one per run.

Each pooled container runs ``launcher.py`` as PID 1, waiting on its attached stdin. A run takes
one, writes the program into that stream, reads stdout and stderr back as separate capped
streams, then reads the outcome from Docker itself: the exit status from ``docker wait``, memory
and CPU from the container's cgroup (``docker stats``), OOM kills from ``docker inspect``. The
server never opens a path inside a sandbox. Whatever happens, the container is removed in a
``finally``, and a container is never given a second run.

The Docker SDK blocks, so its calls run on a small thread pool; the attached stream itself is
read on the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import socket
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

import docker
import docker.errors
from docker.types import Ulimit

from rivendell.executor.base import (
    ExecutorUnavailable,
    Limits,
    RunRequest,
    RunResult,
    Status,
    capped_text,
)
from rivendell.executor.languages import Language, languages, runnable_language

__all__ = ["LABEL", "DockerExecutor", "remove_finished", "remove_orphans"]

log = logging.getLogger(__name__)

LABEL = "rivendell.sandbox"
INSTANCE_LABEL = "rivendell.instance"
# The process that started a sandbox: "host:pid:start time". An instance runs several worker
# processes (Granian's, with Redis) under one instance name; each removes only the sandboxes
# of processes that are gone, never a live sibling's pool.
OWNER_LABEL = "rivendell.owner"
MAGIC = b"RVN1"
# The launcher's own start, and the wait for Docker to answer, on top of the limits.
GRACE_SECONDS = 5.0
# Runs at once per executor; more wait their turn (a 2-CPU host is saturated well before).
MAX_CONCURRENT_RUNS = 32
# How long a released or killed container may take to exit, on a loaded engine.
EXIT_WAIT_SECONDS = 20.0
# Compilers open more files than a program may; the launcher lowers this for the run itself.
COMPILE_OPEN_FILES = 1024
SIGKILL = 9
SIGXCPU = 24
# The launcher's usage frame is a few dozen bytes; anything past this is not it.
_MAX_TRAILER = 4096
# How long the launcher may take to send that frame and exit once released.
TRAILER_WAIT_SECONDS = 2.0
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class _ContainerSpec:
    """What a container is created with; languages sharing one share a pool."""

    image: str
    memory_bytes: int
    processes: int
    cpus: float
    tmp_bytes: int
    tmp_inodes: int
    shm_bytes: int

    @classmethod
    def of(cls, language: Language) -> _ContainerSpec:
        limits = language.limits
        return cls(
            image=language.image_tag,
            memory_bytes=limits.memory_bytes,
            processes=limits.processes,
            cpus=limits.cpus,
            tmp_bytes=limits.tmp_bytes,
            tmp_inodes=limits.tmp_inodes,
            shm_bytes=limits.shm_bytes,
        )


@dataclass(slots=True)
class _Sandbox:
    """One started container whose launcher waits for its request on the attached socket."""

    id: str
    attached: Any  # the SDK's socket wrapper; keeps the HTTP response (and socket) alive
    sock: socket.socket
    # The id (sha256 digest) of the image this container runs: the tag names a build recipe,
    # this the exact build, and it goes in each run's receipt.
    image_id: str = ""


@dataclass(slots=True)
class _Pool:
    """Started containers of one spec, refilled in the background."""

    spec: _ContainerSpec
    size: int
    ready: deque[_Sandbox] = field(default_factory=deque)
    wanted: asyncio.Event = field(default_factory=asyncio.Event)
    full: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None


@dataclass(slots=True)
class _Streams:
    """The attached stream, split into the launcher's frame and the program's two streams."""

    cap: int
    done_marker: bytes
    pending: bytearray = field(default_factory=bytearray)
    before_frame: bytearray = field(default_factory=bytearray)
    launcher_stderr: bytearray = field(default_factory=bytearray)
    report: dict[str, Any] | None = None
    stdout: bytearray = field(default_factory=bytearray)
    stderr: bytearray = field(default_factory=bytearray)
    stdout_total: int = 0
    stdout_tail: bytes = b""
    done: bool = False
    # What the launcher writes after the run is over: its usage frame (see launcher.py).
    trailer: bytearray = field(default_factory=bytearray)

    def feed(self, data: bytes) -> None:
        """Demultiplex Docker's 8-byte-header frames."""
        self.pending += data
        while len(self.pending) >= 8:
            size = int.from_bytes(self.pending[4:8], "big")
            if len(self.pending) < 8 + size:
                return
            kind, payload = self.pending[0], bytes(self.pending[8 : 8 + size])
            del self.pending[: 8 + size]
            self._route(kind, payload)

    def _route(self, kind: int, payload: bytes) -> None:
        if self.done and kind == 1:
            self.trailer += payload[: max(0, _MAX_TRAILER - len(self.trailer))]
            return
        # (After the marker, stderr is still the program's: Docker forwards the two pipes
        # independently, so its last stderr can arrive after the marker on stdout.)
        if self.report is None:
            if kind == 2:
                self.launcher_stderr += payload
                return
            self.before_frame += payload
            self._parse_frame()
            return
        target = self.stdout if kind == 1 else self.stderr
        # One byte past the cap is kept so that passing it is seen.
        target += payload[: max(0, self.cap + 1 + len(self.done_marker) - len(target))]
        if kind == 1:
            self.stdout_total += len(payload)
            self.stdout_tail = (self.stdout_tail + payload)[-len(self.done_marker) :]
            if self.stdout_tail == self.done_marker:
                self.done = True
                del self.stdout[max(0, self.stdout_total - len(self.done_marker)) :]

    def _parse_frame(self) -> None:
        buffer = self.before_frame
        if len(buffer) < 8:
            return
        if buffer[:4] != MAGIC:
            raise RuntimeError("the sandbox launcher sent no report")
        size = int.from_bytes(buffer[4:8], "big")
        if len(buffer) < 8 + size:
            return
        self.report = json.loads(bytes(buffer[8 : 8 + size]))
        rest = bytes(buffer[8 + size :])
        self.before_frame = bytearray()
        if rest:
            self._route(1, rest)

    @property
    def program_usage(self) -> dict[str, Any]:
        """The launcher's account of the program's own CPU and memory; ``{}`` without one."""
        data = bytes(self.trailer)
        if len(data) < 8 or data[:4] != MAGIC:
            return {}
        size = int.from_bytes(data[4:8], "big")
        try:
            usage = json.loads(data[8 : 8 + size])
        except ValueError:
            return {}
        return usage if isinstance(usage, dict) else {}

    @property
    def over_cap(self) -> bool:
        # Until the run is done, the last bytes of stdout may be the start of the marker.
        stdout_slack = 0 if self.done else len(self.done_marker)
        return len(self.stdout) > self.cap + stdout_slack or len(self.stderr) > self.cap


class DockerExecutor:
    """Runs programs in pooled single-use containers. Use as ``async with DockerExecutor():``.

    ``pool_size`` containers per runner image are kept started; ``instance`` labels this
    executor's containers so that a restart removes what a crash left (``remove_orphans``).
    Starting never fails because Docker is down: ``run`` then raises ``ExecutorUnavailable``.
    """

    def __init__(
        self,
        *,
        pool_size: int = 2,
        instance: str = "rivendell",
        client_factory: Callable[[], docker.DockerClient] | None = None,
    ) -> None:
        self.pool_size = pool_size
        self.instance = instance
        self._client_factory = client_factory or _client_from_env
        self._client: docker.DockerClient | None = None
        self._threads = ThreadPoolExecutor(max_workers=16, thread_name_prefix="rivendell-docker")
        # Each run's ``docker wait`` holds a thread for the whole run, so they get their own,
        # and runs beyond MAX_CONCURRENT_RUNS queue instead of starving the other calls.
        self._waiters = ThreadPoolExecutor(MAX_CONCURRENT_RUNS, thread_name_prefix="rivendell-wait")
        self._running = asyncio.Semaphore(MAX_CONCURRENT_RUNS)
        self._pools: dict[_ContainerSpec, _Pool] = {}
        self._disposals: set[asyncio.Task[None]] = set()
        self._connect_lock = asyncio.Lock()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        """Connect, remove this instance's leftovers and fill the pools (in the background)."""
        with contextlib.suppress(ExecutorUnavailable):
            await self._connected()

    async def stop(self) -> None:
        """Stop refilling, remove every pooled container and wait for pending removals."""
        pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            if pool.task is not None:
                pool.task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await pool.task
            while pool.ready:
                self._dispose(pool.ready.popleft())
        if self._disposals:
            await asyncio.gather(*self._disposals, return_exceptions=True)
        if self._client is not None:
            self._client.close()
            self._client = None
        self._threads.shutdown(wait=False)
        self._waiters.shutdown(wait=False)

    async def wait_until_warm(self) -> None:
        """Wait until every pool holds ``pool_size`` started containers and no finished sandbox
        is still being removed: the engine is idle, as between two runs of an interview (for
        benchmarks, and for a server that wants its first runs fast). Bound it with
        ``asyncio.timeout``."""
        await self._connected()
        for pool in list(self._pools.values()):
            await pool.full.wait()
        if self._disposals:
            await asyncio.gather(*list(self._disposals), return_exceptions=True)

    async def available(self) -> bool:
        """Whether the Docker engine answers."""
        try:
            await self._connected()
        except ExecutorUnavailable:
            return False
        return True

    async def run(self, request: RunRequest) -> RunResult:
        """Run one program in a fresh container and report how it ended."""
        language = runnable_language(request.language)
        client = await self._connected()
        spec = _ContainerSpec.of(language)
        async with self._running:
            return await self._run_in(client, spec, language, request)

    async def _run_in(
        self,
        client: docker.DockerClient,
        spec: _ContainerSpec,
        language: Language,
        request: RunRequest,
    ) -> RunResult:
        sandbox = await self._take(client, spec, language)
        try:
            return await self._drive(client, sandbox, language, request)
        finally:
            # Scheduled here, whatever happened; ``stop`` waits for it. Removal and the pool's
            # refill run after the result is out, so that neither slows the run itself.
            self._dispose(sandbox)
            if (pool := self._pools.get(spec)) is not None:
                pool.wanted.set()

    async def _blocking(self, function: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._threads, lambda: function(*args, **kwargs))

    async def _connected(self) -> docker.DockerClient:
        async with self._connect_lock:
            if self._client is not None:
                try:
                    await self._blocking(self._client.ping)
                except Exception as error:
                    raise _unreachable(error) from error
                return self._client
            try:
                client = await self._blocking(self._client_factory)
                await self._blocking(client.ping)
            except Exception as error:
                raise _unreachable(error) from error
            self._client = client
            removed = await self._blocking(_remove_labelled, client, self.instance, True)
            if removed:
                log.info("removed %d sandbox containers left by a previous run", removed)
            for language in languages().values():
                if language.runnable:
                    self._pool(client, _ContainerSpec.of(language), language)
            return client

    def _pool(self, client: docker.DockerClient, spec: _ContainerSpec, language: Language) -> _Pool:
        pool = self._pools.get(spec)
        if pool is None:
            pool = self._pools[spec] = _Pool(spec=spec, size=self.pool_size)
            if self.pool_size > 0:
                pool.task = asyncio.create_task(self._refill(client, pool, language))
            else:
                pool.full.set()
        return pool

    async def _refill(self, client: docker.DockerClient, pool: _Pool, language: Language) -> None:
        while True:
            while len(pool.ready) < pool.size:
                try:
                    pool.ready.append(await self._new_sandbox(client, pool.spec))
                except docker.errors.ImageNotFound:
                    log.warning("runner image %s is not built (make images)", pool.spec.image)
                    pool.full.set()  # nobody should wait for a pool that cannot fill
                    return
                except Exception:
                    log.exception("could not start a %s sandbox; retrying", language.id)
                    await asyncio.sleep(5)
            pool.full.set()
            pool.wanted.clear()
            await pool.wanted.wait()

    async def _take(
        self, client: docker.DockerClient, spec: _ContainerSpec, language: Language
    ) -> _Sandbox:
        pool = self._pool(client, spec, language)
        if pool.ready:
            if pool.task is not None:
                pool.full.clear()
            return pool.ready.popleft()
        try:
            return await self._new_sandbox(client, spec)
        except docker.errors.ImageNotFound as error:
            raise ExecutorUnavailable(
                f"the runner image for {language.name} is not built (run `make images`)"
            ) from error

    async def _new_sandbox(self, client: docker.DockerClient, spec: _ContainerSpec) -> _Sandbox:
        """A started container; if the caller is cancelled meanwhile, it is removed, not lost."""
        loop = asyncio.get_running_loop()
        creating = loop.run_in_executor(self._threads, self._create, client, spec)
        try:
            return await asyncio.shield(creating)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                self._dispose(await creating)
            raise

    def _create(self, client: docker.DockerClient, spec: _ContainerSpec) -> _Sandbox:
        api = client.api
        limits = Limits()
        host_config = api.create_host_config(
            network_mode="none",
            read_only=limits.read_only_root,
            cap_drop=["ALL"],
            security_opt=["no-new-privileges"],
            privileged=False,
            pids_limit=spec.processes,
            mem_limit=spec.memory_bytes,
            memswap_limit=spec.memory_bytes,
            nano_cpus=round(spec.cpus * 1e9),
            # The sandbox's own tmpfs mounts, not the host's; /tmp allows exec for compiled code.
            tmpfs={
                "/tmp": (  # noqa: S108
                    f"rw,exec,nosuid,nodev,size={spec.tmp_bytes},"
                    f"nr_inodes={spec.tmp_inodes},mode=1777"
                ),
                "/dev/shm": f"rw,noexec,nosuid,nodev,size={spec.shm_bytes}",  # noqa: S108
            },
            ulimits=[
                Ulimit(name="nofile", soft=COMPILE_OPEN_FILES, hard=COMPILE_OPEN_FILES),
                Ulimit(name="core", soft=0, hard=0),
            ],
            # Output reaches the server through the attached stream only; a logging driver
            # would copy floods of it to the host's disk.
            log_config={"type": "none", "config": {}},
            ipc_mode="private",
        )
        created = api.create_container(
            image=spec.image,
            user=limits.user,
            hostname="sandbox",
            network_disabled=True,
            stdin_open=True,  # with detach=False the SDK also sets StdinOnce
            labels={LABEL: "1", INSTANCE_LABEL: self.instance, OWNER_LABEL: _process_owner()},
            host_config=host_config,
        )
        container_id: str = created["Id"]
        try:
            attached = api.attach_socket(
                container_id, params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1}
            )
            api.start(container_id)
            image_id = str(api.inspect_container(container_id).get("Image", ""))
        except BaseException:
            with contextlib.suppress(Exception):
                api.remove_container(container_id, force=True)
            raise
        raw: socket.socket = getattr(attached, "_sock", attached)
        raw.setblocking(False)
        return _Sandbox(id=container_id, attached=attached, sock=raw, image_id=image_id)

    def _dispose(self, sandbox: _Sandbox) -> asyncio.Task[None]:
        """Remove the container; the task survives the caller being cancelled."""
        task = asyncio.get_running_loop().create_task(self._remove(sandbox))
        self._disposals.add(task)
        task.add_done_callback(self._disposals.discard)
        return task

    async def _remove(self, sandbox: _Sandbox) -> None:
        _hang_up(sandbox)
        client: Any = self._client
        if client is None:
            client = await self._blocking(self._client_factory)
        try:
            await self._blocking(client.api.remove_container, sandbox.id, force=True)
        except docker.errors.NotFound:
            pass
        except Exception:
            log.exception("could not remove sandbox %s; remove_orphans() will", sandbox.id[:12])

    async def _drive(
        self,
        client: docker.DockerClient,
        sandbox: _Sandbox,
        language: Language,
        request: RunRequest,
    ) -> RunResult:
        limits = language.limits
        loop = asyncio.get_running_loop()
        done_marker = f"\n{MAGIC.decode()}-done-{secrets.token_hex(16)}\n"
        await loop.sock_sendall(sandbox.sock, _request_bytes(language, request, done_marker))
        # Waiting starts now, so that the exit is seen the moment Docker records it.
        exited = loop.run_in_executor(self._waiters, client.api.wait, sandbox.id)
        exited.add_done_callback(lambda done: done.cancelled() or done.exception())
        streams = _Streams(cap=limits.output_bytes, done_marker=done_marker.encode())
        killed: Status | None = None
        ready_at: float | None = None
        deadline = time.monotonic() + limits.compile_wall_seconds + GRACE_SECONDS
        while True:
            if ready_at is None and streams.report is not None:
                ready_at = time.monotonic()
                deadline = ready_at + limits.wall_seconds
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                killed = Status.TIMEOUT
                break
            try:
                chunk = await asyncio.wait_for(loop.sock_recv(sandbox.sock, 65536), remaining)
            except TimeoutError:
                killed = Status.TIMEOUT
                break
            except OSError:
                break
            if not chunk:
                break
            streams.feed(chunk)
            if streams.done:
                break
            if streams.over_cap:
                killed = Status.OUTPUT_LIMIT
                break
        ended_at = time.monotonic()

        api = client.api
        usage = _CgroupUsage()
        if streams.done:
            # The launcher has killed the program's leftovers, but the container is still up:
            # its cgroup counters can be read before it exits.
            usage = _CgroupUsage.read(sandbox.id)
            # Closing stdin releases the launcher, which then sends the program's own usage
            # and exits with the program's status.
            with contextlib.suppress(OSError):
                sandbox.sock.shutdown(socket.SHUT_WR)
            await _read_to_end(loop, sandbox.sock, streams)
        elif killed is not None:
            # Hang up first: Docker would otherwise block writing output nobody reads, and the
            # container could not finish dying until it gave up.
            _hang_up(sandbox)
            with contextlib.suppress(docker.errors.APIError):
                await self._blocking(api.kill, sandbox.id)
        try:
            waited = await asyncio.wait_for(asyncio.shield(exited), timeout=EXIT_WAIT_SECONDS)
            container_status: int | None = int(waited["StatusCode"])
        except TimeoutError:
            with contextlib.suppress(docker.errors.APIError):
                await self._blocking(api.kill, sandbox.id)
            container_status = None
        # Only a SIGKILL can be the OOM killer's; other endings need no inspection.
        oom_killed = False
        if container_status in (None, 128 + SIGKILL):
            state = (await self._blocking(api.inspect_container, sandbox.id))["State"]
            oom_killed = bool(state.get("OOMKilled"))
        return _result(
            language=language,
            streams=streams,
            killed=killed,
            container_status=container_status,
            oom_killed=oom_killed,
            usage=usage,
            run_ms=round((ended_at - (ready_at or ended_at)) * 1000),
            sandbox_id=sandbox.id,
            image_id=sandbox.image_id,
        )


@dataclass(frozen=True, slots=True)
class _CgroupUsage:
    """CPU time and peak memory of a whole sandbox, from the kernel's accounting on the host.

    ``docker stats`` would give the same numbers but answers on a one-second tick; the cgroup
    files answer at once. They exist only when this process runs on the Docker host (cgroup v1
    with the cgroupfs driver, or v2); elsewhere the two numbers are ``None``.
    """

    cpu_ms: int | None = None
    memory_peak_bytes: int | None = None

    @classmethod
    def read(cls, container_id: str) -> _CgroupUsage:
        v1 = Path("/sys/fs/cgroup")
        cpu_ns = _read_int(v1 / "cpuacct" / "docker" / container_id / "cpuacct.usage")
        peak = _read_int(v1 / "memory" / "docker" / container_id / "memory.max_usage_in_bytes")
        if cpu_ns is not None:
            return cls(cpu_ms=round(cpu_ns / 1e6), memory_peak_bytes=peak)
        for v2 in (
            v1 / "system.slice" / f"docker-{container_id}.scope",
            v1 / "docker" / container_id,
        ):
            try:
                cpu_stat = (v2 / "cpu.stat").read_text()
            except OSError:
                continue
            usage_us = next(
                (
                    int(line.split()[1])
                    for line in cpu_stat.splitlines()
                    if line.startswith("usage_usec")
                ),
                None,
            )
            return cls(
                cpu_ms=round(usage_us / 1000) if usage_us is not None else None,
                memory_peak_bytes=_read_int(v2 / "memory.peak"),
            )
        return cls()


async def _read_to_end(
    loop: asyncio.AbstractEventLoop, sock: socket.socket, streams: _Streams
) -> None:
    """Read what the launcher sends after the run (its usage frame) until it exits."""
    deadline = time.monotonic() + TRAILER_WAIT_SECONDS
    while (remaining := deadline - time.monotonic()) > 0 and len(streams.trailer) < _MAX_TRAILER:
        try:
            chunk = await asyncio.wait_for(loop.sock_recv(sock, 65536), remaining)
        except (TimeoutError, OSError):
            return
        if not chunk:
            return
        streams.feed(chunk)
        if streams.program_usage:
            return


def _read_int(path: Path) -> int | None:
    try:
        return int(path.read_text())
    except (OSError, ValueError):
        return None


def _hang_up(sandbox: _Sandbox) -> None:
    """Close the attached stream now (``shutdown``: the SDK's wrapper holds the socket too)."""
    with contextlib.suppress(OSError):
        sandbox.sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sandbox.attached.close()
    with contextlib.suppress(OSError):
        sandbox.sock.close()


def _request_bytes(language: Language, request: RunRequest, done_marker: str) -> bytes:
    limits = language.limits
    code = request.code.encode("utf-8", "surrogatepass")
    stdin = request.stdin.encode("utf-8", "surrogatepass")
    header = json.dumps(
        {
            "file": language.file_name,
            "compile": list(language.compile) if language.compile else None,
            "run": list(language.run or ()),
            "cpu_seconds": limits.cpu_seconds,
            "open_files": limits.open_files,
            "compile_cpu_seconds": limits.compile_cpu_seconds,
            "compile_wall_seconds": limits.compile_wall_seconds,
            "compile_output_bytes": limits.output_bytes,
            "code_bytes": len(code),
            "stdin_bytes": len(stdin),
            "done_marker": done_marker,
        }
    ).encode()
    return MAGIC + len(header).to_bytes(4, "big") + header + code + stdin


def _result(
    *,
    language: Language,
    streams: _Streams,
    killed: Status | None,
    container_status: int | None,
    oom_killed: bool,
    usage: _CgroupUsage,
    run_ms: int,
    sandbox_id: str,
    image_id: str = "",
) -> RunResult:
    limits = language.limits
    report = streams.report or {}
    # The program's own numbers when the launcher sent them (a finished run); the whole
    # sandbox's (launcher and compiler included) otherwise.
    program = streams.program_usage
    cpu_ms = _int_or(program.get("cpu_ms"), usage.cpu_ms)
    memory_peak = _int_or(program.get("max_rss_bytes"), usage.memory_peak_bytes)
    stdout, stdout_cut = capped_text(bytes(streams.stdout), limit=limits.output_bytes)
    stderr, stderr_cut = capped_text(bytes(streams.stderr), limit=limits.output_bytes)
    exit_code = container_status
    signal = exit_code - 128 if exit_code is not None and exit_code > 128 else None
    compile_failed = report.get("compiled") is False

    status: Status
    if killed is Status.OUTPUT_LIMIT:
        status, message = killed, f"Output passed the {limits.output_bytes // 1024} KiB limit."
    elif killed is Status.TIMEOUT or report.get("compile_timed_out"):
        status = Status.TIMEOUT
        if streams.report is None or compile_failed:
            message = f"Compilation took longer than {limits.compile_wall_seconds:g} s."
        else:
            message = f"The program ran longer than {limits.wall_seconds:g} s."
    elif oom_killed:
        status = Status.MEMORY_LIMIT
        message = f"The program used more than {limits.memory_bytes // 2**20} MiB of memory."
    elif signal == SIGXCPU or (
        signal == SIGKILL and cpu_ms is not None and cpu_ms >= limits.cpu_seconds * 1000
    ):
        status = Status.TIMEOUT
        message = f"The program used more than {limits.cpu_seconds} s of CPU time."
    elif streams.report is None:
        status = Status.ERROR
        message = "The sandbox stopped before the program started."
        stderr = streams.launcher_stderr.decode("utf-8", "replace")[: limits.output_bytes]
    elif compile_failed:
        status, message = Status.COMPILE_ERROR, "Compilation failed."
        stderr, stderr_cut = capped_text(
            str(report.get("compile_output", "")).encode(), limit=limits.output_bytes
        )
        stderr_cut = stderr_cut or bool(report.get("compile_output_truncated"))
    elif exit_code == 0:
        status, message = Status.OK, ""
    else:
        status = Status.ERROR
        message = (
            f"The program was killed by signal {signal}."
            if signal
            else f"The program exited with code {exit_code}."
        )
    if killed is not None:
        exit_code, signal = None, SIGKILL
    if status is Status.OK and report.get("compile_output"):
        # Warnings from a successful compile come before the program's own stderr.
        stderr = str(report["compile_output"]) + stderr
    return RunResult(
        status=status,
        stdout=stdout,
        stderr=stderr,
        exit_code=exit_code,
        signal=signal,
        duration_ms=run_ms,
        language=language.id,
        language_version=language.version,
        image=language.image_tag,
        limits=limits,
        cpu_ms=cpu_ms,
        memory_peak_bytes=memory_peak,
        sandbox_cpu_ms=usage.cpu_ms,
        sandbox_memory_peak_bytes=usage.memory_peak_bytes,
        image_id=image_id,
        compile_ms=report.get("compile_ms"),
        stdout_truncated=stdout_cut,
        stderr_truncated=stderr_cut,
        message=message,
        sandbox_id=sandbox_id,
    )


def _int_or(value: object, default: int | None) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _client_from_env() -> docker.DockerClient:
    return docker.from_env(timeout=30, max_pool_size=32)


def _unreachable(error: Exception) -> ExecutorUnavailable:
    return ExecutorUnavailable(f"the Docker engine is not reachable ({type(error).__name__})")


def _process_owner(pid: int | None = None) -> str:
    """``host:pid:start time`` of a process of this host (its start time tells a reused pid)."""
    pid = os.getpid() if pid is None else pid
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    started = stat.rsplit(")", 1)[1].split()[19]
    return f"{socket.gethostname()}:{pid}:{started}"


def _owner_gone(owner: str) -> bool:
    host, _, rest = owner.partition(":")
    if host != socket.gethostname():
        # Another host under our instance name: this instance before its container was
        # replaced (instance names are one per app instance).
        return True
    pid = rest.partition(":")[0]
    return not pid.isdigit() or _process_owner(int(pid)) != owner


def _remove_labelled(
    client: docker.DockerClient, instance: str | None, only_gone_owners: bool = False
) -> int:
    wanted = f"{INSTANCE_LABEL}={instance}" if instance is not None else LABEL
    found = client.api.containers(all=True, filters={"label": [LABEL, wanted]})
    if only_gone_owners:
        found = [c for c in found if _owner_gone((c.get("Labels") or {}).get(OWNER_LABEL, ""))]
    for container in found:
        with contextlib.suppress(docker.errors.NotFound):
            client.api.remove_container(container["Id"], force=True)
    return len(found)


def remove_orphans(*, instance: str | None = None) -> int:
    """Remove sandbox containers left behind by a process that died: those of ``instance``,
    or every Rivendell sandbox on the engine when it is ``None``. How many were removed."""
    client = _client_from_env()
    try:
        return _remove_labelled(client, instance)
    finally:
        client.close()


def remove_finished(*, older_than_seconds: float) -> int:
    """Remove sandbox containers of any instance that stopped (or never started) more than
    ``older_than_seconds`` ago: a live executor removes its own at once, so these were lost
    (a crash, a failed removal). Waiting pooled sandboxes and running ones are left alone.
    How many were removed."""
    client = _client_from_env()
    try:
        found = client.api.containers(
            all=True, filters={"label": [LABEL], "status": ["exited", "dead", "created"]}
        )
        cutoff = time.time() - older_than_seconds
        removed = 0
        for container in found:
            if int(container.get("Created", 0)) < cutoff:
                with contextlib.suppress(docker.errors.NotFound):
                    client.api.remove_container(container["Id"], force=True)
                    removed += 1
        return removed
    finally:
        client.close()
