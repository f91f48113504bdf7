"""Peak GPU memory of a run, from NVML (nvidia-ml-py).

Each job gets one whole GPU (or MIG instance) pinned to it, because cgroups cannot limit GPU
memory. So the device's own "used" counter, less what was in use when the run started, is the
job's usage; sampling it needs no knowledge of the container's pid namespace.
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def device_node(gpu: str) -> str:
    """The ``/dev/nvidiaN`` node of the GPU that CUDA and NVML call ``gpu`` (an index or a
    UUID). N is the device's minor number, not its index: a container or pod given one GPU
    sees it as index 0 while its node keeps the host's number (``/dev/nvidia3``), and even on a
    bare host the two orders may differ. Without NVML (no driver: a CPU host) the index is the
    only guess there is."""
    try:
        import pynvml

        pynvml.nvmlInit()
    except Exception:  # NVML raises its own error tree; any failure means "no driver here"
        return f"/dev/nvidia{gpu}"
    try:
        handle = (
            pynvml.nvmlDeviceGetHandleByIndex(int(gpu))
            if gpu.isdigit()
            else pynvml.nvmlDeviceGetHandleByUUID(gpu)
        )
        return f"/dev/nvidia{pynvml.nvmlDeviceGetMinorNumber(handle)}"
    except Exception:  # an index or UUID this driver does not know
        return f"/dev/nvidia{gpu}"
    finally:
        pynvml.nvmlShutdown()


class GpuMemoryProbe:
    def __init__(self, device: str | None) -> None:
        """``device`` is None on CPU-only runs; the probe then reports None."""
        self._handle = None
        self._baseline = 0
        self._peak: int | None = None
        self.warning: str | None = None
        if device is None:
            return
        try:
            import pynvml

            pynvml.nvmlInit()
            self._handle = (
                pynvml.nvmlDeviceGetHandleByIndex(int(device))
                if device.isdigit()
                else pynvml.nvmlDeviceGetHandleByUUID(device)
            )
            self._baseline = pynvml.nvmlDeviceGetMemoryInfo(self._handle).used
            self._peak = 0
        except Exception as error:  # NVML raises its own error tree; any failure means "unknown"
            self.warning = f"peak GPU memory not measured: NVML unavailable for {device} ({error})"
            log.warning(self.warning)
            self._handle = None

    def sample(self) -> None:
        if self._handle is None:
            return
        import pynvml

        used = pynvml.nvmlDeviceGetMemoryInfo(self._handle).used
        self._peak = max(self._peak or 0, used - self._baseline)

    @property
    def peak(self) -> int | None:
        return self._peak

    def close(self) -> None:
        if self._handle is not None:
            import pynvml

            pynvml.nvmlShutdown()
            self._handle = None
