"""The docker backend: the exact container configuration, the supervision of a run (through a
recording stand-in for the engine's client object, since no engine runs on the development
machines), the image checks, and one real-engine test that skips where there is no engine."""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from docker.models.containers import _create_container_args
from docker.types import DeviceRequest, LogConfig, Ulimit

from workers.sandbox.contract import ImageRef, Limits, MiB, SandboxError
from workers.sandbox.docker_backend import DockerSandbox, container_kwargs
from workers.sandbox.images import UnsafeImage, image_problems

HOSTILE = Path(__file__).parent / "hostile"
DIGEST = "sha256:" + "ab" * 32
IMAGE = ImageRef(f"registry.local/team42/model@{DIGEST}")
RUNNER = ImageRef(f"registry.local/huiyan/runner@sha256:{'cd' * 32}")
SAFE_CONFIG = {"User": "1000:1000", "Env": ["PATH=/usr/bin", "PYTHONUNBUFFERED=1"]}
LIMITS = Limits(
    wall_seconds=600,
    cpu_seconds=1200,
    memory_bytes=8 * 1024 * MiB,
    tmp_bytes=512 * MiB,
    shm_bytes=1024 * MiB,
    pids=128,
    open_files=512,
    output_bytes=64 * MiB,
    output_files=50,
    log_bytes=256 * 1024,
    cpus=2.5,
    gpu="3",
)


def test_container_configuration_closes_every_door(tmp_path):
    kwargs = container_kwargs(IMAGE, tmp_path / "in", tmp_path / "out", LIMITS, user="4242:4242")

    assert kwargs == {
        "image": IMAGE.reference,
        "command": None,
        "working_dir": None,
        "detach": True,
        "network_mode": "none",
        "network_disabled": True,
        "read_only": True,
        "tmpfs": {"/tmp": f"rw,noexec,nosuid,nodev,size={512 * MiB}"},
        "shm_size": 1024 * MiB,
        "volumes": {
            str(tmp_path / "in"): {"bind": "/input", "mode": "ro"},
            str(tmp_path / "out"): {"bind": "/output", "mode": "rw"},
        },
        "user": "4242:4242",
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges"],
        "pids_limit": 128,
        "mem_limit": 8 * 1024 * MiB,
        "memswap_limit": 8 * 1024 * MiB,
        "nano_cpus": 2_500_000_000,
        "ulimits": [
            Ulimit(name="nofile", soft=512, hard=512),
            Ulimit(name="fsize", soft=64 * MiB, hard=64 * MiB),
            Ulimit(name="cpu", soft=1200, hard=1201),
            Ulimit(name="core", soft=0, hard=0),
        ],
        "environment": {
            "HUIYAN_INPUT": "/input",
            "HUIYAN_OUTPUT": "/output",
            "NVIDIA_VISIBLE_DEVICES": "3",
            "NVIDIA_DRIVER_CAPABILITIES": "compute,utility",
        },
        "log_config": LogConfig(type="json-file", config={"max-size": "262144", "max-file": "1"}),
        "init": True,
        "ipc_mode": "private",
        "labels": {"huiyan.sandbox": "run"},
        "device_requests": [DeviceRequest(device_ids=["3"], capabilities=[["gpu"]])],
    }


def test_docker_py_turns_the_configuration_into_the_intended_engine_request(tmp_path):
    kwargs = container_kwargs(IMAGE, tmp_path / "in", tmp_path / "out", LIMITS, runtime="runsc")
    kwargs.pop("detach")  # consumed by run() before create

    create = _create_container_args({**kwargs, "version": "1.45"})

    host = create["host_config"]
    assert host["NetworkMode"] == "none"
    assert host["ReadonlyRootfs"] is True
    assert host["CapDrop"] == ["ALL"]
    assert host["SecurityOpt"] == ["no-new-privileges"]
    assert host["Memory"] == host["MemorySwap"] == 8 * 1024 * MiB
    assert host["PidsLimit"] == 128
    assert host["Init"] is True
    assert host["Runtime"] == "runsc"
    assert sorted(host["Binds"]) == sorted(
        [f"{tmp_path / 'in'}:/input:ro", f"{tmp_path / 'out'}:/output:rw"]
    )
    assert host["DeviceRequests"][0]["DeviceIDs"] == ["3"]
    assert create["network_disabled"] is True
    assert create["user"] == "65534:65534"


