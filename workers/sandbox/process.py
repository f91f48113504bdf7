"""The ``process`` backend: a bundle folder run as a child process under bubblewrap.

For development, CI and hosts without a Docker engine. Containment comes in layers, each for
what the others miss: namespaces and a read-only view of the host (bwrap.py) keep the model
from seeing or touching anything but its folders; an unprivileged uid and rlimits (CPU time,
file size, open files, processes) bound it even if a namespace were missing; a cgroup limits
memory and processes and kills the whole tree; our own wall clock ends the run; and output
collection refuses anything but regular files.

Where bubblewrap is missing or namespaces are not allowed, the backend either refuses
(``allow_fallback=False``, for production) or runs the bundle directly with the uid, rlimits
and cgroup only, and says so in the log and in every ``RunResult.warnings``.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import resource
import select
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from workers.sandbox.bwrap import Layout, bwrap_command
from workers.sandbox.capped_log import CappedLog
from workers.sandbox.cgroups import JobCgroup
from workers.sandbox.contract import (
    BUNDLE_ENTRY,
    ImageRef,
    Limits,
    RunResult,
    SandboxError,
    judge,
    model_environment,
)
from workers.sandbox.gpu import GpuMemoryProbe, device_node
from workers.sandbox.outputs import collect_outputs, prepare_output_dir

log = logging.getLogger(__name__)

NOBODY = 65534
_SAMPLE_SECONDS = 0.1  # how often GPU memory is sampled while the model runs
_DRAIN_SECONDS = 1.0  # after the model exits, how long stragglers may hold the log pipe
_READ_BYTES = 1 << 20
_LAUNCHER_ENV = {"PATH": "/usr/bin:/bin"}  # all that /proc/1/environ inside can ever show
_PRLIMIT = shutil.which("prlimit") or "/usr/bin/prlimit"
_SETPRIV = shutil.which("setpriv") or "/usr/bin/setpriv"


class _StartSignal:
    """A pipe bubblewrap writes to (``--info-fd``) once the sandbox is set up, just before it
    starts the model: a run that fails without it failed in the platform's set-up (no uid,
    no namespace, no process left), not in the team's code."""

    def __init__(self) -> None:
        self.read_end, self.write_end = os.pipe()
        os.set_blocking(self.read_end, False)

    def sent_after_start(self) -> None:
        os.close(self.write_end)  # the child holds its own copy

    def received(self) -> bool:
        try:
            return bool(os.read(self.read_end, 4096))
        except BlockingIOError:
            return False
        finally:
            os.close(self.read_end)


@dataclass(frozen=True)
class _Launch:
    argv: list[str]
    cwd: Path | None
    environment: dict[str, str]
    isolated: bool  # under bubblewrap (which drops the uid itself, through setpriv)
    info: _StartSignal | None = None


