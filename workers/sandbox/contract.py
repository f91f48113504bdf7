"""What every sandbox backend promises: the limits it enforces and the result it reports.

A backend runs one untrusted submission once. The model sees the contract of SCORING.md §1:
``/input`` (read-only), ``/output`` (the only writable place besides a sized ``/tmp``) and the
variables ``HUIYAN_INPUT`` and ``HUIYAN_OUTPUT``. The worker only ever learns what the run did
through a ``RunResult``; nothing the model prints or writes is trusted before output
collection has checked it.
"""

from __future__ import annotations

import re
import signal
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Literal, Protocol

MODEL_INPUT = "/input"
MODEL_OUTPUT = "/output"
MODEL_BUNDLE = "/bundle"
BUNDLE_ENTRY = "predict.py"

Outcome = Literal["completed", "timeout", "out_of_memory", "crashed", "sandbox_violation"]

MiB = 1 << 20
GiB = 1 << 30


class SandboxError(Exception):
    """The sandbox could not start the run at all (bad arguments, missing isolation).

    A run that started and then misbehaved is not an error: it is a ``RunResult``.
    """


@dataclass(frozen=True)
class Limits:
    """Resources one run may use. Defaults suit a full-size inference job on one GPU."""

    wall_seconds: float = 3600.0
    cpu_seconds: int = 4 * 3600
    memory_bytes: int = 16 * GiB
    tmp_bytes: int = 1 * GiB
    shm_bytes: int = 2 * GiB  # /dev/shm, which PyTorch data loaders need
    pids: int = 256
    open_files: int = 1024
    output_bytes: int = 2 * GiB
    output_files: int = 10_000
    log_bytes: int = 1 * MiB
    cpus: float = 4.0
    gpu: str | None = None  # the one device we pin: an index ("0") or an NVML UUID

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if field.name != "gpu" and not value > 0:
                raise ValueError(f"Limits.{field.name} must be positive, got {value!r}")
        if self.gpu is not None and not re.fullmatch(r"\d+|(GPU|MIG)-[0-9A-Za-z-]+", self.gpu):
            raise ValueError(f"Limits.gpu must be a device index or an NVML UUID, got {self.gpu!r}")


@dataclass(frozen=True)
class ImageRef:
    """An OCI image pinned by digest (``name@sha256:...``) or by image id (``sha256:...``):
    a tag can be moved after the submission was signed, a digest cannot."""

    reference: str

    def __post_init__(self) -> None:
        if not re.fullmatch(r"([^@\s]+@)?sha256:[0-9a-f]{64}", self.reference):
            raise ValueError(
                "image reference must be pinned by digest (name@sha256:<64 hex>) or be an "
                f"image id (sha256:<64 hex>), got {self.reference!r}"
            )


@dataclass(frozen=True)
class CollectedFile:
    path: str  # relative to the output folder, '/'-separated
    size: int
    sha256: str


@dataclass(frozen=True)
class RunResult:
    outcome: Outcome
    exit_code: int | None  # negative: killed by that signal
    wall_seconds: float
    peak_ram_bytes: int | None
    peak_gpu_bytes: int | None
    log: bytes  # stdout and stderr interleaved, at most Limits.log_bytes
    log_truncated: bool
    outputs: tuple[CollectedFile, ...]  # empty unless output collection accepted the folder
    violation: str | None = None
    warnings: tuple[str, ...] = ()  # weakened isolation, recorded so that nobody assumes more


class Sandbox(Protocol):
    def run(
        self, bundle: Path | ImageRef, input_dir: Path, output_dir: Path, limits: Limits
    ) -> RunResult: ...


def judge(
    exit_code: int | None, *, timed_out: bool, out_of_memory: bool, violation: str | None
) -> Outcome:
    """One outcome per run. A violation outranks everything: it is evidence of hostility,
    whatever else happened. Exceeding the CPU-time rlimit (SIGXCPU) is a timeout too."""
    if violation is not None:
        return "sandbox_violation"
    if timed_out or exit_code in (-signal.SIGXCPU, 128 + signal.SIGXCPU):
        return "timeout"
    if out_of_memory:
        return "out_of_memory"
    return "completed" if exit_code == 0 else "crashed"


def model_environment(gpu_variables: dict[str, str]) -> dict[str, str]:
    """The whole environment a model gets: nothing of the worker's is inherited."""
    return {
        "HUIYAN_INPUT": MODEL_INPUT,
        "HUIYAN_OUTPUT": MODEL_OUTPUT,
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": "/tmp",
        "TMPDIR": "/tmp",
        "USER": "model",
        "LOGNAME": "model",
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",  # the bundle is read-only
        "PYTHONUNBUFFERED": "1",  # so that a killed model's last words reach the log
        "MPLCONFIGDIR": "/tmp",
        **gpu_variables,
    }
