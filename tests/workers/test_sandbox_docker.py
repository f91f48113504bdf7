"""The docker backend: the exact container configuration and the supervision of a run
(through a recording stand-in for the engine's client object), the image checks, and then the
hostile models against a real engine, under runc and under gVisor's runsc.

deploy/docker-engine.sh (run by ``make test``) starts the engine and builds the images from
Debian's archive. Where no engine answers, or it lacks a runtime, the real-engine tests skip;
under CI=true they fail instead (tests/support.py ``unavailable``).
"""

from __future__ import annotations

import json
import socket
import struct
import subprocess
import textwrap
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
import requests
from docker.models.containers import _create_container_args
from docker.types import DeviceRequest, LogConfig, Ulimit

from tests.support import unavailable
from tests.workers.test_sandbox_process import SMALL, make_job, run, survivors
from workers.sandbox.contract import ImageRef, Limits, MiB, SandboxError
from workers.sandbox.docker_backend import (
    AUTO,
    RUNSC_PIDS_HEADROOM,
    DockerSandbox,
    EngineFacts,
    choose_runtime,
    container_kwargs,
)
from workers.sandbox.images import (
    BASE_IMAGE,
    LIGHT_RUNNER,
    STACK_RUNNER,
    UnsafeImage,
    image_problems,
)

pytestmark = pytest.mark.timeout(300)  # a real-engine test may build a missing image first

HOSTILE = Path(__file__).parent / "hostile"
REPOSITORY = Path(__file__).resolve().parents[2]
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
        "environment": {  # the process backend's, less PATH, which the image keeps
            "HUIYAN_INPUT": "/input",
            "HUIYAN_OUTPUT": "/output",
            "HOME": "/tmp",
            "TMPDIR": "/tmp",
            "USER": "model",
            "LOGNAME": "model",
            "LANG": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONUNBUFFERED": "1",
            "MPLCONFIGDIR": "/tmp",
            "NVIDIA_VISIBLE_DEVICES": "3",
            "NVIDIA_DRIVER_CAPABILITIES": "compute,utility",
        },
        "log_config": LogConfig(type="none"),  # read from the attached stream, never stored
        "init": True,
        "ipc_mode": "private",
        "labels": {"huiyan.sandbox": "run"},
        "device_requests": [DeviceRequest(device_ids=["3"], capabilities=[["gpu"]])],
    }


def test_docker_py_turns_the_configuration_into_the_intended_engine_request(tmp_path):
    kwargs = container_kwargs(IMAGE, tmp_path / "in", tmp_path / "out", LIMITS, runtime="runsc")

    create = _create_container_args({**kwargs, "version": "1.45"})

    host = create["host_config"]
    assert host["NetworkMode"] == "none"
    assert host["ReadonlyRootfs"] is True
    assert host["CapDrop"] == ["ALL"]
    assert host["SecurityOpt"] == ["no-new-privileges"]
    assert host["Memory"] == host["MemorySwap"] == 8 * 1024 * MiB
    assert host["PidsLimit"] == 128 + RUNSC_PIDS_HEADROOM  # gVisor's own threads count too
    assert host["LogConfig"] == {"Type": "none", "Config": {}}
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


# --- the runtime ------------------------------------------------------------------------------

WITH_GVISOR = EngineFacts(frozenset({"runc", "runsc"}), cpus=2)
WITHOUT_GVISOR = EngineFacts(frozenset({"runc"}), cpus=2)


def test_auto_takes_gvisor_where_the_engine_offers_it_and_no_gpu_is_pinned():
    assert choose_runtime(AUTO, WITH_GVISOR, gpu=None) == "runsc"
    assert choose_runtime(AUTO, WITH_GVISOR, gpu="0") == "runc"  # no GPU pass-through here
    assert choose_runtime(AUTO, WITHOUT_GVISOR, gpu=None) == "runc"
    assert choose_runtime("runc", WITH_GVISOR, gpu=None) == "runc"
    assert choose_runtime(None, WITH_GVISOR, gpu=None) is None  # the engine's default


