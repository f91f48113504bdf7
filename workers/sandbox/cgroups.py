"""One run's control group: the memory and process limits, the peak, the OOM count, the kill.

rlimits cannot do these jobs: RLIMIT_AS counts address space rather than memory (and breaks
CUDA), RLIMIT_NPROC counts per uid across the whole host, and a process group can be left with
``setsid()``. A cgroup holds every process of the run whatever it does, so it is also the
reliable way to kill them all.

cgroup v1 (separate ``memory`` and ``pids`` hierarchies) is used where the worker can write
below its own cgroup. cgroup v2 needs a delegated parent whose ``cgroup.subtree_control``
enables ``memory`` and ``pids`` (v2 forbids controllers in a cgroup that holds processes, so
the worker's own cgroup cannot serve); the operator names it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
import uuid
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class _Files:
    limit: str
    no_swap: str
    peak: str
    events: str  # holds an "oom_kill N" line
    kill: str | None  # writing "1" kills every process at once (v2, Linux >= 5.14)


_V1 = _Files(
    "memory.limit_in_bytes",
    "memory.memsw.limit_in_bytes",
    "memory.max_usage_in_bytes",
    "memory.oom_control",
    None,
)
_V2 = _Files("memory.max", "memory.swap.max", "memory.peak", "memory.events", "cgroup.kill")


class JobCgroup:
    def __init__(self, memory_dir: Path, pids_dir: Path, files: _Files) -> None:
        self.memory_dir, self.pids_dir, self._files = memory_dir, pids_dir, files

    @classmethod
    def create(
        cls, *, memory_bytes: int, pids: int, v2_parent: Path | None = None
    ) -> tuple[JobCgroup | None, str | None]:
        """Make the cgroup, or return (None, why) where this host offers none to us."""
        name = f"huiyan-run-{uuid.uuid4().hex[:12]}"
        try:
            if v2_parent is not None:
                job = cls(v2_parent / name, v2_parent / name, _V2)
                job.memory_dir.mkdir()
                no_swap = "0"
            else:
                memory_root, pids_root = _v1_own_dirs()
                job = cls(memory_root / name, pids_root / name, _V1)
                job.memory_dir.mkdir()
                job.pids_dir.mkdir()
                no_swap = str(memory_bytes)
        except (OSError, LookupError) as error:
            return None, f"no writable memory+pids cgroup ({error})"
        try:
            (job.memory_dir / job._files.limit).write_text(str(memory_bytes))
            no_swap_file = job.memory_dir / job._files.no_swap
            if no_swap_file.exists():  # absent when the kernel does not account swap
                no_swap_file.write_text(no_swap)
            (job.pids_dir / "pids.max").write_text(str(pids))
        except OSError as error:
            job.remove()
            return None, f"cannot set cgroup limits ({error})"
        return job, None

    def procs_files(self) -> tuple[str, ...]:
        """Where a new process writes its pid to join (done before it drops privileges)."""
        return tuple(dict.fromkeys(str(d / "cgroup.procs") for d in self._dirs()))

    def peak_memory(self) -> int | None:
        try:
            return int((self.memory_dir / self._files.peak).read_text())
        except (OSError, ValueError):
            return None

    def oom_kills(self) -> int:
        try:
            lines = (self.memory_dir / self._files.events).read_text().splitlines()
        except OSError:
            return 0
        return sum(int(line.split()[1]) for line in lines if line.startswith("oom_kill "))

    def kill_all(self) -> None:
        if self._files.kill and (self.pids_dir / self._files.kill).exists():
            (self.pids_dir / self._files.kill).write_text("1")
        for _ in range(200):  # a fork bomb refills the list; pids.max bounds each round
            pids = self._members()
            if not pids:
                return
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.005)

    def remove(self) -> None:
        """rmdir fails while dying processes are still being reaped, so retry briefly."""
        for directory in self._dirs():
            for _ in range(100):
                try:
                    directory.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    self.kill_all()
                    time.sleep(0.01)

    def _members(self) -> set[int]:
        members: set[int] = set()
        for procs in self.procs_files():
            with contextlib.suppress(FileNotFoundError):
                members.update(int(p) for p in Path(procs).read_text().split())
        return members

    def _dirs(self) -> tuple[Path, ...]:
        return (self.memory_dir, self.pids_dir)


def _v1_own_dirs() -> tuple[Path, Path]:
    """The worker's own v1 memory and pids cgroups: runs nest below them, so whatever limits
    the host set on the worker still bind its models."""
    mounts = {}
    for line in Path("/proc/self/mounts").read_text().splitlines():
        _, mount_point, fs_type, options = line.split()[:4]
        if fs_type == "cgroup":
            for controller in ("memory", "pids"):
                if controller in options.split(","):
                    mounts[controller] = Path(mount_point)
    own = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(","):
            own[controller] = path.lstrip("/")
    memory, pids = (mounts[c] / own[c] for c in ("memory", "pids"))
    for directory in (memory, pids):
        if not os.access(directory, os.W_OK):
            raise PermissionError(f"{directory} is not writable")
    return memory, pids
