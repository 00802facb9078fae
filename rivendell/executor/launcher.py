"""The sandbox's first process: receives one program over stdin, compiles it, runs it, then waits.

This file is copied into every runner image and started as PID 1 of a pooled container, before
anyone has asked for a run, so a run pays for neither container creation nor ``docker exec``. It
uses the standard library only and imports nothing from Rivendell.

The server speaks to it through the container's attached stdin and stdout, nothing else:

1. The server writes one request: ``MAGIC``, a 4-byte big-endian length, a JSON header, then the
   code bytes and the stdin bytes whose lengths the header gives.
2. The launcher writes the code and the program's input into its own tmpfs, runs the compile step
   if there is one (its output captured here, not passed through), then writes one frame to
   stdout: ``MAGIC``, a length, and JSON saying how compilation went. The program has not started
   yet, so nothing it prints can come before or inside that frame.
3. It forks the program with the container's stdout and stderr, an empty environment, and the run
   phase's rlimits. When the program exits, everything it left behind is killed, and the launcher
   writes the request's ``done_marker`` (a secret per run, which the program never saw) to
   stdout: that tells the server the run is over while the container is still up for the server
   to read its cgroup counters.
4. When the server closes stdin, the launcher writes one last frame to stdout (``MAGIC``, a
   length, JSON with the program's own CPU time and peak resident memory, from the kernel's
   ``wait4`` accounting of every process of the run), then exits with the program's status (its
   exit code, or 128 + the signal that killed it), which the server reads with ``docker wait``.
   The program is dead by then, so it cannot forge that frame; the container's cgroup counters,
   which the server reads too, also count this launcher and the compiler.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import resource
import select
import signal
import subprocess
import time

MAGIC = b"RVN1"
WORK_DIR = "/tmp/run"
STDIN_FILE = "/tmp/.stdin"
# Compilers find their caches and home through these; the program itself gets nothing.
COMPILE_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "HOME": "/tmp",
    "TMPDIR": "/tmp",
    "GOCACHE": "/tmp/.cache/go",
    "GOPATH": "/tmp/.cache/gopath",
    "GO111MODULE": "off",
    "LANG": "C.UTF-8",
}
PR_SET_DUMPABLE = 4
# If the server never closes stdin (it died), the container ends by itself.
RELEASE_TIMEOUT_SECONDS = 30.0


def read_exact(size: int) -> bytes:
    """Exactly ``size`` bytes from fd 0, read unbuffered so nothing past them is consumed."""
    chunks: list[bytes] = []
    remaining = size
    while remaining:
        chunk = os.read(0, min(remaining, 1 << 20))
        if not chunk:
            raise EOFError("the request ended early")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def write_all(fd: int, data: bytes) -> None:
    """Write every byte of ``data`` to ``fd``."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def write_new_file(path: str, data: bytes) -> None:
    """Create ``path`` (never following or reusing anything already there) and fill it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        write_all(fd, data)
    finally:
        os.close(fd)


def set_limits(*, cpu_seconds: int, open_files: int | None) -> None:
    """rlimits for a child about to exec: CPU seconds (SIGXCPU, then SIGKILL a second later)."""
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if open_files is not None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (open_files, open_files))


def compile_program(header: dict[str, object]) -> dict[str, object]:
    """Run the compile command, bounded in wall and CPU time; its output comes back capped."""
    command = header["compile"]
    assert isinstance(command, list)
    cap = int(str(header["compile_output_bytes"]))
    wall = float(str(header["compile_wall_seconds"]))
    cpu = int(str(header["compile_cpu_seconds"]))
    started = time.monotonic()
    process = subprocess.Popen(  # the command comes from the server's manifest
        [str(part) for part in command],
        cwd=WORK_DIR,
        env=COMPILE_ENV,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=lambda: set_limits(cpu_seconds=cpu, open_files=None),
    )
    assert process.stdout is not None
    output = bytearray()
    timed_out = False
    pipe = process.stdout.fileno()
    deadline = started + wall
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([pipe], [], [], remaining)[0]:
            timed_out = True
            os.killpg(process.pid, signal.SIGKILL)
            break
        chunk = os.read(pipe, 65536)
        if not chunk:
            break
        # Keep one byte past the cap, to know that it was passed.
        output += chunk[: max(0, cap + 1 - len(output))]
    status = process.wait()
    return {
        "compile_exit": status,
        "compile_timed_out": timed_out,
        "compile_ms": round((time.monotonic() - started) * 1000),
        "compile_output": output[:cap].decode("utf-8", "replace"),
        "compile_output_truncated": len(output) > cap,
    }


class Usage:
    """What the program's processes used, summed (CPU) or maximal (resident memory)."""

    def __init__(self) -> None:
        self.cpu_seconds = 0.0
        self.max_rss_kib = 0

    def add(self, usage: resource.struct_rusage) -> None:
        """Count one reaped process (its rusage covers the children it waited for)."""
        self.cpu_seconds += usage.ru_utime + usage.ru_stime
        self.max_rss_kib = max(self.max_rss_kib, usage.ru_maxrss)

    def report(self) -> dict[str, int]:
        """The frame's JSON fields (Linux gives ``ru_maxrss`` in KiB)."""
        return {"cpu_ms": round(self.cpu_seconds * 1000), "max_rss_bytes": self.max_rss_kib * 1024}