class ProcessSandbox:
    def __init__(
        self,
        *,
        uid: int = NOBODY,
        gid: int = NOBODY,
        python: Path = Path(sys.executable),
        python_roots: tuple[Path, ...] = (Path(sys.prefix), Path(sys.base_prefix)),
        bwrap: str | None = shutil.which("bwrap"),
        allow_fallback: bool = True,
        cgroup_v2_parent: Path | None = None,
    ) -> None:
        """``uid``/``gid``: whom the model runs as when the worker is root. Use one uid per
        concurrent worker slot: RLIMIT_NPROC counts a uid's processes across the host."""
        self._uid, self._gid = (uid, gid) if os.geteuid() == 0 else (os.getuid(), os.getgid())
        self._python, self._python_roots = python, python_roots
        self._bwrap, self._allow_fallback = bwrap, allow_fallback
        self._cgroup_v2_parent = cgroup_v2_parent

    @functools.cached_property
    def isolation_problem(self) -> str | None:
        """Why bubblewrap cannot isolate a run here, or None when it can.

        Probed once by running the real command line with ``python -c pass``, so that a host
        which forbids namespaces (AppArmor userns restriction, a seccomp-confined container) is
        found before any model runs.
        """
        if self._bwrap is None:
            return "bubblewrap (bwrap) is not installed"
        if os.geteuid() == 0 and shutil.which("setpriv") is None:
            return "setpriv (util-linux) is not installed"
        with tempfile.TemporaryDirectory(prefix="huiyan-probe-") as scratch:
            folders = [Path(scratch, name) for name in ("bundle", "input", "output")]
            for folder in folders:
                folder.mkdir()
            prepare_output_dir(folders[2], self._uid, self._gid)
            (folders[0] / BUNDLE_ENTRY).write_text("")
            argv = self._bwrap_argv(*folders, Limits(tmp_bytes=1 << 20, shm_bytes=1 << 20))
            try:
                probe = subprocess.run(
                    argv, env=_LAUNCHER_ENV, capture_output=True, timeout=30, check=False
                )
            except (OSError, subprocess.TimeoutExpired) as error:
                return f"bubblewrap failed to start: {error}"
        if probe.returncode != 0:
            why = probe.stderr.decode(errors="replace").strip()
            return f"bubblewrap cannot create the sandbox here: {why}"
        return None

    def run(
        self,
        bundle: Path | ImageRef,
        input_dir: Path,
        output_dir: Path,
        limits: Limits,
        extra_inputs: Mapping[str, Path] | None = None,
    ) -> RunResult:
        """``extra_inputs``: more read-only folders, each at ``/<name>`` inside and named by
        the variable ``HUIYAN_<NAME>`` (the scorer reads a run's output and a truth this way)."""
        bundle = _checked_bundle(bundle)
        if not input_dir.is_dir():
            raise SandboxError(f"input folder {input_dir} is not a directory")
        if limits.gpu is not None and not limits.gpu.isdigit():
            raise SandboxError(f"the process backend pins a GPU by index, got {limits.gpu!r}")
        prepare_output_dir(output_dir, self._uid, self._gid)
        warnings: list[str] = []
        launch = self._launch(bundle, input_dir, output_dir, limits, warnings, extra_inputs or {})
        cgroup, why = JobCgroup.create(
            memory_bytes=limits.memory_bytes, pids=limits.pids, v2_parent=self._cgroup_v2_parent
        )
        if why:
            memory = "RLIMIT_AS" if limits.gpu is None else "nothing (RLIMIT_AS breaks CUDA)"
            _warn(warnings, f"{why}: memory is limited by {memory}; peak RAM is ru_maxrss")
        gpu = GpuMemoryProbe(limits.gpu)
        if gpu.warning:
            warnings.append(gpu.warning)
        try:
            return self._supervise(launch, limits, cgroup, gpu, output_dir, warnings)
        finally:
            gpu.close()
            if cgroup is not None:
                cgroup.remove()

    def _launch(
        self,
        bundle: Path,
        input_dir: Path,
        output_dir: Path,
        limits: Limits,
        warnings: list[str],
        extra_inputs: Mapping[str, Path],
    ) -> _Launch:
        problem = self.isolation_problem
        if problem is None:
            signal_ = _StartSignal()
            argv = self._bwrap_argv(
                bundle, input_dir, output_dir, limits, signal_.write_end, extra_inputs
            )
            return _Launch(argv, None, _LAUNCHER_ENV, isolated=True, info=signal_)
        if not self._allow_fallback:
            raise SandboxError(f"refusing to run without isolation: {problem}")
        _warn(
            warnings,
            f"{problem}; running the bundle WITHOUT namespaces: it can read the host's "
            "files, use the network and outlive the run through setsid() where no cgroup "
            f"holds it (uid {self._uid}, rlimits and the wall clock still apply)",
        )
        environment = model_environment(_gpu_variables(limits.gpu))
        environment.update(HUIYAN_INPUT=str(input_dir), HUIYAN_OUTPUT=str(output_dir))
        environment.update({_variable(name): str(path) for name, path in extra_inputs.items()})
        return _Launch([str(self._python), BUNDLE_ENTRY], bundle, environment, isolated=False)

    def _bwrap_argv(
        self,
        bundle: Path,
        input_dir: Path,
        output_dir: Path,
        limits: Limits,
        info_fd: int | None = None,
        extra_inputs: Mapping[str, Path] | None = None,
    ) -> list[str]:
        extra = extra_inputs or {}
        environment = model_environment(_gpu_variables(limits.gpu))
        environment.update({_variable(name): f"/{name}" for name in extra})
        layout = Layout(
            bundle=bundle,
            input_dir=input_dir,
            output_dir=output_dir,
            python=self._python,
            python_roots=self._python_roots,
            tmp_bytes=limits.tmp_bytes,
            shm_bytes=limits.shm_bytes,
            uid=self._uid,
            gid=self._gid,
            environment=environment,
            gpu_node=None if limits.gpu is None else device_node(limits.gpu),
            info_fd=info_fd,
            extra_inputs=tuple((path, f"/{name}") for name, path in extra.items()),
        )
        setpriv = shutil.which("setpriv") if os.geteuid() == 0 else None
        assert self._bwrap is not None
        return bwrap_command(layout, bwrap=self._bwrap, setpriv=setpriv)

    def _supervise(
        self,
        launch: _Launch,
        limits: Limits,
        cgroup: JobCgroup | None,
        gpu: GpuMemoryProbe,
        output_dir: Path,
        warnings: list[str],
    ) -> RunResult:
        root = os.geteuid() == 0
        confine = confinement_argv(
            limits,
            cgroup_procs=cgroup.procs_files() if cgroup else (),
            address_space=limits.memory_bytes if cgroup is None and limits.gpu is None else None,
            own_uid=root,
            drop_to=(self._uid, self._gid) if root and not launch.isolated else None,
        )
        started = time.monotonic()
        child = subprocess.Popen(
            [*confine, *launch.argv],
            cwd=launch.cwd,
            env=launch.environment,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # one process group to kill, away from the worker's
            pass_fds=() if launch.info is None else (launch.info.write_end,),
        )
        if launch.info is not None:
            launch.info.sent_after_start()
        capped = CappedLog(limits.log_bytes)
        status, usage, timed_out = _watch(
            child, capped, gpu, started + limits.wall_seconds, lambda: _kill_tree(child, cgroup)
        )
        child.returncode = exit_code = os.waitstatus_to_exitcode(status)
        wall_seconds = time.monotonic() - started
        if launch.info is not None and not launch.info.received() and not timed_out:
            _kill_tree(child, cgroup)
            child.stdout.close()
            first = capped.value().decode(errors="replace").strip().splitlines()[:1]
            raise SandboxError(
                f"the sandbox failed before the model started (exit {exit_code}): "
                f"{first[0] if first else 'no message'}"
            )
        _drain(child.stdout.fileno(), capped)
        _kill_tree(child, cgroup)  # stragglers of a fallback run; nothing is left under bwrap
        child.stdout.close()

        outputs, violation = collect_outputs(
            output_dir, max_bytes=limits.output_bytes, max_files=limits.output_files
        )
        if cgroup is not None:
            peak_ram, out_of_memory = cgroup.peak_memory(), cgroup.oom_kills() > 0
        else:
            peak_ram = usage.ru_maxrss * 1024
            out_of_memory = exit_code != 0 and b"MemoryError" in capped.value()
        return RunResult(
            outcome=judge(
                exit_code, timed_out=timed_out, out_of_memory=out_of_memory, violation=violation
            ),
            exit_code=exit_code,
            wall_seconds=wall_seconds,
            peak_ram_bytes=peak_ram,
            peak_gpu_bytes=gpu.peak,
            log=capped.value(),
            log_truncated=capped.truncated,
            outputs=outputs,
            violation=violation,
            warnings=tuple(warnings),
        )


