"""Live co-editing across two Rivendell instances, side by side with one, in the same run.

Run: ``.venv/bin/python -m bench.fleet`` (about 15 minutes on a quiet machine) or ``--quick``
(a smoke run, about 5 minutes: the two builds take most of it). It makes a fresh PostgreSQL
database and empties a Redis logical database of its own (``--redis``, flushed before and after),
builds and starts two production instances of Rivendell on free ports, both on that database and
that Redis, one Granian worker each (``GRANIAN_WORKERS=1``, as a fleet member container runs), and
runs ``bench/collab.py``'s ladder (N rooms x 3 clients, one typist per room at 10 keys/s) on:

- ``one``: every client on instance A (B runs, idle);
- ``two``: each room's typist and first receiver on A, its second receiver on B: what B's
  receivers see includes the relay hop (A -> Redis stream -> B);
- ``two-per-cpu`` (``--per-cpu``): as ``two`` with B pinned to CPU 1, which it then shares with
  the load generator.

Both instances are pinned to CPU 0 (the same CPU budget as one instance), the generator to CPU 1;
redis-server and PostgreSQL are not ours to pin. Each step uses fresh interviews and starts once
the previous step's rooms have closed (30 s idle). A setup's ladder stops at its first saturated
step (client-to-client p99 over 100 ms, or a client or delivery lost or duplicated), except the
200-room step. Reported per step, beside ``bench/collab.py``'s figures: client to client for
receivers on A and on B, deliveries missing and duplicated, and the CPU of A, B, redis-server
and the PostgreSQL backends serving the bench database. Prints one JSON document.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path
from typing import Any, cast

import psycopg
import redis

from bench.collab import (
    DISTURBED_PCT,
    RunLog,
    ServerUnderTest,
    Watched,
    _cpu_seconds,
    create_rooms,
    machine,
    make_plan,
    repeated_step,
    step_options,
    stop_process,
    use_database,
)
from tests.conftest import POSTGRES_ADMIN_URL, fresh_postgres_database

DEFAULT_REDIS = "redis://127.0.0.1:6379/11"
ROOM_IDLE_SECONDS = 30.0  # CollabServer's idle_seconds: a room without clients closes after it


def redis_info(url: str) -> dict[str, Any]:
    """``INFO server`` of the Redis at ``url``."""
    with redis.Redis.from_url(url) as client:
        return cast(dict[str, Any], client.info("server"))


class Backing:
    """What the instances share: redis-server and the PostgreSQL backends of the bench database
    (their CPU only: both serve other programs too and are not ours to pin or stop)."""

    def __init__(self, redis_url: str, database: str) -> None:
        self.redis_pid = int(redis_info(redis_url)["process_id"])
        self._database = database
        self._admin = psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True)
        self._backends: dict[int, float] = {}  # pid -> CPU seconds when last seen

    def postgres_seconds(self) -> float:
        """CPU seconds of the backends serving the bench database, those gone included."""
        rows = self._admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s", (self._database,)
        ).fetchall()
        for (pid,) in rows:
            if (seconds := _cpu_seconds(pid)) > 0:
                self._backends[pid] = seconds
        return sum(self._backends.values())

    def close(self) -> None:
        self._admin.close()


class Fleet(Watched):
    """Instances serving the same rooms, and what they share; ``seats``: where a room's clients
    connect (client ``i`` to ``seats[i % len(seats)]``); ``cpus``: where each instance runs."""

    def __init__(
        self,
        name: str,
        members: list[ServerUnderTest],
        seats: list[ServerUnderTest],
        cpus: dict[str, int],
        backing: Backing,
    ) -> None:
        self.name = name
        self.members = members
        self.seats = [member.base_ws for member in seats]
        self.cpus = cpus
        self.backing = backing

    def instances(self) -> dict[str, str]:
        return {member.base_ws: member.name for member in self.members}

    def cpu_parts(self) -> dict[str, float]:
        parts = {member.name: member.cpu_seconds() for member in self.members}
        parts["redis-server"] = _cpu_seconds(self.backing.redis_pid)
        parts["postgres"] = self.backing.postgres_seconds()
        return parts

    def cpu_seconds(self) -> float:
        return sum(self.cpu_parts().values())

    def rss(self) -> tuple[int, int]:
        sizes = [member.rss() for member in self.members]
        return sum(worker for worker, _ in sizes), sum(tree for _, tree in sizes)

    def rss_parts(self) -> dict[str, int]:
        return {member.name: member.rss()[0] for member in self.members}

    def thread_cpu_seconds(self) -> dict[str, float]:
        seconds: dict[str, float] = {}
        for member in self.members:
            for kind, value in member.thread_cpu_seconds().items():
                seconds[kind] = seconds.get(kind, 0.0) + value
        return seconds

    def alive(self) -> bool:
        return all(member.alive() for member in self.members)

    def log_tail(self) -> str:
        return "\n".join(f"--- {m.name}\n{m.log_tail()}" for m in self.members)

    def pin(self) -> None:
        for member in self.members:
            member.pin(self.cpus[member.name])


@contextlib.contextmanager
def own_redis_db(url: str) -> Iterator[None]:
    """The logical database ``url`` names, emptied before and after."""
    client = redis.Redis.from_url(url)
    client.flushdb()
    try:
        yield
    finally:
        client.flushdb()
        client.close()


@contextlib.contextmanager
def instances(
    tmp: Path, database_url: str, redis_url: str, stopped: dict[str, str]
) -> Iterator[tuple[ServerUnderTest, ServerUnderTest]]:
    """Instances A and B, each its own production build, one Granian worker each."""
    from tests.e2e.server import start_server

    env = {
        "REFLEX_DB_URL": database_url,
        "REFLEX_REDIS_URL": redis_url,
        "GRANIAN_WORKERS": "1",
        "RIVENDELL_EXECUTOR": "off",  # nothing but co-editing runs on the servers under test
    }
    running: list[ServerUnderTest] = []
    try:
        for name in ("A", "B"):
            # A build per instance (the port is built in), one after the other: two at once
            # would share this machine's 2 cores with each other for no gain.
            folder = tmp / name
            folder.mkdir()
            started = start_server(folder, env, own_build=True)
            running.append(ServerUnderTest(name, started.url, started.process, started.log))
            print(f"instance {name} up at {started.url}", file=sys.stderr, flush=True)
        yield running[0], running[1]
    finally:
        for server in running:
            stopped[server.name] = stop_process(server.process, 10)


def _one_line(step: dict[str, Any]) -> str:
    receivers = {
        name: (them["client_to_client_ms"].get("p50"), them["client_to_client_ms"].get("p99"))
        for name, them in step.get("receivers_by_instance", {}).items()
    }
    return (
        f"{step['server']:11} {step['workload']:15} receivers p50/p99 {receivers} "
        f"cpu {step.get('cpu_by_process_pct')} missing {step.get('deliveries_missing')} "
        f"duplicated {step.get('deliveries_duplicated')} saturated {step['saturated']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run (20 rooms, 2.5 s)")
    parser.add_argument("--ladder", default="25,50,100,200", help="rooms x 3 steps, in order")
    parser.add_argument("--per-cpu", action="store_true", help="also B pinned to CPU 1")
    parser.add_argument("--redis", default=DEFAULT_REDIS, help="a Redis logical db of its own")
    step_options(parser, budget=3000)
    args = parser.parse_args()
    if len(os.sched_getaffinity(0)) < 2:
        parser.error("needs 2 CPUs: the servers on CPU 0, the load generator on CPU 1")
    plan = make_plan(args, 1)
    ladder = [20] if args.quick else [int(n) for n in args.ladder.split(",")]
    idle_wait = 0.0 if args.quick else ROOM_IDLE_SECONDS + 1
    log = RunLog(args.budget)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    tmp = Path(tempfile.mkdtemp(prefix="rivendell-fleet-bench-"))
    processes: dict[str, int] = {}
    with fresh_postgres_database() as database_url, own_redis_db(args.redis):
        use_database(database_url)
        backing = Backing(args.redis, database_url.rsplit("/", 1)[1])
        try:
            with instances(tmp, database_url, args.redis, log.stopped) as (a, b):
                print(f"instances up after {time.monotonic() - log.began:.1f} s", file=sys.stderr)
                # Reflex's launcher, Granian's supervisor and its one worker.
                processes = {server.name: len(server.pids()) for server in (a, b)}
                os.sched_setaffinity(0, {1})
                both = {"A": 0, "B": 0}
                setups = [
                    Fleet("one", [a, b], [a], both, backing),
                    Fleet("two", [a, b], [a, a, b], both, backing),
                ]
                if args.per_cpu:
                    apart = {"A": 0, "B": 1}
                    setups.append(Fleet("two-per-cpu", [a, b], [a, a, b], apart, backing))
                last_end = 0.0
                for count in ladder:
                    label = f"{count} rooms x 3"
                    for setup in setups:
                        if not log.should_run(setup.name, label, count):
                            continue
                        # The previous step's rooms close once idle: let them, so that a step
                        # pays only for its own rooms (their relay reads included).
                        time.sleep(max(0.0, last_end + idle_wait - time.monotonic()))
                        setup.pin()
                        rooms = create_rooms(count, 3)
                        step = repeated_step(setup, label, rooms, plan, (setups[0],), log.began)
                        last_end = time.monotonic()
                        log.record(setup, step)
                        print(_one_line(step), file=sys.stderr, flush=True)
                    if not setups[0].alive():  # an instance died: every setup has it
                        log.dead.update(setup.name for setup in setups)
        except (KeyboardInterrupt, SystemExit) as stop:  # SIGTERM, ^C: report what was measured
            log.interrupted = f"{type(stop).__name__} {stop}".strip()
        finally:
            backing.close()
        redis_version = redis_info(args.redis)["redis_version"]

    about = machine()
    about["packages"]["redis (Python)"] = version("redis")
    about["redis_server"] = redis_version
    about["postgresql"] = _postgres_version()
    head = {
        "machine": about,
        "mode": "quick" if args.quick else "full",
        "pinning": "instances A and B on CPU 0 (two-per-cpu: B on CPU 1), generators on CPU 1; "
        "redis-server and PostgreSQL unpinned",
        "setups": {
            "one": "every client on A (B idle)",
            "two": "typist and receiver 1 on A, receiver 2 on B",
            "two-per-cpu": "as two, B pinned to CPU 1 (with the generators)",
        },
        "redis": args.redis,
        "plan": plan.__dict__,
        "disturbed_pct": DISTURBED_PCT,
    }
    log.finish(head, {"processes_per_instance": processes}, tmp)


def _postgres_version() -> str:
    with psycopg.connect(POSTGRES_ADMIN_URL) as admin:
        row = admin.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "?"


if __name__ == "__main__":
    main()
