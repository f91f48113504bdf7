"""A uid of its own for every run, leased from a range for as long as the run lasts.

RLIMIT_NPROC counts a uid's processes across the whole host, so runs that shared one uid
(65534) shared one process limit: under concurrent runs, one model's processes made another
run's sandbox fail to start ("Resource temporarily unavailable"), and that was recorded as the
team's crash. With a uid per run, each run's limit is its own. A lease is an exclusive
``flock`` on a file named after the uid in a host-wide folder, so every worker on the host
(whatever its HUIYAN_HOME) draws from the same range, and a crashed worker's leases free
themselves when its process ends.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from workers.sandbox.contract import SandboxError

FIRST_UID = 200_000  # far above the uids of people and services (/etc/login.defs: < 60,000)
UIDS = 1_000
LEASES = Path("/run/huiyan-sandbox-uids")


@contextmanager
def leased_uid(folder: Path = LEASES, first: int = FIRST_UID, count: int = UIDS) -> Iterator[int]:
    """A uid no other run on this host holds until the block ends."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    for uid in range(first, first + count):
        fd = os.open(folder / str(uid), os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        try:
            yield uid
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
        return
    raise SandboxError(f"all {count} sandbox uids from {first} are in use on this host")


@contextmanager
def run_uid() -> Iterator[int]:
    """The uid one run gets: a leased one of its own when the worker is root (a non-root
    worker's runs are the worker's own uid anyway)."""
    if os.geteuid() != 0:
        yield os.getuid()
        return
    with leased_uid() as uid:
        yield uid