def confinement_argv(
    limits: Limits,
    *,
    cgroup_procs: tuple[str, ...],
    address_space: int | None,
    own_uid: bool,
    drop_to: tuple[int, int] | None,
) -> list[str]:
    """The helper programs that confine the child before it execs the run, as an argv
    prefix: ``sh`` moves itself into the job's cgroup, ``prlimit`` sets the rlimits, and for
    a fallback run ``setpriv`` drops the uid (bubblewrap runs drop it themselves). Nothing
    runs in the worker between fork and exec (no ``preexec_fn``), so a thread in the worker
    (the RQ heartbeat) can never deadlock the child.

    RLIMIT_NPROC counts every process of the uid on the host, so it is set only when the model
    has a uid of its own (``own_uid``; each run leases one, workers/sandbox/uids.py). It binds
    once the uid is not root.
    """
    prefix: list[str] = []
    if cgroup_procs:
        joins = " && ".join(f"echo $$ > {shlex.quote(procs)}" for procs in cgroup_procs)
        prefix += ["/bin/sh", "-c", f'{joins} && exec "$@"', "huiyan-join-cgroup"]
    cpu = limits.cpu_seconds
    prefix += [
        _PRLIMIT,
        f"--cpu={cpu}:{cpu + 1}",
        f"--fsize={limits.output_bytes}",
        f"--nofile={limits.open_files}",
        "--core=0",
    ]
    if own_uid:
        prefix.append(f"--nproc={limits.pids}")
    if address_space is not None:
        prefix.append(f"--as={address_space}")
    prefix.append("--")
    if drop_to is not None:
        uid, gid = drop_to
        prefix += [_SETPRIV, f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "--"]
    return prefix