def test_cpu_only_runs_expose_no_gpu_to_the_nvidia_runtime(tmp_path):
    kwargs = container_kwargs(IMAGE, tmp_path, tmp_path, Limits())

    assert "device_requests" not in kwargs
    assert kwargs["environment"]["NVIDIA_VISIBLE_DEVICES"] == "void"


def test_bundle_folder_runs_read_only_in_the_runner_image(tmp_path):
    kwargs = container_kwargs(
        HOSTILE / "well_behaved", tmp_path, tmp_path, Limits(), runner_image=RUNNER
    )

    assert kwargs["image"] == RUNNER.reference
    assert kwargs["command"] == ["python", "predict.py"]
    assert kwargs["working_dir"] == "/bundle"
    assert kwargs["volumes"][str(HOSTILE / "well_behaved")] == {"bind": "/bundle", "mode": "ro"}
    with pytest.raises(SandboxError, match="give runner_image"):
        container_kwargs(HOSTILE / "well_behaved", tmp_path, tmp_path, Limits())


@pytest.mark.parametrize(
    ("config", "problem"),
    [
        ({"User": "", "Env": []}, "no USER (runs as root)"),
        ({"User": "root", "Env": []}, "image user is root: 'root'"),
        ({"User": "0:0", "Env": []}, "image user is root: '0:0'"),
        ({"User": "1000", "Env": ["LD_PRELOAD=/x.so"]}, "image environment sets LD_PRELOAD"),
        ({"User": "1000", "Env": ["NVIDIA_VISIBLE_DEVICES=all"]}, "sets NVIDIA_VISIBLE_DEVICES"),
    ],
)
def test_unsafe_image_configurations_are_named(config, problem):
    problems = image_problems(config)

    assert len(problems) == 1
    assert problem in problems[0]


def test_a_non_root_image_without_injected_variables_is_accepted():
    assert image_problems(SAFE_CONFIG) == []
    assert image_problems({"User": "model", "Env": None}) == []


class FakeContainer:
    """Records what the backend asks of a container; ``exits_after`` waits, or never."""

    id = "c0ffee"

    def __init__(
        self, *, exits_after: int | None, status: int = 0, oom: bool = False, logs: bytes = b""
    ) -> None:
        self.exits_after, self.status, self.oom, self._logs = exits_after, status, oom, logs
        self.calls: list[Any] = []
        self.on_exit = lambda: None

    def wait(self, timeout: float) -> dict[str, int]:
        self.calls.append("wait")
        waits = self.calls.count("wait")
        if self.exits_after is None or waits < self.exits_after:
            time.sleep(0.01)
            raise requests.exceptions.ReadTimeout("HTTP read timed out")
        self.on_exit()
        return {"StatusCode": self.status}

    def stats(self, *, stream: bool, one_shot: bool) -> dict[str, Any]:
        return {"memory_stats": {"max_usage": 42 * MiB, "usage": 10 * MiB}}

    def kill(self) -> None:
        self.calls.append("kill")

    def reload(self) -> None:
        self.attrs = {"State": {"OOMKilled": self.oom, "ExitCode": self.status}}

    def logs(self, *, stdout: bool, stderr: bool, stream: bool):
        return iter(io.BytesIO(self._logs).read1, b"") if stream else self._logs

    def remove(self, *, force: bool, v: bool) -> None:
        self.calls.append(("remove", force, v))


class FakeClient:
    """The two collections of ``docker.DockerClient`` that the backend uses."""

    def __init__(self, container: FakeContainer, image_config: dict[str, Any]) -> None:
        self.container, self.image_config = container, image_config
        self.run_kwargs: dict[str, Any] | None = None
        self.containers, self.images = self, self

    def get(self, reference: str):
        assert reference == IMAGE.reference
        return type("Image", (), {"attrs": {"Config": self.image_config}})

    def run(self, **kwargs: Any) -> FakeContainer:
        self.run_kwargs = kwargs
        return self.container


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    (tmp_path / "in").mkdir()
    (tmp_path / "out").mkdir()
    return tmp_path / "in", tmp_path / "out"


