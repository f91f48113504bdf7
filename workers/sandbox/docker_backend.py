"""The ``docker`` backend (production): one hardened container per run, via the Docker SDK.

The container configuration is a pure function (``container_kwargs``) so that every hardening
flag can be checked without an engine. The supervisor keeps its own wall clock:
``container.wait(timeout=)`` is only the HTTP read timeout of the API call, not a limit on the
container, so a run past its deadline is ``kill()``-ed, and every container is removed with
its anonymous volumes whatever happened.

The runtime is runc or gVisor's runsc, a kernel in user space between the model and the host
(``auto``: runsc wherever the engine offers it, unless a GPU is pinned). The log is read from a
stream attached before the container starts, so that the first ``log_bytes`` are kept and the
rest is read and dropped, as the process backend does; nothing is written to the engine's disk.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import requests
from docker.errors import APIError, ImageNotFound
from docker.types import DeviceRequest, LogConfig, Ulimit
from docker.utils.socket import frames_iter

from workers.sandbox.capped_log import CappedLog
from workers.sandbox.contract import (
    BUNDLE_ENTRY,
    MODEL_BUNDLE,
    MODEL_INPUT,
    MODEL_OUTPUT,
    ImageRef,
    Limits,
    RunResult,
    SandboxError,
    judge,
    model_environment,
)
from workers.sandbox.gpu import GpuMemoryProbe
from workers.sandbox.images import STACK_RUNNER, refuse_unsafe_image
from workers.sandbox.outputs import collect_outputs, prepare_output_dir

log = logging.getLogger(__name__)

NOBODY = 65534
AUTO = "auto"
#: gVisor's own sentry and gofer threads count in the container's pids cgroup (42 of them on
#: an idle run here); without room for them a run that forks dies with the sandbox (exit 2)
RUNSC_PIDS_HEADROOM = 128
_POLL_SECONDS = 0.25
_LOG_DRAIN_SECONDS = 5.0
_WAIT_ERRORS = (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError)


def container_kwargs(
    bundle: Path | ImageRef,
    input_dir: Path,
    output_dir: Path,
    limits: Limits,
    *,
    user: str = f"{NOBODY}:{NOBODY}",
    runner_image: ImageRef | None = None,
    runtime: str | None = None,
) -> dict[str, Any]:
    """Everything passed to ``client.containers.create``.

    An image runs its own entrypoint; a bundle folder runs in ``runner_image`` (the stock
    runner with the contest's Python stack), mounted read-only at /bundle. ``runtime`` selects
    e.g. gVisor ("runsc"; GPUs then need ``runsc --nvproxy``).
    """
    volumes = {
        str(input_dir): {"bind": MODEL_INPUT, "mode": "ro"},
        str(output_dir): {"bind": MODEL_OUTPUT, "mode": "rw"},
    }
    if isinstance(bundle, ImageRef):
        image, command, working_dir = bundle.reference, None, None
    elif runner_image is None:
        raise SandboxError("a bundle folder runs in the stock runner: give runner_image")
    else:
        volumes[str(bundle)] = {"bind": MODEL_BUNDLE, "mode": "ro"}
        image, command, working_dir = runner_image.reference, ["python", BUNDLE_ENTRY], MODEL_BUNDLE
    gpu_variables = {
        # set by us whatever the image says (CUDA images default to "all"); "void" makes
        # the NVIDIA runtime expose no GPU and no driver at all
        "NVIDIA_VISIBLE_DEVICES": limits.gpu if limits.gpu is not None else "void",
        "NVIDIA_DRIVER_CAPABILITIES": "compute,utility",
    }
    # the process backend's environment, but the image keeps its own PATH
    environment = {k: v for k, v in model_environment(gpu_variables).items() if k != "PATH"}
    pids = limits.pids + (RUNSC_PIDS_HEADROOM if runtime == "runsc" else 0)
    kwargs: dict[str, Any] = {
        "image": image,
        "command": command,
        "working_dir": working_dir,
        "network_mode": "none",
        "network_disabled": True,
        "read_only": True,
        "tmpfs": {"/tmp": f"rw,noexec,nosuid,nodev,size={limits.tmp_bytes}"},
        "shm_size": limits.shm_bytes,
        "volumes": volumes,
        "user": user,
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges"],
        "pids_limit": pids,
        "mem_limit": limits.memory_bytes,
        "memswap_limit": limits.memory_bytes,  # equal: no swap
        "nano_cpus": int(limits.cpus * 1e9),
        "ulimits": [
            Ulimit(name="nofile", soft=limits.open_files, hard=limits.open_files),
            Ulimit(name="fsize", soft=limits.output_bytes, hard=limits.output_bytes),
            Ulimit(name="cpu", soft=limits.cpu_seconds, hard=limits.cpu_seconds + 1),
            Ulimit(name="core", soft=0, hard=0),
        ],
        "environment": environment,
        # the log is read from the attached stream (head kept, the rest dropped), never
        # written to the engine's disk, where a flood would fill it
        "log_config": LogConfig(type=LogConfig.types.NONE),
        "init": True,  # tini as pid 1 reaps zombies and forwards our signals
        "ipc_mode": "private",
        "labels": {"huiyan.sandbox": "run"},
    }
    if limits.gpu is not None:
        kwargs["device_requests"] = [DeviceRequest(device_ids=[limits.gpu], capabilities=[["gpu"]])]
    if runtime is not None:
        kwargs["runtime"] = runtime
    return kwargs


@dataclass(frozen=True)
class EngineFacts:
    runtimes: frozenset[str]
    cpus: int

    @classmethod
    def of(cls, client: Any) -> EngineFacts:
        info = client.info()
        return cls(frozenset(info.get("Runtimes") or ()), int(info.get("NCPU") or 1))


def choose_runtime(requested: str | None, facts: EngineFacts, gpu: str | None) -> str | None:
    """The runtime a run uses. ``auto`` is runsc where the engine offers it, unless a GPU is
    pinned (this gVisor is not configured to pass GPUs through), else runc; ``None`` leaves it
    to the engine's default. A runtime asked for by name must be offered."""
    if requested == AUTO:
        return "runsc" if "runsc" in facts.runtimes and gpu is None else "runc"
    if requested is not None and requested not in facts.runtimes:
        offered = ", ".join(sorted(facts.runtimes)) or "none"
        raise SandboxError(
            f"the Docker engine offers no runtime {requested!r} (it offers {offered})"
        )
    return requested


class DockerSandbox:
    def __init__(
        self,
        client: Any,
        *,
        uid: int = NOBODY,
        gid: int = NOBODY,
        runner_image: ImageRef | str = STACK_RUNNER,
        runtime: str | None = AUTO,
    ) -> None:
        """``client`` is a ``docker.DockerClient`` (e.g. ``docker.from_env(timeout=60)``).

        ``runner_image`` runs bundle folders: pinned (``ImageRef``), or a local tag resolved to
        its image id for each run. ``runtime`` is "runc", "runsc", ``AUTO`` or ``None`` (the
        engine's default); see ``choose_runtime``.
        """
        self._client, self._uid, self._gid = client, uid, gid
        self._runner_image, self._runtime = runner_image, runtime
        self._facts: EngineFacts | None = None

    def runtime_for(self, limits: Limits) -> str | None:
        """The runtime a run with these limits gets on this engine."""
        return choose_runtime(self._runtime, self._engine(), limits.gpu)

    def _engine(self) -> EngineFacts:
        if self._facts is None:
            self._facts = EngineFacts.of(self._client)
        return self._facts

    def run(
        self, bundle: Path | ImageRef, input_dir: Path, output_dir: Path, limits: Limits
    ) -> RunResult:
        runtime = self.runtime_for(limits)
        # the engine refuses more CPUs than its host has
        limits = replace(limits, cpus=min(limits.cpus, self._engine().cpus))
        if isinstance(bundle, ImageRef):
            bundle, runner = self._checked_image(bundle.reference), None
        else:
            wanted = self._runner_image
            runner = self._checked_image(wanted if isinstance(wanted, str) else wanted.reference)
        kwargs = container_kwargs(
            bundle,
            input_dir,
            output_dir,
            limits,
            user=f"{self._uid}:{self._gid}",
            runner_image=runner,
            runtime=runtime,
        )
        prepare_output_dir(output_dir, self._uid, self._gid)
        with contextlib.ExitStack() as cleanup:  # in reverse: log stream, container, NVML
            gpu = GpuMemoryProbe(limits.gpu)
            cleanup.callback(gpu.close)
            container = self._client.containers.create(**kwargs)
            cleanup.callback(container.remove, force=True, v=True)
            reader = _LogReader(self._client, container, limits.log_bytes)
            cleanup.callback(reader.close)
            started = time.monotonic()
            container.start()
            memory = _MemorySampler(container)
            exit_code, timed_out = _supervise(container, limits, gpu, started)
            wall_seconds = time.monotonic() - started
            peak_ram = memory.finish()
            reader.finish()
            container.reload()
            out_of_memory = bool(container.attrs["State"].get("OOMKilled"))
        if out_of_memory:  # killed because it reached the limit, whatever the last sample saw
            peak_ram = max(peak_ram or 0, limits.memory_bytes)
        outputs, violation = collect_outputs(
            output_dir, max_bytes=limits.output_bytes, max_files=limits.output_files
        )
        warnings = tuple(w for w in (gpu.warning, reader.problem) if w)
        return RunResult(
            outcome=judge(
                exit_code, timed_out=timed_out, out_of_memory=out_of_memory, violation=violation
            ),
            exit_code=exit_code,
            wall_seconds=wall_seconds,
            peak_ram_bytes=peak_ram,
            peak_gpu_bytes=gpu.peak,
            log=reader.log.value(),
            log_truncated=reader.log.truncated,
            outputs=outputs,
            violation=violation,
            warnings=warnings,
        )

    def _checked_image(self, reference: str) -> ImageRef:
        """The image's id, after its configuration passed the checks: the container is made
        from exactly the image that was inspected, even if a tag moves meanwhile."""
        try:
            image = self._client.images.get(reference)
        except ImageNotFound:
            ours = reference.startswith("huiyan/")
            hint = " (deploy/sandbox-images.sh builds it)" if ours else ""
            raise SandboxError(f"image {reference} is not on this Docker engine{hint}") from None
        refuse_unsafe_image(image.attrs["Config"])
        return ImageRef(image.id)


class _LogReader:
    """Reads the container's stdout and stderr from a stream attached before it starts: the
    first ``cap`` bytes are kept, the rest read and dropped (a reader that stopped would
    stall the model on a full pipe)."""

    def __init__(self, client: Any, container: Any, cap: int) -> None:
        self.log = CappedLog(cap)
        self.problem: str | None = None
        params = {"stdout": 1, "stderr": 1, "stream": 1}
        self._socket = client.api.attach_socket(container.id, params=params)
        for candidate in (self._socket, getattr(self._socket, "_sock", None)):
            if hasattr(candidate, "settimeout"):
                candidate.settimeout(None)  # a model may be silent for longer than the client's
        self._thread = threading.Thread(target=self._read, name="docker-log", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            for _, chunk in frames_iter(self._socket, tty=False):
                self.log.feed(chunk)
        except (OSError, ValueError) as error:  # the stream was closed under us
            self.problem = f"the log stream broke off: {error}"

    def finish(self) -> None:
        """After the container stopped: the stream ends by itself; wait for its last bytes."""
        self._thread.join(_LOG_DRAIN_SECONDS)
        if self._thread.is_alive():
            self.problem = "the log stream did not end with the container"
        self.close()

    def close(self) -> None:
        for candidate in (getattr(self._socket, "_sock", None), self._socket):
            if hasattr(candidate, "close"):
                candidate.close()


def _supervise(
    container: Any, limits: Limits, gpu: GpuMemoryProbe, started: float
) -> tuple[int, bool]:
    """Wait for the container in short HTTP waits, sampling the GPU, until our deadline.

    Returns (exit code, timed out). The exit code of a killed container is reported as -9
    (SIGKILL), as the process backend does.
    """
    deadline = started + limits.wall_seconds
    while (remaining := deadline - time.monotonic()) > 0:
        gpu.sample()
        try:
            status = container.wait(timeout=max(0.05, min(_POLL_SECONDS, remaining)))
        except _WAIT_ERRORS:
            continue
        return status["StatusCode"], False
    try:
        container.kill()
    except APIError as error:  # it ended between our last wait and the kill
        log.debug("kill of %s: %s", container.id, error)
    return -9, True


class _MemorySampler:
    """Follows the engine's stats stream (one sample a second) in a thread of its own, so that
    a slow sample never delays noticing the end of the run. The peak is the cgroup's own
    (v1 ``max_usage``) as of the last sample, else the highest usage seen; a run shorter than
    a sample may have none."""

    def __init__(self, container: Any) -> None:
        self.peak: int | None = None
        self._container = container
        self._thread = threading.Thread(target=self._follow, name="docker-stats", daemon=True)
        self._thread.start()

    def _follow(self) -> None:
        try:
            for stats in self._container.stats(stream=True, decode=True):
                memory = stats.get("memory_stats") or {}
                self.peak = _max(self.peak, memory.get("max_usage") or memory.get("usage"))
        except Exception as error:  # the stream ends with the container; the SDK raises kinds
            log.debug("stats of %s ended: %s", self._container.id, error)

    def finish(self) -> int | None:
        """The peak so far; the thread ends by itself when the container is removed."""
        return self.peak


def _max(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else max(a, b)