def test_a_runtime_asked_for_by_name_must_be_offered():
    with pytest.raises(SandboxError, match="offers no runtime 'runsc' \\(it offers runc\\)"):
        choose_runtime("runsc", WITHOUT_GVISOR, gpu=None)


def test_the_runtime_setting_is_auto_unless_named_and_checked():
    from ledger.settings import Settings, SettingsError

    assert Settings.from_env({}).docker_runtime == AUTO
    assert Settings.from_env({"HUIYAN_DOCKER_RUNTIME": "runc"}).docker_runtime == "runc"
    with pytest.raises(SettingsError, match="HUIYAN_DOCKER_RUNTIME must be auto, runc or runsc"):
        Settings.from_env({"HUIYAN_DOCKER_RUNTIME": "kata"})


# --- supervision, against a recording stand-in for the engine -----------------------------------


def frames(data: bytes) -> socket.socket:
    """The read end of an attached stream that carries ``data`` as stdout frames, then ends."""
    ours, theirs = socket.socketpair()

    def send() -> None:
        with theirs:
            for start in range(0, len(data), 4096):
                chunk = data[start : start + 4096]
                theirs.sendall(struct.pack(">BxxxL", 1, len(chunk)) + chunk)

    threading.Thread(target=send, daemon=True).start()
    return ours


class FakeContainer:
    """Records what the backend asks of a container; ``exits_after`` waits, or never."""

    id = "c0ffee"

    def __init__(
        self, *, exits_after: int | None, status: int = 0, oom: bool = False, logs: bytes = b""
    ) -> None:
        self.exits_after, self.status, self.oom, self.log_bytes = exits_after, status, oom, logs
        self.calls: list[Any] = []
        self.on_exit = lambda: None

    def start(self) -> None:
        self.calls.append("start")

    def wait(self, timeout: float) -> dict[str, int]:
        self.calls.append("wait")
        waits = self.calls.count("wait")
        if self.exits_after is None or waits < self.exits_after:
            time.sleep(0.01)
            raise requests.exceptions.ReadTimeout("HTTP read timed out")
        self.on_exit()
        return {"StatusCode": self.status}

    def stats(self, *, stream: bool, decode: bool):
        return iter([{"memory_stats": {"max_usage": 42 * MiB, "usage": 10 * MiB}}])

    def kill(self) -> None:
        self.calls.append("kill")

    def reload(self) -> None:
        self.attrs = {"State": {"OOMKilled": self.oom, "ExitCode": self.status}}

    def remove(self, *, force: bool, v: bool) -> None:
        self.calls.append(("remove", force, v))


class FakeClient:
    """The parts of ``docker.DockerClient`` that the backend uses."""

    def __init__(self, container: FakeContainer, image_config: dict[str, Any]) -> None:
        self.container, self.image_config = container, image_config
        self.create_kwargs: dict[str, Any] | None = None
        self.containers, self.images, self.api = self, self, self

    def info(self) -> dict[str, Any]:
        return {"Runtimes": {"runc": {}}, "NCPU": 2}

    def get(self, reference: str):
        assert reference == IMAGE.reference
        return type("Image", (), {"id": DIGEST, "attrs": {"Config": self.image_config}})

    def create(self, **kwargs: Any) -> FakeContainer:
        self.create_kwargs = kwargs
        return self.container

    def attach_socket(self, container_id: str, params: dict[str, int]) -> socket.socket:
        assert container_id == self.container.id and params["stream"] == 1
        self.container.calls.append("attach")
        return frames(self.container.log_bytes)


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

    # the inspected image by its id, on the runtime auto chose, with no more CPUs than the host
    pinned = ImageRef(DIGEST)
    limits = Limits(wall_seconds=30, cpus=2)
    assert client.create_kwargs == container_kwargs(
        pinned, input_dir, output_dir, limits, runtime="runc"
    )
    assert result.outcome == "completed"
    assert result.exit_code == 0
    assert [f.path for f in result.outputs] == ["predictions.json"]
    assert result.log == b"predicted 1 case\n"
    assert result.peak_ram_bytes == 42 * MiB
    assert "kill" not in container.calls
    assert container.calls[:2] == ["attach", "start"]  # no byte of the log can be missed
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
    assert result.peak_ram_bytes == Limits().memory_bytes  # killed because it reached it


