"""Run a 3-D baseline model through the process sandbox on one GPU (or the CPU) and print
cases/s and peak memory. Prints, asserts nothing.

    bash bench/gpu_check.sh [--track 2] [--cases 8] [--size 128 128 64]

The model picks CUDA by itself when ``torch.cuda.is_available()``; the sandbox pins GPU 0 when
one exists and reads its peak memory through NVML.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from scoring.baselines import bundle_path
from scoring.synth import make_dataset
from workers.sandbox import Limits
from workers.sandbox.process import ProcessSandbox


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--track", type=int, default=2, choices=(1, 2, 3, 4, 5))
    parser.add_argument("--cases", type=int, default=8)
    args = parser.parse_args()
    gpu = "0" if torch.cuda.is_available() else None
    device = torch.cuda.get_device_name(0) if gpu else "CPU only"
    with tempfile.TemporaryDirectory() as tmp:
        data = make_dataset(args.track, args.cases, Path(tmp) / "data", seed=1)
        output = Path(tmp) / "output"
        output.mkdir()
        started = time.perf_counter()
        result = ProcessSandbox().run(
            bundle_path(args.track),
            data / "input",
            output,
            Limits(wall_seconds=1800, memory_bytes=32 << 30, gpu=gpu),
        )
        elapsed = time.perf_counter() - started
    print(f"device            {device}")
    print(f"track             {args.track}, {args.cases} cases")
    print(f"outcome           {result.outcome} (exit {result.exit_code})")
    print(f"wall              {elapsed:.1f} s, {args.cases / elapsed:.2f} cases/s")
    print(f"peak RAM          {(result.peak_ram_bytes or 0) / 2**20:.0f} MiB")
    gpu_peak = result.peak_gpu_bytes
    print(f"peak GPU memory   {'n/a' if gpu_peak is None else f'{gpu_peak / 2**20:.0f} MiB'}")
    for warning in result.warnings:
        print(f"warning           {warning}")


if __name__ == "__main__":
    main()