def run_program(header: dict[str, object], usage: Usage) -> int:
    """Fork the program, wait for it, kill whatever it left behind; its wait status.

    Every process reaped from the fork on is the program's (the compiler was reaped before),
    so ``usage`` sums exactly the run.
    """
    command = [str(part) for part in header["run"]]  # type: ignore[attr-defined]
    cpu = int(str(header["cpu_seconds"]))
    open_files = int(str(header["open_files"]))
    pid = os.fork()
    if pid == 0:
        try:
            os.chdir(WORK_DIR)
            stdin = os.open(STDIN_FILE, os.O_RDONLY | os.O_NOFOLLOW)
            os.dup2(stdin, 0)
            os.close(stdin)
            set_limits(cpu_seconds=cpu, open_files=open_files)
            os.execve(command[0], command, {})
        except BaseException as error:  # the child must never return
            write_all(2, f"rivendell: cannot start {command[0]}: {error}\n".encode())
        os._exit(127)
    status = 0
    while True:
        # PID 1 inherits every orphan, so reap them all while waiting for the program.
        reaped, wait_status, rusage = os.wait4(-1, 0)
        usage.add(rusage)
        if reaped == pid:
            status = wait_status
            break
    # The run ends with the program: a double fork or setsid does not let anything outlive it.
    # PID 1 is exempt from kill(-1), so this clears the sandbox except the launcher.
    with contextlib.suppress(ProcessLookupError):
        os.kill(-1, signal.SIGKILL)
    while True:
        try:
            usage.add(os.wait4(-1, 0)[2])
        except ChildProcessError:
            break
    return status


def wait_for_stdin_to_close(timeout: float) -> None:
    """Block until the server closes the container's stdin (or ``timeout`` passes)."""
    deadline = time.monotonic() + timeout
    while (remaining := deadline - time.monotonic()) > 0:
        if select.select([0], [], [], remaining)[0] and not os.read(0, 65536):
            return


def main() -> int:
    """Serve one request; the exit code is the program's status for ``docker wait``."""
    # Same-uid code may not ptrace or read the memory of a non-dumpable process.
    ctypes.CDLL(None).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    try:
        if read_exact(len(MAGIC)) != MAGIC:
            raise ValueError("bad request magic")
    except EOFError:
        return 0  # the pool closed this container before using it
    header_size = int.from_bytes(read_exact(4), "big")
    header = json.loads(read_exact(header_size))
    code = read_exact(int(header["code_bytes"]))
    stdin = read_exact(int(header["stdin_bytes"]))
    os.mkdir(WORK_DIR, 0o700)
    write_new_file(os.path.join(WORK_DIR, os.path.basename(str(header["file"]))), code)
    write_new_file(STDIN_FILE, stdin)

    report: dict[str, object] = {"compiled": None}
    if header.get("compile"):
        report = compile_program(header)
        report["compiled"] = report["compile_exit"] == 0 and not report["compile_timed_out"]
    frame = json.dumps(report).encode()
    write_all(1, MAGIC + len(frame).to_bytes(4, "big") + frame)
    usage = Usage()
    if report["compiled"] is False:
        status = int(str(report["compile_exit"])) if not report["compile_timed_out"] else 124
        exit_code = status if status >= 0 else 128 - status
    else:
        wait_status = run_program(header, usage)
        if os.WIFSIGNALED(wait_status):
            exit_code = 128 + os.WTERMSIG(wait_status)
        else:
            exit_code = os.WEXITSTATUS(wait_status)
    # The marker is a per-run secret from the request, so the program cannot have printed it.
    write_all(1, str(header["done_marker"]).encode())
    # The program never held this stdin (its own is a file), so only the server can close it.
    wait_for_stdin_to_close(RELEASE_TIMEOUT_SECONDS)
    trailer = json.dumps(usage.report()).encode()
    with contextlib.suppress(OSError):  # a server that hung up does not want it
        write_all(1, MAGIC + len(trailer).to_bytes(4, "big") + trailer)
    return exit_code


if __name__ == "__main__":
    # os._exit: stdout is closed by now, and the interpreter's own flush at exit would turn a
    # failed write into exit status 120.
    os._exit(main())