def test_container_log_keeps_its_head_and_reads_the_rest(folders):
    container = FakeContainer(exits_after=1, logs=b"head" + b"x" * 1_000_000)

    result = DockerSandbox(FakeClient(container, SAFE_CONFIG)).run(
        IMAGE, *folders, Limits(log_bytes=1000)
    )

    assert result.log == b"head" + b"x" * 996
    assert result.log_truncated
    assert result.warnings == ()  # the stream was read to its end


def test_unsafe_image_is_refused_before_any_container_starts(folders):
    client = FakeClient(FakeContainer(exits_after=1), {"User": "", "Env": ["LD_PRELOAD=/x"]})

    with pytest.raises(UnsafeImage) as refused:
        DockerSandbox(client).run(IMAGE, *folders, Limits())

    assert len(refused.value.problems) == 2
    assert client.create_kwargs is None


def test_a_missing_runtime_is_refused_before_any_container_starts(folders):
    client = FakeClient(FakeContainer(exits_after=1), SAFE_CONFIG)

    with pytest.raises(SandboxError, match="offers no runtime 'runsc'"):
        DockerSandbox(client, runtime="runsc").run(IMAGE, *folders, Limits())

    assert client.create_kwargs is None


# --- a real engine ---------------------------------------------------------------------------
#
# Every test below runs once under runc and once under runsc (gVisor), with the small limits of
# the process backend's hostile tests. Those tests themselves run here again: imported, pytest
# collects them in this module, where ``sandbox`` is the docker backend and ``job`` also checks
# that no container and no gVisor process outlives the run. Where docker differs (a peak RAM
# sampled once a second; gVisor's fork bomb and RLIMIT_CPU), this module has its own version.

from tests.workers.test_sandbox_process import (  # noqa: E402, F401  (collected by pytest)
    test_cpu_spin_past_the_wall_clock_is_killed_as_timeout,
    test_filling_tmp_stops_at_the_tmpfs_size,
    test_gigabyte_of_stdout_is_capped_without_filling_the_worker,
    test_memory_bomb_is_killed_as_out_of_memory,
    test_network_is_unreachable,
    test_setsid_escapee_dies_with_the_run,
    test_symlink_planted_in_output_is_a_violation,
    test_worker_environment_is_not_readable,
    test_writes_outside_output_fail_and_leave_the_host_untouched,
)

RUNTIMES = ("runc", "runsc")


def real_engine():
    """A client of the engine at DOCKER_HOST (default /var/run/docker.sock)."""
    import docker

    try:
        client = docker.from_env(timeout=60)
        client.ping()
    except Exception as error:
        unavailable("a Docker engine (deploy/docker-engine.sh starts one)", error)
    return client


def local_image(engine, tag: str) -> ImageRef:
    """The image's id; deploy/sandbox-images.sh builds it first where it is missing (once per
    machine: the stack runner takes a few minutes)."""
    import docker

    try:
        return ImageRef(engine.images.get(tag).id)
    except docker.errors.ImageNotFound:
        pass
    target = {BASE_IMAGE: "base", LIGHT_RUNNER: "light", STACK_RUNNER: "stack"}[tag]
    script = REPOSITORY / "deploy" / "sandbox-images.sh"
    built = subprocess.run(["bash", str(script), target], capture_output=True, text=True)
    try:
        return ImageRef(engine.images.get(tag).id)
    except docker.errors.ImageNotFound as error:
        unavailable(f"the image {tag} ({built.stderr[-500:]})", error)


@pytest.fixture(scope="module")
def engine():
    return real_engine()


@pytest.fixture(scope="module", params=RUNTIMES)
def runtime(request, engine) -> str:
    offered = sorted(engine.info().get("Runtimes") or {})
    if request.param not in offered:
        unavailable(f"the {request.param} runtime", LookupError(f"the engine offers {offered}"))
    return request.param


@pytest.fixture(scope="module")
def sandbox(engine, runtime) -> DockerSandbox:
    return DockerSandbox(engine, runner_image=local_image(engine, LIGHT_RUNNER), runtime=runtime)


