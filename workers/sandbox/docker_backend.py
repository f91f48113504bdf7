"""The ``docker`` backend (production): one hardened container per run, via the Docker SDK.

The container configuration is a pure function (``container_kwargs``) so that every hardening
flag can be checked without an engine. The supervisor keeps its own wall clock:
``container.wait(timeout=)`` is only the HTTP read timeout of the API call, not a limit on the
container, so a run past its deadline is ``kill()``-ed, and every container is removed with
its anonymous volumes whatever happened.
"""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path
from typing import Any

import requests
from docker.types import DeviceRequest, LogConfig, Ulimit

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
)
from workers.sandbox.gpu import GpuMemoryProbe
from workers.sandbox.images import refuse_unsafe_image
from workers.sandbox.outputs import collect_outputs, prepare_output_dir

log = logging.getLogger(__name__)

NOBODY = 65534
_POLL_SECONDS = 1.0
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
    """Everything passed to ``client.containers.run``.

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
    kwargs: dict[str, Any] = {
        "image": image,
        "command": command,
        "working_dir": working_dir,
        "detach": True,  # never block inside the SDK; our own clock decides
        "network_mode": "none",
        "network_disabled": True,
        "read_only": True,
        "tmpfs": {"/tmp": f"rw,noexec,nosuid,nodev,size={limits.tmp_bytes}"},
        "shm_size": limits.shm_bytes,
        "volumes": volumes,
        "user": user,
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges"],
        "pids_limit": limits.pids,
        "mem_limit": limits.memory_bytes,
        "memswap_limit": limits.memory_bytes,  # equal: no swap
        "nano_cpus": int(limits.cpus * 1e9),
        "ulimits": [
            Ulimit(name="nofile", soft=limits.open_files, hard=limits.open_files),
            Ulimit(name="fsize", soft=limits.output_bytes, hard=limits.output_bytes),
            Ulimit(name="cpu", soft=limits.cpu_seconds, hard=limits.cpu_seconds + 1),
            Ulimit(name="core", soft=0, hard=0),
        ],
        "environment": {
            "HUIYAN_INPUT": MODEL_INPUT,
            "HUIYAN_OUTPUT": MODEL_OUTPUT,
            # set by us whatever the image says (CUDA images default to "all"); "void" makes
            # the NVIDIA runtime expose no GPU and no driver at all
            "NVIDIA_VISIBLE_DEVICES": limits.gpu if limits.gpu is not None else "void",
            "NVIDIA_DRIVER_CAPABILITIES": "compute,utility",
        },
        "log_config": LogConfig(
            type=LogConfig.types.JSON,
            config={"max-size": str(limits.log_bytes), "max-file": "1"},
        ),
        "init": True,  # tini as pid 1 reaps zombies and forwards our signals
        "ipc_mode": "private",
        "labels": {"huiyan.sandbox": "run"},
    }
    if limits.gpu is not None:
        kwargs["device_requests"] = [DeviceRequest(device_ids=[limits.gpu], capabilities=[["gpu"]])]
    if runtime is not None:
        kwargs["runtime"] = runtime
    return kwargs


class DockerSandbox:
    def __init__(
        self,
        client: Any,
        *,
        uid: int = NOBODY,
        gid: int = NOBODY,
        runner_image: ImageRef | None = None,
        runtime: str | None = None,
    ) -> None:
        """``client`` is a ``docker.DockerClient`` (e.g. ``docker.from_env(timeout=60)``)."""
        self._client, self._uid, self._gid = client, uid, gid
        self._runner_image, self._runtime = runner_image, runtime

    def run(
        self, bundle: Path | ImageRef, input_dir: Path, output_dir: Path, limits: Limits
    ) -> RunResult:
        image = bundle if isinstance(bundle, ImageRef) else self._runner_image
        kwargs = container_kwargs(
            bundle,
            input_dir,
            output_dir,
            limits,
            user=f"{self._uid}:{self._gid}",
            runner_image=self._runner_image,
            runtime=self._runtime,
        )
        refuse_unsafe_image(self._client.images.get(image.reference).attrs["Config"])
        prepare_output_dir(output_dir, self._uid, self._gid)
        gpu = GpuMemoryProbe(limits.gpu)
        started = time.monotonic()
        container = self._client.containers.run(**kwargs)
        try:
            exit_code, timed_out, peak_ram = _supervise(container, limits, gpu, started)
            wall_seconds = time.monotonic() - started
            container.reload()
            out_of_memory = bool(container.attrs["State"].get("OOMKilled"))
            capped = CappedLog(limits.log_bytes)
            for chunk in container.logs(stdout=True, stderr=True, stream=True):
                capped.feed(chunk)
                if capped.truncated:
                    break
        finally:
            container.remove(force=True, v=True)
            gpu.close()
        outputs, violation = collect_outputs(
            output_dir, max_bytes=limits.output_bytes, max_files=limits.output_files
        )
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
            warnings=(gpu.warning,) if gpu.warning else (),
        )


def _supervise(
    container: Any, limits: Limits, gpu: GpuMemoryProbe, started: float
) -> tuple[int | None, bool, int | None]:
    """Wait for the container in short HTTP waits, sampling memory, until our deadline.

    Returns (exit code, timed out, peak RAM). The exit code of a killed container is reported
    as -9 (SIGKILL), as the process backend does.
    """
    deadline = started + limits.wall_seconds
    peak_ram: int | None = None
    while (remaining := deadline - time.monotonic()) > 0:
        peak_ram = _max(peak_ram, _memory_usage(container))
        gpu.sample()
        try:
            status = container.wait(timeout=max(1, math.ceil(min(_POLL_SECONDS, remaining))))
        except _WAIT_ERRORS:
            continue
        return status["StatusCode"], False, peak_ram
    container.kill()
    return -9, True, peak_ram


def _memory_usage(container: Any) -> int | None:
    """The cgroup's peak where the engine reports it (v1 ``max_usage``), else current usage;
    sampled once per poll, so a spike between samples on a cgroup v2 host can be missed."""
    try:
        memory = container.stats(stream=False, one_shot=True).get("memory_stats") or {}
    except Exception as error:  # an exited container has no stats; the SDK raises several kinds
        log.debug("no stats for %s: %s", container.id, error)
        return None
    return memory.get("max_usage") or memory.get("usage")


def _max(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else max(a, b)
