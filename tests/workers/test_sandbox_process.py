"""Hostile bundles against the process backend: each must be contained, end with the right
outcome, and leave the calling process (this one) alive and well.

The bundles live in tests/workers/hostile/<name>/predict.py. They need bubblewrap with user
namespaces; where this host forbids them the module skips with bubblewrap's reason (under
CI=true it fails instead, as the database tests do: a skipped containment test would hide a
sandbox that contains nothing).
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import socket
import tempfile
import uuid
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from workers.sandbox.contract import Limits, MiB, RunResult, SandboxError
from workers.sandbox.process import ProcessSandbox

HOSTILE = Path(__file__).parent / "hostile"
SMALL = Limits(
    wall_seconds=5,
    cpu_seconds=10,
    memory_bytes=256 * MiB,
    tmp_bytes=16 * MiB,
    shm_bytes=16 * MiB,
    pids=64,
    open_files=256,
    output_bytes=64 * MiB,
    output_files=100,
    log_bytes=64 * 1024,
)

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def sandbox() -> ProcessSandbox:
    sandbox = ProcessSandbox()
    if sandbox.isolation_problem is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{sandbox.isolation_problem} (CI=true: containment tests may not skip)")
        pytest.skip(sandbox.isolation_problem)
    return sandbox


@dataclass
class Job:
    input_dir: Path
    output_dir: Path
    token: str  # planted in the input; lets us find the model's processes from outside

    def output(self, name: str) -> str:
        return (self.output_dir / name).read_text()


def make_job(folder: Path) -> Job:
    job = Job(folder / "input", folder / "output", f"hostile{uuid.uuid4().hex}")
    job.input_dir.mkdir()
    job.output_dir.mkdir()
    (job.input_dir / "cases.json").write_text('[{"case_id": "c001", "files": {}}]')
    (job.input_dir / "token.txt").write_text(job.token)
    return job


@pytest.fixture
def job(tmp_path: Path) -> Job:
    return make_job(tmp_path)


def run(sandbox: ProcessSandbox, bundle: str, job: Job, **limits: float) -> RunResult:
    return sandbox.run(HOSTILE / bundle, job.input_dir, job.output_dir, replace(SMALL, **limits))


def survivors(token: str) -> list[int]:
    """Host pids whose command line carries the token (the bundles re-exec with it)."""
    alive = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and token.encode() in (entry / "cmdline").read_bytes():
                alive.append(int(entry.name))
        except OSError:
            continue  # exited while we looked
    return alive


def test_well_behaved_bundle_completes_and_its_outputs_are_collected(sandbox, job):
    result = run(sandbox, "well_behaved", job)

    assert result.outcome == "completed", result.log
    assert result.exit_code == 0
    assert [f.path for f in result.outputs] == ["c001/mask.bin", "predictions.json"]
    mask = result.outputs[0]
    assert mask.size == 256
    assert mask.sha256 == hashlib.sha256(bytes(range(256))).hexdigest()
    assert json.loads(job.output("predictions.json"))["cases"][0]["case_id"] == "c001"
    assert b"as uid 65534" in result.log or os.geteuid() != 0
    assert result.peak_ram_bytes and result.peak_ram_bytes > 0
    assert result.peak_gpu_bytes is None
    assert result.warnings == ()


def test_fork_bomb_is_capped_and_leaves_no_process_behind(sandbox, job):
    result = run(sandbox, "fork_bomb", job, wall_seconds=3)

    assert result.outcome in ("timeout", "crashed")
    assert survivors(job.token) == []


def test_memory_bomb_is_killed_as_out_of_memory(sandbox, job):
    result = run(sandbox, "memory_bomb", job)

    assert result.outcome == "out_of_memory"
    assert result.peak_ram_bytes is not None
    assert SMALL.memory_bytes // 2 < result.peak_ram_bytes <= SMALL.memory_bytes


def test_cpu_spin_past_the_wall_clock_is_killed_as_timeout(sandbox, job):
    result = run(sandbox, "cpu_spin", job, wall_seconds=2)

    assert result.outcome == "timeout"
    assert result.exit_code == -9  # our SIGKILL: SIGTERM is ignored by the bundle


def test_cpu_time_limit_is_a_timeout_too(sandbox, job):
    result = run(sandbox, "cpu_spin", job, wall_seconds=30, cpu_seconds=1)

    assert result.outcome == "timeout"
    assert result.exit_code != -9  # SIGXCPU from the rlimit, not our wall clock


def test_setsid_escapee_dies_with_the_run(sandbox, job):
    result = run(sandbox, "setsid_escapee", job)

    assert result.outcome == "completed", result.log
    assert survivors(job.token) == []


def test_gigabyte_of_stdout_is_capped_without_filling_the_worker(sandbox, job):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    result = run(sandbox, "stdout_flood", job, wall_seconds=60)

    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    assert result.outcome == "completed", result.log[:200]
    assert result.log_truncated
    assert len(result.log) == SMALL.log_bytes
    assert after - before < 64 * MiB


def test_writes_outside_output_fail_and_leave_the_host_untouched(sandbox, job, tmp_path):
    host_folders = [tmp_path, tmp_path.parent, job.input_dir, HOSTILE / "write_outside"]
    (job.input_dir / "targets.json").write_text(json.dumps([str(f) for f in host_folders]))

    result = run(sandbox, "write_outside", job)

    assert result.outcome == "completed", result.log
    assert json.loads(job.output("written.json")) == []
    escaped = f"escaped-{job.token}"
    for folder in [*host_folders, *map(Path, ("/", "/etc", "/usr", "/root", "/tmp", "/dev"))]:
        assert not (folder / escaped).exists(), folder
    assert [f.path for f in result.outputs] == ["written.json"]


def test_filling_tmp_stops_at_the_tmpfs_size(sandbox, job):
    result = run(sandbox, "fill_tmp", job)

    assert result.outcome == "completed", result.log
    filled = json.loads(job.output("tmp.json"))
    assert filled["stopped_by"] == "No space left on device"
    assert 0 < filled["written"] <= SMALL.tmp_bytes


def test_network_is_unreachable(sandbox, job):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.setblocking(False)
        (job.input_dir / "port.txt").write_text(str(listener.getsockname()[1]))

        result = run(sandbox, "network", job)

        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody connected to the worker's port
    assert result.outcome == "completed", result.log
    reached = json.loads(job.output("network.json"))
    assert reached["worker_listener"] is not True
    assert reached["internet"] is not True
    assert "Temporary failure" in reached["dns"] or "not known" in reached["dns"]
    assert reached["interfaces"] == ["lo"]


def test_worker_environment_is_not_readable(sandbox, job, monkeypatch):
    secret = f"secret-{job.token}"
    monkeypatch.setenv("HUIYAN_SECRET", secret)

    result = run(sandbox, "read_environment", job)

    assert result.outcome == "completed", result.log
    found = job.output("environ.txt")
    assert "/proc/1/environ" in found  # the bundle did look
    assert secret not in found
    assert secret.encode() not in result.log


def test_symlink_planted_in_output_is_a_violation(sandbox, job):
    result = run(sandbox, "symlink_output", job)

    assert result.outcome == "sandbox_violation"
    assert result.violation is not None
    assert "predictions.json: symbolic link to '/etc/shadow'" in result.violation
    assert result.outputs == ()


@pytest.mark.slow
def test_the_workers_scientific_stack_is_importable_inside(sandbox, job):
    result = run(sandbox, "scientific_stack", job, wall_seconds=180, memory_bytes=4096 * MiB)

    assert result.outcome == "completed", result.log.decode(errors="replace")
    stack = json.loads(job.output("stack.json"))
    assert stack["versions"]["torch"].startswith("2.13")
    assert stack["voxels"] == 64 and stack["sum"] == 3.0


def test_without_bubblewrap_the_run_is_weaker_and_says_so():
    if not Path("/usr/bin/python3").exists():
        pytest.skip("no /usr/bin/python3 to run the fallback with")
    fallback = ProcessSandbox(bwrap=None, python=Path("/usr/bin/python3"), python_roots=())
    # no namespaces means no binds: the model's uid must reach the folders on the host itself
    with tempfile.TemporaryDirectory(prefix="huiyan-fallback-") as scratch:
        Path(scratch).chmod(0o755)
        job = make_job(Path(scratch))

        result = fallback.run(HOSTILE / "well_behaved", job.input_dir, job.output_dir, SMALL)

    assert result.outcome == "completed", result.log
    assert any("WITHOUT namespaces" in warning for warning in result.warnings)
    assert [f.path for f in result.outputs] == ["c001/mask.bin", "predictions.json"]


def test_without_bubblewrap_a_strict_sandbox_refuses(job):
    strict = ProcessSandbox(bwrap=None, allow_fallback=False)

    with pytest.raises(SandboxError, match="bubblewrap \\(bwrap\\) is not installed"):
        strict.run(HOSTILE / "well_behaved", job.input_dir, job.output_dir, SMALL)
    assert list(job.output_dir.iterdir()) == []


def test_bad_arguments_are_refused_before_anything_runs(sandbox, job):
    with pytest.raises(SandboxError, match="has no regular file predict.py"):
        sandbox.run(HOSTILE, job.input_dir, job.output_dir, SMALL)
    (job.output_dir / "stale.json").write_text("{}")
    with pytest.raises(SandboxError, match="must be empty"):
        run(sandbox, "well_behaved", job)


def test_a_python_environment_under_tmp_is_bound_again_above_the_models_tmpfs():
    """A checkout under /tmp (as CI may make) must not lose its venv under the model's /tmp."""
    from workers.sandbox.bwrap import Layout, bwrap_command

    venv = Path("/tmp/checkout/.venv")
    layout = Layout(
        bundle=Path("/srv/bundle"),
        input_dir=Path("/srv/in"),
        output_dir=Path("/srv/out"),
        python=venv / "bin" / "python",
        python_roots=(venv, Path("/opt/python")),
        tmp_bytes=MiB,
        shm_bytes=MiB,
        uid=65534,
        gid=65534,
        environment={},
    )
    argv = bwrap_command(layout, bwrap="bwrap", setpriv=None)
    model_stage = argv[argv.index("--unshare-all") :]
    tmpfs = model_stage.index("/tmp", model_stage.index("--tmpfs"))
    assert model_stage[tmpfs + 1 : tmpfs + 4] == ["--ro-bind", str(venv), str(venv)]
    assert "/opt/python" not in model_stage  # not under /tmp: the host view already has it