def left_behind(engine) -> list[Any]:
    return engine.containers.list(all=True, filters={"label": "huiyan.sandbox=run"})


def runsc_processes() -> set[int]:
    """Host pids of gVisor's sandbox and gofer processes (they carry no token of the model's)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            program = (entry / "cmdline").read_bytes().split(b"\0", 1)[0]
        except OSError:
            continue  # exited while we looked
        if Path(program.decode(errors="replace")).name.startswith("runsc"):
            found.add(int(entry.name))
    return found


@pytest.fixture
def job(tmp_path: Path, engine):
    """A job's folders; afterwards no container, model process or gVisor process is left."""
    before = runsc_processes()
    job = make_job(tmp_path)
    yield job
    assert left_behind(engine) == []
    assert survivors(job.token) == []
    assert runsc_processes() <= before


def test_well_behaved_bundle_completes_and_its_outputs_are_collected(sandbox, job):
    result = run(sandbox, "well_behaved", job)

    assert result.outcome == "completed", result.log
    assert result.exit_code == 0
    assert [f.path for f in result.outputs] == ["c001/mask.bin", "predictions.json"]
    assert json.loads(job.output("predictions.json"))["cases"][0]["case_id"] == "c001"
    assert result.log == b"predicted 1 cases as uid 65534\n"
    assert result.warnings == ()


def test_the_model_is_nobody_without_capabilities_on_the_kernel_of_its_runtime(
    sandbox, runtime, job
):
    result = run(sandbox, "identity", job)

    assert result.outcome == "completed", result.log
    seen = json.loads(job.output("identity.json"))
    assert (seen["uid"], seen["gid"], seen["groups"]) == (65534, 65534, [65534])
    assert seen["cap_effective"] == seen["cap_bounding"] == "0" * 16  # cap_drop ALL
    host_kernel = Path("/proc/version").read_text().strip()
    if runtime == "runsc":
        assert seen["proc_version"] != host_kernel
        assert "gVisor" in seen["dmesg"]  # the kernel it talks to is gVisor's, in user space
    else:
        assert seen["proc_version"] == host_kernel
        assert seen["no_new_privs"] == "1"
        assert seen["dmesg"] == "Operation not permitted"


def test_fork_bomb_is_capped_and_leaves_no_process_behind(sandbox, runtime, job):
    result = run(sandbox, "fork_bomb", job, wall_seconds=3)

    # runc: pids.max holds it until the wall clock. runsc: gVisor itself runs out first, of
    # threads at pids.max (the sandbox dies, exit 2) or of memory (OOM-killed)
    contained = ("timeout", "crashed") + (("out_of_memory",) if runtime == "runsc" else ())
    assert result.outcome in contained, result
    assert result.wall_seconds < 3 + 2
    # (the job fixture checks that no process of it, and no container, survived)


def test_cpu_time_limit_is_a_timeout_too(sandbox, runtime, job):
    wall_seconds = 4 if runtime == "runsc" else 30
    result = run(sandbox, "cpu_spin", job, wall_seconds=wall_seconds, cpu_seconds=1)

    assert result.outcome == "timeout"
    if runtime == "runsc":  # this gVisor does not enforce RLIMIT_CPU: the wall clock ends it
        assert result.exit_code == -9
    else:
        assert result.exit_code == 128 + 24  # SIGXCPU from the ulimit, as tini reports it
        assert result.wall_seconds < 10


@pytest.fixture(scope="module")
def model_image(engine, tmp_path_factory) -> ImageRef:
    """A team's image: the well-behaved bundle built on the base image, as a team would."""
    context = tmp_path_factory.mktemp("image")
    (context / "predict.py").write_bytes((HOSTILE / "well_behaved" / "predict.py").read_bytes())
    (context / "Dockerfile").write_text(
        f"FROM {BASE_IMAGE}\nCOPY predict.py /app/\nUSER 1000:1000\n"
        'WORKDIR /app\nCMD ["python3", "/app/predict.py"]\n'
    )
    local_image(engine, BASE_IMAGE)
    image, _ = engine.images.build(path=str(context), network_mode="none", rm=True)
    yield ImageRef(image.id)
    engine.images.remove(image.id, force=True)


