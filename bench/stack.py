"""The system's processes on one machine, for bench/system.py: a PostgreSQL database of its
own, a private redis-server, ``huiyan serve``, one ``huiyan dispatcher`` and RQ workers, all
on loopback, each in a process group of its own so that a kill reaches what it forked (a
gunicorn worker, an RQ work horse, the sandbox under it), each writing to its own log.

``Stack`` is a context manager: whatever happens in the ``with`` block (an exception,
Ctrl-C, SIGTERM made an exception by the bench), everything it started is stopped on the way
out.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import sqlalchemy as sa
from redis import Redis
from redis.exceptions import RedisError

from bench.web import HUIYAN, ROOT, free_port, start_server

STOP_SECONDS = 20  # SIGTERM, then this long before SIGKILL


def create_database(admin_url: str, name: str) -> str:
    """A fresh database ``name`` (one left by an interrupted run is dropped first); its URL."""
    _as_admin(admin_url, _drop(name), f'CREATE DATABASE "{name}"')
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


def drop_database(admin_url: str, name: str) -> None:
    _as_admin(admin_url, _drop(name))


def _drop(name: str) -> str:
    return f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'


def _as_admin(admin_url: str, *statements: str) -> None:
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            for statement in statements:
                conn.execute(sa.text(statement))
    finally:
        admin.dispose()


def worker_command() -> list[str]:
    """``huiyan`` for a worker. In a second git worktree (development) the sandboxed scorer's
    Python, which inherits no PYTHONPATH, imports ``scoring`` from the checkout the virtual
    environment installed, and the sandbox shows it only this checkout's: the worker is then
    told to show the scorer the installed one (as tests/web/panel.py does). Elsewhere it is
    plain ``huiyan``."""
    installed = subprocess.run(
        [sys.executable, "-I", "-c", "import scoring; print(scoring.__path__[0])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    if Path(installed) == ROOT / "scoring":
        return list(HUIYAN)
    shim = ("import pathlib, sys, workers.scoring_sandbox as s; "
            "s.SCORING_CODE = pathlib.Path(sys.argv.pop(1)); "
            "from huiyan_cli import main; main()")  # fmt: skip
    return [sys.executable, "-c", shim, installed]


class Stack:
    """The processes of one run. ``env`` is every service's environment (HUIYAN_HOME,
    HUIYAN_DATABASE_URL, HUIYAN_REDIS_URL, ...); ``logs`` is where each writes."""

    def __init__(self, env: dict[str, str], logs: Path, redis_port: int) -> None:
        self.env = env
        self.logs = logs
        self.redis_port = redis_port
        self.processes: dict[str, subprocess.Popen] = {}
        self.workers: list[str] = []  # names of the workers started, in order
        self.expected_exits: set[str] = set()
        logs.mkdir(parents=True, exist_ok=True)

    def __enter__(self) -> Stack:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop_all()

    # --- starting ---------------------------------------------------------------------------

    def _spawn(self, name: str, command: list[str]) -> subprocess.Popen:
        with (self.logs / f"{name}.log").open("ab") as log:
            process = subprocess.Popen(
                command, cwd=ROOT, env=self.env, stdout=log, stderr=log, start_new_session=True
            )
        self.processes[name] = process
        return process

    def start_redis(self) -> None:
        """redis-server on the run's port, keeping nothing on disk: a restart loses every
        queued job, the case the dispatcher's reconciler is there for (docs/workers.md)."""
        folder = self.logs.parent / "redis"
        folder.mkdir(exist_ok=True)
        self._spawn("redis", ["redis-server", "--port", str(self.redis_port),
                              "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                              "--dir", str(folder)])  # fmt: skip
        client = Redis(port=self.redis_port)
        deadline = time.monotonic() + 30
        while True:
            try:
                client.ping()
                return
            except RedisError:
                if time.monotonic() > deadline:
                    raise SystemExit("redis-server did not answer within 30 s") from None
                time.sleep(0.1)
            finally:
                client.close()

    def restart_redis(self, down_seconds: float) -> None:
        """kill -9 the redis-server, wait, start it again on the same port."""
        self.expected_exits.add("redis")
        self._kill("redis")
        time.sleep(down_seconds)
        self.expected_exits.discard("redis")
        self.start_redis()

    def start_web(self, workers: int) -> str:
        """``huiyan serve --workers N --behind-proxy``: the bench plays the TLS-ending proxy, so
        each simulated team comes from its own address (X-Forwarded-For) and the sign-in rate
        limit counts per team, not for the whole bench. Returns the base URL."""
        port = free_port()
        log = self.logs / "web.log"
        self.processes["web"] = start_server(
            self.env, port, workers, log, options=("--behind-proxy",)
        )
        return f"http://127.0.0.1:{port}"

    def start_dispatcher(self) -> None:
        self._spawn("dispatcher", [*HUIYAN, "dispatcher", "--interval", "2"])

    def start_worker(self) -> str:
        name = f"worker-{len(self.workers) + 1}"
        self._spawn(name, [*worker_command(), "worker", "--queues", "inference",
                           "--queues", "scoring"])  # fmt: skip
        self.workers.append(name)
        return name

    # --- stopping ---------------------------------------------------------------------------

    def kill_worker(self, name: str) -> None:
        """kill -9 the worker and everything under it: its work horse (RQ puts a horse in a
        session of its own) and the sandboxed run under the horse, as a machine that loses
        power would."""
        self.expected_exits.add(name)
        tree = descendants(self.processes[name].pid)  # before the kill orphans them
        self._kill(name)
        for pid in tree:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def _kill(self, name: str) -> None:
        _signal_group(self.processes[name], signal.SIGKILL)
        self.processes[name].wait()

    def died(self) -> dict[str, int]:
        """The processes that ended without being told to, and their exit status."""
        return {
            name: process.returncode
            for name, process in self.processes.items()
            if process.poll() is not None and name not in self.expected_exits
        }

    def stop(self, *names: str) -> None:
        """SIGTERM to each group, then SIGKILL to what is left after STOP_SECONDS."""
        chosen = [n for n in names if self.processes[n].poll() is None]
        self.expected_exits.update(names)
        for name in chosen:
            _signal_group(self.processes[name], signal.SIGTERM)
        deadline = time.monotonic() + STOP_SECONDS
        for name in chosen:
            try:
                self.processes[name].wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                self._kill(name)
            _signal_group(self.processes[name], signal.SIGKILL)  # what the group still holds

    def stop_all(self) -> None:
        """The services first, then Redis, which they talk to."""
        self.stop(*[name for name in self.processes if name != "redis"])
        if "redis" in self.processes:
            self.stop("redis")


def _signal_group(process: subprocess.Popen, number: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, number)


def descendants(pid: int) -> list[int]:
    """Every live process under ``pid``, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, waiting = [], [pid]
    while waiting:
        for child in children.get(waiting.pop(), []):
            found.append(child)
            waiting.append(child)
    return found