def _watch(
    child: subprocess.Popen, capped: CappedLog, gpu: GpuMemoryProbe, deadline: float, kill
) -> tuple[int, resource.struct_rusage, bool]:
    """Stream the log and sample the GPU until the child exits or the deadline passes.

    Returns (wait status, resource usage, timed out). A pidfd wakes us the moment the child
    exits, so a short run pays no polling delay.
    """
    pipe = child.stdout.fileno()
    exited = os.pidfd_open(child.pid)
    watched = [pipe, exited]
    try:
        while (remaining := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select(watched, [], [], min(_SAMPLE_SECONDS, remaining))
            if pipe in ready and not _read(pipe, capped):
                watched.remove(pipe)
            gpu.sample()
            if exited in ready:
                _, status, usage = os.wait4(child.pid, 0)
                return status, usage, False
        kill()
        _, status, usage = os.wait4(child.pid, 0)
        return status, usage, True
    finally:
        os.close(exited)


def _drain(pipe: int, capped: CappedLog) -> None:
    """Read what is still in the pipe; a straggler holding it open gets _DRAIN_SECONDS."""
    until = time.monotonic() + _DRAIN_SECONDS
    while (left := until - time.monotonic()) > 0:
        ready, _, _ = select.select([pipe], [], [], left)
        if ready and not _read(pipe, capped):
            return


def _read(pipe: int, capped: CappedLog) -> bool:
    """Move one chunk of what the model printed into the log; False at end of file."""
    chunk = os.read(pipe, _READ_BYTES)
    capped.feed(chunk)
    return bool(chunk)


def _kill_tree(child: subprocess.Popen, cgroup: JobCgroup | None) -> None:
    """SIGKILL the process group (under bwrap: the monitors, whose death takes the model's pid
    namespace with it), then every process left in the cgroup (a setsid() escapee)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.pid, signal.SIGKILL)
    if cgroup is not None:
        cgroup.kill_all()


def _checked_bundle(bundle: Path | ImageRef) -> Path:
    if isinstance(bundle, ImageRef):
        raise SandboxError("the process backend runs bundle folders; use docker for images")
    entry = bundle / BUNDLE_ENTRY
    if not entry.is_file() or entry.is_symlink():
        raise SandboxError(f"bundle {bundle} has no regular file {BUNDLE_ENTRY}")
    return bundle


_TAKEN = {"input", "output", "bundle", "tmp", "proc", "dev", "etc", "usr", "bin", "lib", "sbin"}


def _variable(name: str) -> str:
    if not name.isidentifier() or not name.islower() or name in _TAKEN:
        raise SandboxError(f"an extra input needs a lower-case name of its own, not {name!r}")
    return f"HUIYAN_{name.upper()}"


def _gpu_variables(gpu: str | None) -> dict[str, str]:
    if gpu is None:
        return {"CUDA_VISIBLE_DEVICES": ""}
    # only the GPU's own /dev/nvidiaN exists inside (gpu.device_node); PCI order makes CUDA's
    # numbering agree with NVML's
    return {"CUDA_DEVICE_ORDER": "PCI_BUS_ID", "CUDA_VISIBLE_DEVICES": gpu}


def _warn(warnings: list[str], message: str) -> None:
    log.warning(message)
    warnings.append(message)