def test_an_image_runs_its_own_entrypoint_as_its_own_user(engine, runtime, job, model_image):
    as_image = DockerSandbox(engine, runtime=runtime, uid=1000, gid=1000)

    result = as_image.run(model_image, job.input_dir, job.output_dir, SMALL)

    assert result.outcome == "completed", result.log
    assert result.log == b"predicted 1 cases as uid 1000\n"
    assert [f.path for f in result.outputs] == ["c001/mask.bin", "predictions.json"]


def test_a_root_image_is_refused_before_any_container_starts(engine, job):
    base = local_image(engine, BASE_IMAGE)  # made by mmdebstrap: no USER, so root

    with pytest.raises(UnsafeImage, match="no USER"):
        DockerSandbox(engine).run(base, job.input_dir, job.output_dir, SMALL)

    assert list(job.output_dir.iterdir()) == []


# --- the contest's stack and the production path (slow: the stack runner is 1.5 GB) -------------


STACK = {"wall_seconds": 300, "memory_bytes": 4096 * MiB, "tmp_bytes": 256 * MiB}


@pytest.fixture(scope="module")
def stack_runner(engine) -> ImageRef:
    return local_image(engine, STACK_RUNNER)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_the_track_baseline_runs_in_the_stack_runner(engine, runtime, stack_runner, tmp_path):
    from scoring.baselines import bundle_path
    from scoring.synth import make_dataset

    testset = make_dataset(7, 4, tmp_path / "testset", 0)
    output = tmp_path / "output"
    output.mkdir()
    baseline = DockerSandbox(engine, runner_image=stack_runner, runtime=runtime)

    result = baseline.run(bundle_path(7), testset / "input", output, replace(SMALL, **STACK))

    assert result.outcome == "completed", result.log.decode(errors="replace")
    cases = json.loads((testset / "input" / "cases.json").read_text())
    predicted = json.loads((output / "predictions.json").read_text())["cases"]
    assert [p["case_id"] for p in predicted] == [c["case_id"] for c in cases]
    # sampled while it ran: torch, MONAI and the networks alone take well over 100 MiB
    assert 100 * MiB < result.peak_ram_bytes < STACK["memory_bytes"]
    print(f"{runtime}: track 7 baseline, 4 cases, {result.wall_seconds:.1f} s")


IDENTITY_MODEL = """
    import json, os, runpy
    runpy.run_path("/bundle/identity.py")
    json.dump({"cases": []}, open(os.environ["HUIYAN_OUTPUT"] + "/predictions.json", "w"))
"""


def test_a_submission_runs_on_the_runtime_the_settings_name(
    engine, runtime, stack_runner, tmp_path
):
    """submit -> dispatcher -> sandbox_for(HUIYAN_SANDBOX=docker) -> the ledger's record."""
    from domain.submissions import Submissions
    from ledger.application import open_application
    from ledger.settings import Settings
    from tests.flows import Huiyan, ready_to_submit, submit

    huiyan = Huiyan(tmp_path / "home", f"sqlite:///{tmp_path / 'ledger.sqlite3'}")
    huiyan.env.update(HUIYAN_SANDBOX="docker", HUIYAN_DOCKER_RUNTIME=runtime)
    team = ready_to_submit(huiyan, tmp_path, cases=2)
    model = tmp_path / "model"
    model.mkdir()
    (model / "predict.py").write_text(textwrap.dedent(IDENTITY_MODEL))
    (model / "identity.py").write_bytes((HOSTILE / "identity" / "predict.py").read_bytes())
    ident = submit(huiyan, team, tmp_path, model=model)

    huiyan.ok("dispatcher", "--once")

    settings = Settings.from_env(huiyan.env)
    inference = open_application(Submissions, settings).submission(UUID(ident)).inference
    assert inference is not None and inference["sandbox_warnings"] == []
    seen = json.loads(
        (settings.home / "predictions" / inference["output_sha256"] / "identity.json").read_text()
    )
    assert seen["uid"] != 0 and seen["cap_effective"] == "0" * 16
    assert ("gVisor" in seen["dmesg"]) == (runtime == "runsc")
    assert left_behind(engine) == []