def test_completed_run_collects_outputs_and_removes_the_container(folders):
    input_dir, output_dir = folders
    container = FakeContainer(exits_after=2, logs=b"predicted 1 case\n")
    container.on_exit = lambda: (output_dir / "predictions.json").write_text('{"cases": []}')
    client = FakeClient(container, SAFE_CONFIG)

    result = DockerSandbox(client).run(IMAGE, input_dir, output_dir, Limits(wall_seconds=30))

    assert client.run_kwargs == container_kwargs(
        IMAGE, input_dir, output_dir, Limits(wall_seconds=30)
    )
    assert result.outcome == "completed"
    assert result.exit_code == 0
    assert [f.path for f in result.outputs] == ["predictions.json"]
    assert result.log == b"predicted 1 case\n"
    assert result.peak_ram_bytes == 42 * MiB
    assert "kill" not in container.calls
    assert container.calls[-1] == ("remove", True, True)


def test_run_past_its_deadline_is_killed_then_removed(folders):
    container = FakeContainer(exits_after=None)

    result = DockerSandbox(FakeClient(container, SAFE_CONFIG)).run(
        IMAGE, *folders, Limits(wall_seconds=0.2)
    )

    assert result.outcome == "timeout"
    assert result.exit_code == -9
    assert container.calls[-2:] == ["kill", ("remove", True, True)]


def test_oom_killed_container_is_out_of_memory(folders):
    container = FakeContainer(exits_after=1, status=137, oom=True)

    result = DockerSandbox(FakeClient(container, SAFE_CONFIG)).run(IMAGE, *folders, Limits())

    assert result.outcome == "out_of_memory"
    assert result.exit_code == 137


def test_container_log_is_capped(folders):
    container = FakeContainer(exits_after=1, logs=b"x" * 10_000)

    result = DockerSandbox(FakeClient(container, SAFE_CONFIG)).run(
        IMAGE, *folders, Limits(log_bytes=1000)
    )

    assert result.log == b"x" * 1000
    assert result.log_truncated


def test_unsafe_image_is_refused_before_any_container_starts(folders):
    client = FakeClient(FakeContainer(exits_after=1), {"User": "", "Env": ["LD_PRELOAD=/x"]})

    with pytest.raises(UnsafeImage) as refused:
        DockerSandbox(client).run(IMAGE, *folders, Limits())

    assert len(refused.value.problems) == 2
    assert client.run_kwargs is None


@pytest.fixture(scope="module")
def engine():
    import docker

    try:
        client = docker.from_env(timeout=30)
        client.ping()
    except Exception:
        pytest.skip("no Docker engine")
    return client


@pytest.mark.slow
def test_real_engine_runs_a_bundle_and_enforces_the_wall_clock(engine, tmp_path):
    """Needs an engine that can pull python:3.12-slim (or has it)."""
    engine.images.pull("python", tag="3.12-slim")
    runner, _ = engine.images.build(
        fileobj=io.BytesIO(b"FROM python:3.12-slim\nUSER 65534:65534\n"), rm=True
    )
    sandbox = DockerSandbox(engine, runner_image=ImageRef(runner.id))
    for name in ("well", "spin"):
        (tmp_path / name / "in").mkdir(parents=True)
        (tmp_path / name / "out").mkdir()
    (tmp_path / "well" / "in" / "cases.json").write_text('[{"case_id": "c001", "files": {}}]')

    well = sandbox.run(
        HOSTILE / "well_behaved",
        tmp_path / "well" / "in",
        tmp_path / "well" / "out",
        Limits(wall_seconds=60),
    )
    spin = sandbox.run(
        HOSTILE / "cpu_spin",
        tmp_path / "spin" / "in",
        tmp_path / "spin" / "out",
        Limits(wall_seconds=3),
    )

    assert well.outcome == "completed", well.log
    assert [f.path for f in well.outputs] == ["c001/mask.bin", "predictions.json"]
    assert spin.outcome == "timeout"
    assert engine.containers.list(all=True, filters={"label": "huiyan.sandbox=run"}) == []
