"""Which /dev/nvidiaN the process sandbox binds for the GPU it was given: the device's minor
number from NVML, never the index itself. A container or pod given the host's fourth GPU sees
it as index 0, and its node is still /dev/nvidia3; binding /dev/nvidia0 would leave the model
without its GPU. There is no GPU here: NVML is stood in for by a module of the same calls."""

from __future__ import annotations

import sys
from types import SimpleNamespace

import pytest

from workers.sandbox.bwrap import Layout, bwrap_command
from workers.sandbox.gpu import device_node


class NvmlFailure(Exception):
    pass


def fake_nvml(minors: dict[str, int], *, driver: bool = True) -> SimpleNamespace:
    """NVML on a node whose visible GPUs have these minor numbers, by index and by UUID."""

    def init() -> None:
        if not driver:
            raise NvmlFailure("NVML Shared Library Not Found")

    def handle(key: str) -> str:
        if key not in minors:
            raise NvmlFailure("Invalid Argument")
        return key

    return SimpleNamespace(
        nvmlInit=init,
        nvmlShutdown=lambda: None,
        nvmlDeviceGetHandleByIndex=lambda index: handle(str(index)),
        nvmlDeviceGetHandleByUUID=handle,
        nvmlDeviceGetMinorNumber=lambda key: minors[key],
    )


def test_a_pod_given_the_fourth_gpu_binds_its_own_node(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", fake_nvml({"0": 3, "GPU-4f1c": 3}))
    assert device_node("0") == "/dev/nvidia3"
    assert device_node("GPU-4f1c") == "/dev/nvidia3"


@pytest.mark.parametrize("nvml", [fake_nvml({}, driver=False), fake_nvml({"0": 0})])
def test_without_a_driver_or_a_known_gpu_the_index_is_the_guess(monkeypatch, nvml) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", nvml)
    assert device_node("1") == "/dev/nvidia1"


def test_the_sandbox_binds_the_node_it_is_given_and_no_other(tmp_path, monkeypatch) -> None:
    node = tmp_path / "nvidia3"
    node.touch()  # bwrap_command binds only the nodes that exist
    layout = Layout(bundle=tmp_path, input_dir=tmp_path, output_dir=tmp_path,
                    python=tmp_path / "python", python_roots=(), tmp_bytes=1, shm_bytes=1,
                    uid=65534, gid=65534, environment={}, gpu_node=str(node))  # fmt: skip
    argv = bwrap_command(layout, bwrap="bwrap", setpriv=None)
    bound = [argv[i + 1] for i, arg in enumerate(argv) if arg == "--dev-bind"]
    assert str(node) in bound
    assert not any(path.startswith("/dev/nvidia0") for path in bound)
