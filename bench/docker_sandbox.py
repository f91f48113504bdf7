"""Docker sandbox benchmark: start-up overhead, one baseline run and one submission end to end,
under runc and under gVisor's runsc, beside the process sandbox. Prints, asserts nothing.

    .venv/bin/python -m bench.docker_sandbox [--runs 10] [--cases 8]

Needs the engine and the images of deploy/docker-engine.sh. The submission end to end is
``bench.pipeline`` (one submission, embedded, track 7 baseline) run with HUIYAN_SANDBOX and
HUIYAN_DOCKER_RUNTIME set.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import docker

from scoring.baselines import bundle_path
from scoring.synth import make_dataset
from workers.sandbox import Limits, RunResult, Sandbox
from workers.sandbox.docker_backend import DockerSandbox
from workers.sandbox.images import LIGHT_RUNNER, STACK_RUNNER
from workers.sandbox.process import ProcessSandbox

RUNTIMES = ("runc", "runsc")


def median_seconds(action: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def one_run(sandbox: Sandbox, bundle: Path, data: Path, tmp: Path, limits: Limits) -> RunResult:
    output = Path(tempfile.mkdtemp(dir=tmp))
    try:
        return sandbox.run(bundle, data, output, limits)
    finally:
        shutil.rmtree(output, ignore_errors=True)


def submission_seconds(environment: dict[str, str]) -> str:
    """``bench.pipeline``'s time from submit to recorded score, for one submission."""
    printed = subprocess.run(
        [sys.executable, "-m", "bench.pipeline", "--submissions", "1"],
        env={**os.environ, **environment},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return re.search(r"submission to recorded score \(one\)\s+([\d.]+) s", printed).group(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--cases", type=int, default=8)
    args = parser.parse_args()
    client = docker.from_env(timeout=60)
    sandboxes: dict[str, Callable[[str], Sandbox]] = {
        "process": lambda runner: ProcessSandbox(),
        **{
            f"docker {runtime}": lambda runner, r=runtime: DockerSandbox(
                client, runner_image=runner, runtime=r
            )
            for runtime in RUNTIMES
        },
    }
    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(scratch)
        empty, data = tmp / "empty", tmp / "in"
        empty.mkdir()
        data.mkdir()
        (empty / "predict.py").write_text("pass\n")
        empty.chmod(0o755)
        testset = make_dataset(7, args.cases, tmp / "testset", seed=1)
        small = Limits(wall_seconds=60, memory_bytes=1 << 30)
        stack = Limits(wall_seconds=600, memory_bytes=4 << 30)
        bare = median_seconds(
            lambda: subprocess.run([sys.executable, str(empty / "predict.py")], check=True),
            args.runs,
        )
        print(
            f"cores {os.cpu_count()}; empty model, median of {args.runs}; bare python {bare:.3f} s"
        )
        print(
            f"{'sandbox':<14} {'empty model':>12} {'overhead':>9} {'baseline':>9} {'peak RAM':>9}"
        )
        for name, make in sandboxes.items():
            light = make(LIGHT_RUNNER)
            one_run(light, empty, data, tmp, small)  # warm the caches once
            sandboxed = median_seconds(
                lambda s=light: one_run(s, empty, data, tmp, small), args.runs
            )
            baseline = one_run(make(STACK_RUNNER), bundle_path(7), testset / "input", tmp, stack)
            assert baseline.outcome == "completed", baseline.log[-2000:]
            peak = (baseline.peak_ram_bytes or 0) / 2**20
            print(
                f"{name:<14} {sandboxed:>10.3f} s {sandboxed - bare:>7.3f} s "
                f"{baseline.wall_seconds:>7.1f} s {peak:>5.0f} MiB"
            )
    print("one submission end to end (bench.pipeline, track 7 baseline, 8 cases):")
    for name, environment in {
        "process": {"HUIYAN_SANDBOX": "process"},
        **{
            f"docker {r}": {"HUIYAN_SANDBOX": "docker", "HUIYAN_DOCKER_RUNTIME": r}
            for r in RUNTIMES
        },
    }.items():
        print(f"  {name:<14} {submission_seconds(environment):>6} s")


if __name__ == "__main__":
    main()
