"""The executor seam: what a run is asked, what it answers, the limits it runs under.

``Limits`` is the one definition of every sandbox limit; the README's limits table is generated
from it (``rivendell.executor.limits_doc``) and a test keeps the two equal. Languages may raise a
few of the numbers in their manifest (``OVERRIDABLE``); the isolation itself cannot be loosened.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, field
from types import TracebackType
from typing import Protocol, Self

__all__ = [
    "MAX_INPUT_BYTES",
    "Executor",
    "ExecutorUnavailable",
    "Limits",
    "RunRefused",
    "RunRequest",
    "RunResult",
    "Status",
    "UnavailableExecutor",
]

KIB = 1024
MIB = 1024 * KIB
MAX_INPUT_BYTES = 1 * MIB
TRUNCATED_MARKER = "\n[output truncated: {limit} KiB limit reached]\n"


@dataclass(frozen=True, slots=True)
class Limits:
    """Every limit a sandbox runs under. Each field's metadata says what it stops."""

    memory_bytes: int = field(
        default=256 * MIB,
        metadata={"doc": "Memory (RAM + tmpfs), no swap", "stops": "memory bombs"},
    )
    processes: int = field(
        default=64, metadata={"doc": "Processes and threads", "stops": "fork and thread bombs"}
    )
    open_files: int = field(
        default=64, metadata={"doc": "Open files per process", "stops": "fd exhaustion"}
    )
    cpus: float = field(
        default=1.0, metadata={"doc": "CPUs", "stops": "one room starving the others"}
    )
    cpu_seconds: int = field(
        default=5, metadata={"doc": "CPU time of the program (s)", "stops": "busy loops"}
    )
    wall_seconds: float = field(
        default=10.0, metadata={"doc": "Wall time of the program (s)", "stops": "sleep forever"}
    )
    compile_cpu_seconds: int = field(
        default=20, metadata={"doc": "CPU time of compilation (s)", "stops": "compile-time bombs"}
    )
    compile_wall_seconds: float = field(
        default=30.0, metadata={"doc": "Wall time of compilation (s)", "stops": "compile hangs"}
    )
    output_bytes: int = field(
        default=64 * KIB,
        metadata={"doc": "stdout and stderr, each", "stops": "output floods"},
    )
    tmp_bytes: int = field(
        default=64 * MIB,
        metadata={"doc": "Writable /tmp (tmpfs)", "stops": "disk and inode fill"},
    )
    tmp_inodes: int = field(default=16384, metadata={"doc": "Files in /tmp", "stops": "inode fill"})
    shm_bytes: int = field(
        default=16 * MIB, metadata={"doc": "Writable /dev/shm (tmpfs)", "stops": "disk fill"}
    )
    network: bool = field(
        default=False,
        metadata={"doc": "Network", "stops": "probes of the internet, the host, its databases"},
    )
    read_only_root: bool = field(
        default=True, metadata={"doc": "Read-only root filesystem", "stops": "tampering"}
    )
    user: str = field(
        default="65534:65534", metadata={"doc": "User (non-root)", "stops": "root in the sandbox"}
    )
    capabilities: tuple[str, ...] = field(
        default=(), metadata={"doc": "Capabilities (all dropped)", "stops": "privileged syscalls"}
    )
    no_new_privileges: bool = field(
        default=True, metadata={"doc": "no-new-privileges", "stops": "setuid escalation"}
    )
    environment: tuple[str, ...] = field(
        default=(), metadata={"doc": "Environment variables", "stops": "server secrets leaking"}
    )

    def with_overrides(self, overrides: dict[str, object]) -> Limits:
        """These limits with a manifest's ``[limits]`` applied; only ``OVERRIDABLE`` may change."""
        unknown = set(overrides) - OVERRIDABLE
        if unknown:
            raise ValueError(f"limits that a language may not override: {sorted(unknown)}")
        return dataclasses.replace(self, **overrides)  # type: ignore[arg-type]


# Numbers a language may need more of (a JVM's threads, rustc's memory, javac's time). Network,
# user, capabilities, privileges, the root filesystem and the environment are not among them.
OVERRIDABLE = frozenset(
    {
        "memory_bytes",
        "processes",
        "open_files",
        "cpu_seconds",
        "wall_seconds",
        "compile_cpu_seconds",
        "compile_wall_seconds",
        "tmp_bytes",
    }
)


class Status(enum.StrEnum):
    """How a run ended, from the sandbox's own accounting, never from the program's output."""

    OK = "ok"
    ERROR = "error"
    COMPILE_ERROR = "compile_error"
    TIMEOUT = "timeout"
    MEMORY_LIMIT = "memory_limit"
    OUTPUT_LIMIT = "output_limit"


class RunRefused(ValueError):
    """A request that will not be run; ``str()`` is a message for the user."""


class ExecutorUnavailable(RuntimeError):
    """Server-side execution cannot run now (no Docker, no runner image, turned off)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"server-side execution unavailable: {reason}")


@dataclass(frozen=True, slots=True)
class RunRequest:
    """One program to run: a language id, its source and what its stdin reads."""

    language: str
    code: str
    stdin: str = ""

    def __post_init__(self) -> None:
        if not self.code.strip():
            raise RunRefused("There is no code to run.")
        for what, text in (("code", self.code), ("program input", self.stdin)):
            if len(text.encode("utf-8", "surrogatepass")) > MAX_INPUT_BYTES:
                raise RunRefused(f"The {what} is over the {MAX_INPUT_BYTES // MIB} MiB limit.")


@dataclass(frozen=True, slots=True)
class RunResult:
    """What a run did. Output is decoded as UTF-8 with replacement characters."""

    status: Status
    stdout: str
    stderr: str
    exit_code: int | None
    signal: int | None
    duration_ms: int
    language: str
    language_version: str
    image: str
    limits: Limits
    # The program's own CPU time and peak resident memory (all its processes); the sandbox's
    # totals also count the launcher and a compiler (the container's cgroup).
    cpu_ms: int | None = None
    memory_peak_bytes: int | None = None
    sandbox_cpu_ms: int | None = None
    sandbox_memory_peak_bytes: int | None = None
    # The runner image's id (``sha256:…``), the exact build ``image`` (its tag) ran.
    image_id: str = ""
    compile_ms: int | None = None
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    message: str = ""
    sandbox_id: str = ""

    @property
    def truncated(self) -> bool:
        """Whether either stream was cut at the output limit."""
        return self.stdout_truncated or self.stderr_truncated


def capped_text(data: bytes, *, limit: int) -> tuple[str, bool]:
    """``data`` decoded and cut at ``limit`` bytes with a visible marker; whether it was cut."""
    if len(data) <= limit:
        return data.decode("utf-8", "replace"), False
    marker = TRUNCATED_MARKER.format(limit=limit // KIB)
    return data[:limit].decode("utf-8", "replace") + marker, True


class Executor(Protocol):
    """Runs programs. Start it with ``async with``; ``run`` raises ``ExecutorUnavailable``
    when it cannot run anything and ``RunRefused`` for a request it will not run."""

    async def run(self, request: RunRequest) -> RunResult:
        """Run one program to completion and describe how it ended."""
        ...

    async def available(self) -> bool:
        """Whether ``run`` can run programs right now."""
        ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...


class UnavailableExecutor:
    """The executor when server-side runs are turned off: every run says why."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        return None

    async def available(self) -> bool:
        """Never."""
        return False

    async def run(self, request: RunRequest) -> RunResult:
        """Always ``ExecutorUnavailable``."""
        raise ExecutorUnavailable(self.reason)
